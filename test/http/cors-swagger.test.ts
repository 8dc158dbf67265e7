import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { createTestApp, registerUser, requireService, STRONG_PASSWORD, type TestApp } from '../support/app.js';
import { ROOT } from '../support/process.js';

import { CHROMIUM, CHROMIUM_ARGS } from '../support/browser.js';
const SWAGGER = join(ROOT, 'node_modules/@fastify/swagger-ui/static');

/**
 * A FastAPI service's own /docs, on its own origin, whose OAuth2PasswordBearer points at Warden's /token:
 * the page FastAPI serves (Swagger UI with the document's password flow), here served by a plain server
 * from the same Swagger UI files. Its "Authorize" posts the username and password cross-origin, with
 * X-Requested-With; Warden lists the service's origin in CORS_ORIGINS and must let the browser read the
 * answer.
 */
describe("a service's own Swagger UI signing in at Warden (CORS_ORIGINS)", () => {
  const skip = requireService(existsSync(CHROMIUM), 'chromium at /usr/bin/chromium');
  let t: TestApp;
  let service: Server;
  let browser: Browser;
  let serviceUrl: string;

  before(async () => {
    if (skip.skip) return;
    service = createServer((req, res) => {
      const wardenUrl = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
      if (req.url === '/docs') {
        res.setHeader('content-type', 'text/html; charset=utf-8');
        return res.end(`<!doctype html><html><head><link rel="stylesheet" href="/swagger-ui.css"></head><body><div id="swagger-ui"></div>
<script src="/swagger-ui-bundle.js"></script><script>window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui' });</script></body></html>`);
      }
      if (req.url === '/openapi.json') {
        res.setHeader('content-type', 'application/json');
        // What FastAPI writes for OAuth2PasswordBearer(tokenUrl="<warden>/token").
        return res.end(
          JSON.stringify({
            openapi: '3.1.0',
            info: { title: 'Orders', version: '1' },
            paths: { '/orders': { get: { security: [{ OAuth2PasswordBearer: [] }], responses: { 200: { description: 'ok' } } } } },
            components: { securitySchemes: { OAuth2PasswordBearer: { type: 'oauth2', flows: { password: { scopes: {}, tokenUrl: `${wardenUrl}/token` } } } } },
          }),
        );
      }
      const file = { '/swagger-ui.css': 'swagger-ui.css', '/swagger-ui-bundle.js': 'swagger-ui-bundle.js' }[req.url ?? ''];
      if (!file) return res.writeHead(404).end();
      res.setHeader('content-type', `${file.endsWith('.css') ? 'text/css' : 'text/javascript'}; charset=utf-8`);
      res.end(readFileSync(join(SWAGGER, file)));
    });
    await new Promise<void>((r) => service.listen(0, '127.0.0.1', r));
    serviceUrl = `http://127.0.0.1:${(service.address() as { port: number }).port}`;
    t = await createTestApp({ env: { CORS_ORIGINS: serviceUrl } });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  after(async () => {
    if (skip.skip) return;
    await browser?.close();
    await t?.close();
    await new Promise((r) => service?.close(r));
  });

  it('"Authorize" gets a token from Warden across origins', skip, async () => {
    await registerUser(t.app, 'fastapidev');
    t.clock.set(Date.now());
    const page = await browser.newPage();
    const tokenRequests: Array<Record<string, string>> = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/token') && r.method() === 'POST') tokenRequests.push(r.headers());
    });
    await page.goto(`${serviceUrl}/docs`);
    await page.locator('button.authorize').first().click();
    const modal = page.locator('.dialog-ux .modal-ux');
    await modal.locator('#oauth_username').fill('fastapidev');
    await modal.locator('#oauth_password').fill(STRONG_PASSWORD);
    await modal.locator('.auth-container button.authorize').first().click();
    await modal.locator('button:has-text("Logout")').first().waitFor({ timeout: 15_000 });
    assert.equal(tokenRequests.length, 1);
    assert.equal(tokenRequests[0]!['x-requested-with'], 'XMLHttpRequest', 'Swagger UI sends X-Requested-With: the preflight must allow it');
    await page.close();
  });
});
