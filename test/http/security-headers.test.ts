import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
// The expected values are written out here, not imported: a test that compares the answer with the
// implementation's own constants passes whatever those constants say (issue 14).
const API_CSP = "default-src 'none'; frame-ancestors 'none'";
const PAGE_CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
// A sign-in page with the passkey button: this server's own script files, and fetch to this server only.
const SCRIPT_PAGE_CSP = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const HSTS = 'max-age=63072000; includeSubDomains';
const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'cross-origin-opener-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
};
import { createTestApp, registerUser, tokensFor, bearer, type TestApp } from '../support/app.js';

type Headers = Record<string, string | string[] | number | undefined>;

function assertBaseline(h: Headers, what: string) {
  assert.equal(h['x-content-type-options'], 'nosniff', `${what}: nosniff`);
  assert.equal(h['x-frame-options'], 'DENY', `${what}: X-Frame-Options`);
  assert.equal(h['referrer-policy'], 'no-referrer', `${what}: Referrer-Policy`);
  const csp = String(h['content-security-policy']);
  assert.match(csp, /frame-ancestors 'none'/, `${what}: CSP frame-ancestors`);
  assert.match(csp, /default-src 'none'/, `${what}: CSP default-src`);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, `${what}: no inline script`);
  assert.equal(h['x-powered-by'], undefined, `${what}: X-Powered-By`);
  assert.equal(h['server'], undefined, `${what}: Server`);
}

describe('security headers', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  it('are on a normal answer, a 404, a validation error, a 401 and a thrown error', async () => {
    const cases = [
      { what: 'healthz', req: { method: 'GET' as const, url: '/healthz' }, status: 200 },
      { what: '404', req: { method: 'GET' as const, url: '/no/such/route' }, status: 404 },
      { what: '422', req: { method: 'POST' as const, url: '/users', payload: { username: 'x' } }, status: 422 },
      { what: '401', req: { method: 'GET' as const, url: '/users/me' }, status: 401 },
      { what: 'malformed json', req: { method: 'POST' as const, url: '/users', headers: { 'content-type': 'application/json' }, payload: '{' }, status: 400 },
      { what: 'oauth error', req: { method: 'POST' as const, url: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=nope' }, status: 400 },
    ];
    for (const c of cases) {
      const res = await t.app.inject(c.req);
      assert.equal(res.statusCode, c.status, c.what);
      assertBaseline(res.headers, c.what);
    }
  });

  it('gives a JSON answer the API policy (nothing may load) and a request id, without the page-only headers', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(res.headers['content-security-policy'], API_CSP);
    assert.equal(res.headers['cross-origin-resource-policy'], 'same-origin');
    assert.match(String(res.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    for (const name of Object.keys(PAGE_HEADERS)) assert.equal(res.headers[name], undefined, name);
  });

  it('gives every HTML page the strict page CSP and the page headers (account, console, items, docs)', async () => {
    const norm = (s: string) => s.split(';').map((p) => p.trim()).filter(Boolean).sort();
    const u = await registerUser(t.app, 'pages');
    const { access_token } = await tokensFor(t.app, 'pages');
    const item = await t.app.inject({ method: 'POST', url: '/items', headers: bearer(access_token), payload: { title: 'a page' } });
    assert.equal(item.statusCode, 201, item.body);
    const pages = [
      { url: '/password/forgot', csp: PAGE_CSP },
      { url: '/admin/console/login', csp: SCRIPT_PAGE_CSP },
      { url: `/items/${item.json().id}`, csp: PAGE_CSP, headers: { ...bearer(access_token), accept: 'text/html' } },
      { url: '/docs/', csp: DOCS_CSP },
    ];
    for (const p of pages) {
      const res = await t.app.inject({ method: 'GET', url: p.url, headers: p.headers });
      assert.equal(res.statusCode, 200, `${p.url}: ${res.statusCode}`);
      assert.match(String(res.headers['content-type']), /^text\/html/, p.url);
      assert.deepEqual(norm(String(res.headers['content-security-policy'])), norm(p.csp), p.url);
      for (const [name, value] of Object.entries(PAGE_HEADERS)) assert.equal(res.headers[name], value, `${p.url}: ${name}`);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', p.url);
      assert.equal(res.headers['x-frame-options'], 'DENY', p.url);
      // Pages whose form posts must carry an Origin use same-origin; nothing is passed to other sites.
      assert.match(String(res.headers['referrer-policy']), /^(no-referrer|same-origin)$/, p.url);
      assert.doesNotMatch(String(res.headers['content-security-policy']), /unsafe-inline|unsafe-eval/, p.url);
    }
    assert.ok(u.id);
  });

  it('defaults Cache-Control to no-store, and keeps it on token and personal-data answers', async () => {
    const health = await t.app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(health.headers['cache-control'], 'no-store');
    await registerUser(t.app, 'hdr');
    const tokens = await tokensFor(t.app, 'hdr');
    const me = await t.app.inject({ method: 'GET', url: '/users/me', headers: bearer(tokens.access_token) });
    assert.equal(me.statusCode, 200);
    assert.equal(me.headers['cache-control'], 'no-store');
    const tok = await t.app.inject({
      method: 'POST',
      url: '/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `grant_type=refresh_token&refresh_token=${encodeURIComponent(tokens.refresh_token)}`,
    });
    assert.equal(tok.statusCode, 200);
    assert.equal(tok.headers['cache-control'], 'no-store');
  });

  it('sends no HSTS over plain HTTP, and ignores X-Forwarded-Proto from an untrusted peer', async () => {
    const plain = await t.app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(plain.headers['strict-transport-security'], undefined);
    const spoofed = await t.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-forwarded-proto': 'https' }, remoteAddress: '203.0.113.9' });
    assert.equal(spoofed.headers['strict-transport-security'], undefined);
  });

  it('lets a route replace the CSP through its config (the docs UI needs its own script files)', async () => {
    const { buildApp } = await import('../../src/app/app.js');
    const app = await buildApp(t.config, { warden: t.warden });
    app.get('/relaxed', { config: { access: { kind: 'public' }, csp: "default-src 'self'; frame-ancestors 'none'" } }, async () => ({ ok: true }));
    await app.ready();
    try {
      const res = await app.inject({ method: 'GET', url: '/relaxed' });
      assert.equal(res.headers['content-security-policy'], "default-src 'self'; frame-ancestors 'none'");
      assert.equal(res.headers['x-frame-options'], 'DENY');
    } finally {
      await app.close();
    }
  });
});

describe('HSTS behind a trusted TLS-terminating proxy', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ env: { TRUSTED_PROXIES: '10.0.0.1' } });
  });
  after(() => t.close());

  it('is sent when the trusted proxy says X-Forwarded-Proto: https', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-forwarded-proto': 'https' }, remoteAddress: '10.0.0.1' });
    assert.equal(res.headers['strict-transport-security'], HSTS);
    const err = await t.app.inject({ method: 'GET', url: '/nope', headers: { 'x-forwarded-proto': 'https' }, remoteAddress: '10.0.0.1' });
    assert.equal(err.statusCode, 404);
    assert.equal(err.headers['strict-transport-security'], HSTS);
  });

  it('is not sent when another peer says the same', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-forwarded-proto': 'https' }, remoteAddress: '10.0.0.2' });
    assert.equal(res.headers['strict-transport-security'], undefined);
  });
});
