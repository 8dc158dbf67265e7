import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bearer, createAdmin, createTestApp, passwordLogin, registerUser, tokensFor, type TestApp } from '../support/app.js';

const EXAMPLE_PATHS = ['/secure-data', '/admin-only', '/items', '/items/{id}'];
const AN_ITEM = '/items/00000000-0000-4000-8000-00000000abcd';

async function openapi(t: TestApp) {
  const res = await t.app.inject({ method: 'GET', url: '/openapi.json' });
  assert.equal(res.statusCode, 200);
  return res.json() as {
    paths: Record<string, unknown>;
    tags: Array<{ name: string }>;
    components: { securitySchemes: { OAuth2PasswordBearer: { flows: { password: { scopes: Record<string, string> } } } } };
  };
}

async function scopesSupported(t: TestApp): Promise<string[]> {
  const res = await t.app.inject({ method: 'GET', url: '/.well-known/openid-configuration' });
  assert.equal(res.statusCode, 200);
  return res.json().scopes_supported;
}

describe('EXAMPLES=enabled (the default): the seeds walkthrough', () => {
  let t: TestApp;
  let user: string;
  let admin: string;
  before(async () => {
    t = await createTestApp();
    await registerUser(t.app, 'alice');
    user = (await tokensFor(t.app, 'alice')).access_token;
    admin = (await createAdmin(t)).access_token;
  });
  after(() => t.close());

  it('answers /secure-data: 401 without a token, 200 for a user', async () => {
    assert.equal((await t.app.inject({ method: 'GET', url: '/secure-data' })).statusCode, 401);
    const res = await t.app.inject({ method: 'GET', url: '/secure-data', headers: bearer(user) });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { message: 'This is protected data', user: 'alice' });
  });

  it('answers /admin-only: 401 without a token, 403 for a user, 200 for an admin', async () => {
    assert.equal((await t.app.inject({ method: 'GET', url: '/admin-only' })).statusCode, 401);
    assert.equal((await t.app.inject({ method: 'GET', url: '/admin-only', headers: bearer(user) })).statusCode, 403);
    const res = await t.app.inject({ method: 'GET', url: '/admin-only', headers: bearer(admin) });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { message: 'Admin access granted' });
  });

  it('answers the items API: 401 without a token, 200 and 201 with one', async () => {
    assert.equal((await t.app.inject({ method: 'GET', url: '/items' })).statusCode, 401);
    assert.equal((await t.app.inject({ method: 'GET', url: '/items', headers: bearer(user) })).statusCode, 200);
    assert.equal((await t.app.inject({ method: 'POST', url: '/items', headers: bearer(user), payload: { title: 'one' } })).statusCode, 201);
  });

  it('grants the items scopes by default and lists them in discovery and the OpenAPI document', async () => {
    const login = await tokensFor(t.app, 'alice');
    assert.equal(login.scope, 'openid profile email offline_access account items:read items:write');
    const supported = await scopesSupported(t);
    assert.ok(supported.includes('items:read') && supported.includes('items:write'), supported.join(' '));
    const spec = await openapi(t);
    for (const p of EXAMPLE_PATHS) assert.ok(p in spec.paths, p);
    assert.deepEqual(
      spec.tags.map((x) => x.name).filter((n) => n === 'items' || n === 'examples'),
      ['items', 'examples'],
    );
    const flowScopes = Object.keys(spec.components.securitySchemes.OAuth2PasswordBearer.flows.password.scopes);
    assert.ok(flowScopes.includes('items:read') && flowScopes.includes('items:write'));
  });
});

describe('EXAMPLES=disabled: no demo routes, no demo scopes', () => {
  let t: TestApp;
  let user: string;
  let admin: string;
  before(async () => {
    t = await createTestApp({ env: { EXAMPLES: 'disabled' } });
    await registerUser(t.app, 'alice');
    user = (await tokensFor(t.app, 'alice')).access_token;
    admin = (await createAdmin(t)).access_token;
  });
  after(() => t.close());

  it('answers 404 on every example route, with or without a token, like a path that never existed', async () => {
    const unknown = await t.app.inject({ method: 'GET', url: '/no-such-route' });
    assert.equal(unknown.statusCode, 404);
    const requests = [
      { method: 'GET', url: '/secure-data' },
      { method: 'GET', url: '/admin-only' },
      { method: 'GET', url: '/items' },
      { method: 'POST', url: '/items', payload: { title: 'x' } },
      { method: 'GET', url: AN_ITEM },
      { method: 'PATCH', url: AN_ITEM, payload: { title: 'x' } },
      { method: 'DELETE', url: AN_ITEM },
    ] as const;
    for (const r of requests) {
      for (const headers of [{}, bearer(user), bearer(admin)]) {
        const res = await t.app.inject({ ...r, headers });
        assert.equal(res.statusCode, 404, `${r.method} ${r.url}`);
        assert.equal(res.json().code, unknown.json().code, `${r.method} ${r.url}`);
      }
    }
  });

  it('leaves the examples, their tags and their scopes out of the OpenAPI document', async () => {
    const spec = await openapi(t);
    for (const p of EXAMPLE_PATHS) assert.equal(p in spec.paths, false, p);
    assert.ok('/users/me' in spec.paths);
    const tags = spec.tags.map((x) => x.name);
    assert.equal(tags.includes('items') || tags.includes('examples'), false, tags.join(' '));
    assert.ok(tags.includes('oauth') && tags.includes('admin'));
    const flowScopes = Object.keys(spec.components.securitySchemes.OAuth2PasswordBearer.flows.password.scopes);
    assert.deepEqual(flowScopes, ['openid', 'profile', 'email', 'offline_access', 'account', 'admin']);
  });

  it('leaves the items scopes out of discovery', async () => {
    assert.deepEqual(await scopesSupported(t), ['openid', 'profile', 'email', 'offline_access', 'account', 'admin']);
  });

  it('still issues tokens asked without those scopes; the default grant no longer carries them', async () => {
    const login = await tokensFor(t.app, 'alice');
    assert.equal(login.scope, 'openid profile email offline_access account');
    const me = await t.app.inject({ method: 'GET', url: '/users/me', headers: bearer(login.access_token) });
    assert.equal(me.statusCode, 200);
    const asked = await passwordLogin(t.app, 'alice', undefined, { scope: 'openid account' });
    assert.equal(asked.statusCode, 200);
    assert.equal(asked.json().scope, 'openid account');
    // The refresh token of the default grant still rotates.
    const refreshed = await t.app.inject({
      method: 'POST',
      url: '/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: login.refresh_token }).toString(),
    });
    assert.equal(refreshed.statusCode, 200);
    assert.equal(refreshed.json().scope, 'openid profile email offline_access account');
  });

  it('refuses a request for an items scope as unknown (invalid_scope)', async () => {
    const res = await passwordLogin(t.app, 'alice', undefined, { scope: 'openid items:read' });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error, 'invalid_scope');
    assert.match(res.json().error_description, /items:read/);
  });

  it("keeps the built-in API's rows: the admin API still shows the items scopes (data, not routes)", async () => {
    const res = await t.app.inject({ method: 'GET', url: '/admin/apis', headers: bearer(admin) });
    assert.equal(res.statusCode, 200);
    const builtIn = res.json().items.find((a: { built_in: boolean }) => a.built_in);
    const names = builtIn.scopes.map((s: { name: string }) => s.name);
    assert.ok(names.includes('items:read') && names.includes('items:write'), names.join(' '));
  });
});
