import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../../src/kernel/config/load.js';
import { createTestApp, testConfig, type TestApp } from '../support/app.js';

const preflight = (origin: string, method = 'POST') => ({
  method: 'OPTIONS' as const,
  url: '/token',
  headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'content-type' },
});

describe('CORS off by default', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  it('sends no CORS header to any origin and answers no preflight', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz', headers: { origin: 'https://app.example.com' } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    const pre = await t.app.inject(preflight('https://app.example.com'));
    assert.equal(pre.headers['access-control-allow-origin'], undefined);
    assert.notEqual(pre.statusCode, 204);
  });
});

describe('CORS with an allowlist and credentials', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ env: { CORS_ORIGINS: 'https://app.example.com, https://admin.example.com', CORS_CREDENTIALS: 'true' } });
  });
  after(() => t.close());

  it('answers a listed origin with that exact origin, credentials and Vary: Origin', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz', headers: { origin: 'https://app.example.com' } });
    assert.equal(res.headers['access-control-allow-origin'], 'https://app.example.com');
    assert.equal(res.headers['access-control-allow-credentials'], 'true');
    assert.match(String(res.headers.vary), /origin/i);
    assert.match(String(res.headers['access-control-expose-headers']), /RateLimit-Remaining/);
  });

  it('answers a listed origin preflight with 204, the methods and the allowed headers', async () => {
    const res = await t.app.inject(preflight('https://admin.example.com'));
    assert.equal(res.statusCode, 204);
    assert.equal(res.headers['access-control-allow-origin'], 'https://admin.example.com');
    assert.match(String(res.headers['access-control-allow-methods']), /POST/);
    assert.match(String(res.headers['access-control-allow-headers']), /Content-Type/);
    assert.equal(res.headers['access-control-allow-credentials'], 'true');
    // Security headers even on the short-circuited preflight answer.
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
  });

  // A FastAPI service's own Swagger UI (its /docs, on its origin) logging in against Warden's /token:
  // the "Authorize" dialog posts a form with X-Requested-With (swagger-ui's oauth2 password flow).
  it("answers the preflight of Swagger UI's token request (X-Requested-With) from a listed origin", async () => {
    const res = await t.app.inject({
      method: 'OPTIONS',
      url: '/token',
      headers: {
        origin: 'https://app.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'accept,content-type,x-requested-with',
      },
    });
    assert.equal(res.statusCode, 204);
    assert.equal(res.headers['access-control-allow-origin'], 'https://app.example.com');
    const allowed = String(res.headers['access-control-allow-headers']).toLowerCase().split(/,\s*/);
    for (const h of ['accept', 'content-type', 'x-requested-with']) assert.ok(allowed.includes(h), `${h} is allowed: ${allowed.join()}`);
  });

  for (const origin of ['https://evil.example.com', 'https://app.example.com.evil.com', 'https://evilapp.example.com', 'http://app.example.com', 'null']) {
    it(`gives ${origin} no Access-Control-Allow-Origin and no credentials (exact match only)`, async () => {
      const res = await t.app.inject({ method: 'GET', url: '/healthz', headers: { origin } });
      assert.equal(res.headers['access-control-allow-origin'], undefined);
      assert.equal(res.headers['access-control-allow-credentials'], undefined);
      const pre = await t.app.inject(preflight(origin));
      assert.equal(pre.headers['access-control-allow-origin'], undefined);
      assert.equal(pre.headers['access-control-allow-credentials'], undefined);
      assert.equal(pre.headers['access-control-allow-methods'], undefined);
    });
  }

  it('adds CORS headers to error answers for a listed origin (so the app can read the error)', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/users/me', headers: { origin: 'https://app.example.com' } });
    assert.equal(res.statusCode, 401);
    assert.equal(res.headers['access-control-allow-origin'], 'https://app.example.com');
  });
});

describe('CORS "*" without credentials', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ env: { CORS_ORIGINS: '*' } });
  });
  after(() => t.close());

  it('answers "*" and never Allow-Credentials', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz', headers: { origin: 'https://any.example.org' } });
    assert.equal(res.headers['access-control-allow-origin'], '*');
    assert.equal(res.headers['access-control-allow-credentials'], undefined);
  });
});

describe('CORS settings refused at start', () => {
  it('"*" with CORS_CREDENTIALS=true', () => {
    assert.throws(() => testConfig({ CORS_ORIGINS: '*', CORS_CREDENTIALS: 'true' }), (e: unknown) => e instanceof ConfigError && e.variable === 'CORS_ORIGINS');
  });
  it('"*" in production even without credentials', () => {
    assert.throws(
      () => testConfig({ NODE_ENV: 'production', CORS_ORIGINS: '*', ISSUER: 'https://id.example.com' }),
      (e: unknown) => e instanceof ConfigError && e.variable === 'CORS_ORIGINS',
    );
  });
  it('an entry that is not an origin (a path, a wildcard subdomain)', () => {
    for (const bad of ['https://app.example.com/', 'https://*.example.com', 'app.example.com']) {
      assert.throws(() => testConfig({ CORS_ORIGINS: bad }), (e: unknown) => e instanceof ConfigError && e.variable === 'CORS_ORIGINS', bad);
    }
  });
});
