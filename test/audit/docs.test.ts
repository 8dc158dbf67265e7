import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { createTestApp, registerUser, requireService, STRONG_PASSWORD, type TestApp } from '../support/app.js';

import { CHROMIUM, CHROMIUM_ARGS } from '../support/browser.js';

describe('interactive docs', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  it('serves an OpenAPI 3 document whose protected routes accept the OAuth2 password flow against /token', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(res.statusCode, 200);
    const spec = res.json();
    assert.match(spec.openapi, /^3\./);
    assert.deepEqual(spec.components.securitySchemes.OAuth2PasswordBearer.flows.password.tokenUrl, '/token');
    assert.equal(spec.components.securitySchemes.bearer.scheme, 'bearer');
    assert.deepEqual(spec.paths['/users/me'].get.security, [{ OAuth2PasswordBearer: ['account'] }, { bearer: [] }]);
    assert.ok(spec.paths['/admin/audit'].get.parameters.some((p: { name: string }) => p.name === 'cursor'));
    // Public routes stay public; the console's HTML routes are not API.
    assert.equal(spec.paths['/healthz'].get.security, undefined);
    assert.equal(Object.keys(spec.paths).some((p) => p === '/admin' || p.startsWith('/admin/console')), false);
  });

  it('serves Swagger UI under its own strict CSP (no inline script anywhere)', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/docs/' });
    assert.equal(res.statusCode, 200);
    const csp = res.headers['content-security-policy'] as string;
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.doesNotMatch(res.body, /<script>(?!\s*<\/script>)/);
    // Elsewhere the strict API/page policy still applies.
    const api = await t.app.inject({ method: 'GET', url: '/healthz' });
    assert.match(api.headers['content-security-policy'] as string, /default-src 'none'/);
    assert.doesNotMatch(api.headers['content-security-policy'] as string, /script-src 'self'/);
  });

  it('DOCS=disabled turns off both /docs and /openapi.json', async () => {
    const off = await createTestApp({ env: { DOCS: 'disabled' } });
    try {
      assert.equal((await off.app.inject({ method: 'GET', url: '/openapi.json' })).statusCode, 404);
      assert.equal((await off.app.inject({ method: 'GET', url: '/docs/' })).statusCode, 404);
      assert.equal((await off.app.inject({ method: 'GET', url: '/docs' })).statusCode, 404);
    } finally {
      await off.close();
    }
  });
});

describe('Swagger UI "Authorize" in a real browser', () => {
  const skip = requireService(existsSync(CHROMIUM), 'chromium at /usr/bin/chromium');
  let t: TestApp;
  let browser: Browser;
  let base: string;
  before(async () => {
    if (skip.skip) return;
    t = await createTestApp();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  after(async () => {
    if (skip.skip) return;
    await browser.close();
    await t.close();
  });

  it('completes the password flow with username and password, then "Try it out" on /users/me answers 200', skip, async () => {
    await registerUser(t.app, 'swaggeruser');
    // Swagger UI signs in with the real clock; the test clock must not make the token look expired.
    t.clock.set(Date.now());
    const page = await browser.newPage();
    const cspErrors: string[] = [];
    page.on('console', (m) => {
      // The bundle probes one inline style at load (refused, with no visible effect); a refused
      // script, connection or image would break the UI, so those must not happen.
      if (/Content Security Policy/i.test(m.text()) && !/Applying inline style/.test(m.text())) cspErrors.push(m.text());
    });
    await page.goto(`${base}/docs/`);
    await page.locator('button.authorize').first().click();
    const modal = page.locator('.dialog-ux .modal-ux');
    await modal.locator('#oauth_username').fill('swaggeruser');
    await modal.locator('#oauth_password').fill(STRONG_PASSWORD);
    await modal.locator('.auth-container').filter({ has: page.locator('#oauth_username') }).locator('button.authorize').click();
    await modal.locator('button:has-text("Logout")').first().waitFor();
    assert.equal(await modal.locator('button:has-text("Logout")').count() > 0, true, 'authorized');
    await modal.locator('button.close-modal').click();

    const op = page.locator('.opblock-get').filter({ has: page.locator('[data-path="/users/me"]') }).first();
    await op.locator('.opblock-summary').first().click();
    await op.locator('button.try-out__btn').click();
    await op.locator('button.execute').click();
    const status = op.locator('.live-responses-table .response .response-col_status').first();
    await status.waitFor();
    assert.equal((await status.innerText()).trim(), '200');
    assert.match(await op.locator('.live-responses-table .microlight, .live-responses-table pre').first().innerText(), /swaggeruser/);
    assert.deepEqual(cspErrors, []);
    await page.close();
  });
});
