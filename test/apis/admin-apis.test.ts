import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bearer, createAdmin, createTestApp, registerUser, tokensFor, type TestApp } from '../support/app.js';

const ORDERS = 'https://orders.example';

/** Issue 15 items 1 and 2: API resources and roles as data, through /admin/apis and /admin/roles. */
describe('/admin/apis and /admin/roles', () => {
  let t: TestApp;
  let admin: string;
  let ordersId: string;
  const call = (method: string, url: string, payload?: unknown, token = admin) =>
    t.app.inject({ method: method as 'GET', url, headers: bearer(token), ...(payload !== undefined ? { payload: payload as object } : {}) });

  before(async () => {
    t = await createTestApp();
    admin = (await createAdmin(t)).access_token;
  });
  after(() => t.close());

  it("lists Warden's own API, built in, with its four scopes; it and its scopes cannot be deleted", async () => {
    const list = await call('GET', '/admin/apis');
    assert.equal(list.statusCode, 200);
    const own = list.json().items.find((a: { built_in: boolean }) => a.built_in);
    assert.deepEqual(
      [own.identifier, own.scopes.map((s: { name: string }) => s.name), own.access_token_ttl_seconds],
      ['warden', ['account', 'admin', 'items:read', 'items:write'], null],
    );
    const del = await call('DELETE', `/admin/apis/${own.id}`);
    assert.deepEqual([del.statusCode, del.json().code], [409, 'built_in_api']);
    const drop = await call('PATCH', `/admin/apis/${own.id}`, { scopes: [{ name: 'account' }] });
    assert.deepEqual([drop.statusCode, drop.json().errors], [422, [{ field: 'scopes', message: 'built-in scopes cannot be removed: admin items:read items:write' }]]);
    // An added scope is the admin's own and goes again.
    const added = await call('PATCH', `/admin/apis/${own.id}`, { scopes: [...own.scopes.map((s: { name: string }) => ({ name: s.name })), { name: 'reports:read', description: 'Reports' }] });
    assert.equal(added.statusCode, 200, added.body);
    assert.deepEqual(added.json().scopes.find((s: { name: string }) => s.name === 'account').description, own.scopes[0].description);
  });

  it('creates an API (409 on a taken identifier, 422 naming the field on a bad one) and reads it back', async () => {
    const created = await call('POST', '/admin/apis', { identifier: ORDERS, name: 'Orders', scopes: [{ name: 'orders:read', description: 'Read' }, { name: 'orders:write' }] });
    assert.equal(created.statusCode, 201, created.body);
    ordersId = created.json().id;
    assert.deepEqual(created.json().scopes, [
      { name: 'orders:read', description: 'Read', built_in: false },
      { name: 'orders:write', description: '', built_in: false },
    ]);
    assert.deepEqual([(await call('GET', `/admin/apis/${ordersId}`)).json().identifier], [ORDERS]);
    // Discovery's scopes_supported follows the registered APIs (OIDC's, Warden's own, then the others').
    const discovery = (await t.app.inject({ method: 'GET', url: '/.well-known/openid-configuration' })).json();
    assert.deepEqual(discovery.scopes_supported, ['openid', 'profile', 'email', 'offline_access', 'account', 'admin', 'items:read', 'items:write', 'reports:read', 'orders:read', 'orders:write']);
    const taken = await call('POST', '/admin/apis', { identifier: ORDERS, name: 'Again' });
    assert.deepEqual([taken.statusCode, taken.json().code], [409, 'api_exists']);
    const fragment = await call('POST', '/admin/apis', { identifier: 'https://x.example/#a', name: 'X' });
    assert.deepEqual([fragment.statusCode, fragment.json().errors], [422, [{ field: 'identifier', message: 'must not contain a fragment (RFC 8707 §2)' }]]);
    const oidc = await call('POST', '/admin/apis', { identifier: 'billing', name: 'Billing', scopes: [{ name: 'openid' }] });
    assert.deepEqual([oidc.statusCode, oidc.json().errors], [422, [{ field: 'scopes.0.name', message: '"openid" is an OpenID Connect scope' }]]);
  });

  it('creates a role from API permissions, assignable to users; unknown roles are refused naming the field', async () => {
    const bad = await call('POST', '/admin/roles', { name: 'clerk', permissions: [{ api: ORDERS, scope: 'orders:delete' }] });
    assert.deepEqual([bad.statusCode, bad.json().errors], [422, [{ field: 'permissions.0.scope', message: `the API "${ORDERS}" has no scope "orders:delete"` }]]);
    const role = await call('POST', '/admin/roles', { name: 'clerk', description: 'Shop clerk', permissions: [{ api: ORDERS, scope: 'orders:read' }] });
    assert.equal(role.statusCode, 201, role.body);
    assert.deepEqual(role.json().permissions, [{ api: ORDERS, scope: 'orders:read' }]);
    const u = await registerUser(t.app, 'carol');
    const set = await call('PATCH', `/admin/users/${u.id}`, { roles: ['clerk', 'user'] });
    assert.deepEqual([set.statusCode, set.json().roles], [200, ['clerk', 'user']]);
    const unknown = await call('PATCH', `/admin/users/${u.id}`, { roles: ['ghost'] });
    assert.deepEqual([unknown.statusCode, unknown.json().errors], [422, [{ field: 'roles', message: 'no such role: ghost' }]]);
    const mine = await t.app.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `grant_type=password&username=carol&password=${encodeURIComponent('correct horse battery staple')}&resource=${encodeURIComponent(ORDERS)}` });
    assert.equal(mine.json().scope, 'openid profile email offline_access orders:read');
  });

  it('deletes a held role only with ?force=true; the holders lose it at once; audited with before', async () => {
    const held = await call('DELETE', '/admin/roles/clerk');
    assert.deepEqual([held.statusCode, held.json().code], [409, 'role_in_use']);
    const carolToken = (await tokensFor(t.app, 'carol')).access_token;
    const forced = await call('DELETE', '/admin/roles/clerk?force=true');
    assert.equal(forced.statusCode, 204);
    const me = await t.app.inject({ url: '/users/me', headers: bearer(carolToken) });
    assert.deepEqual(me.json().roles, ['user']);
    const audit = await call('GET', '/admin/audit?type=role.deleted');
    const [event] = audit.json().items;
    assert.deepEqual([event.flagged, event.details], [true, { before: { description: 'Shop clerk', permissions: [{ api: ORDERS, scope: 'orders:read' }] }, holders: 1, forced: true }]);
    const builtIn = await call('DELETE', '/admin/roles/user?force=true');
    assert.deepEqual([builtIn.statusCode, builtIn.json().code], [409, 'built_in_role']);
  });

  it('removing a scope from an API removes it from every role; deleting the API removes the rest', async () => {
    await call('POST', '/admin/roles', { name: 'packer', permissions: [{ api: ORDERS, scope: 'orders:write' }, { api: ORDERS, scope: 'orders:read' }] });
    const patched = await call('PATCH', `/admin/apis/${ordersId}`, { scopes: [{ name: 'orders:read' }] });
    assert.equal(patched.statusCode, 200, patched.body);
    assert.deepEqual((await call('GET', '/admin/roles/packer')).json().permissions, [{ api: ORDERS, scope: 'orders:read' }]);
    assert.equal((await call('DELETE', `/admin/apis/${ordersId}`)).statusCode, 204);
    assert.deepEqual((await call('GET', '/admin/roles/packer')).json().permissions, []);
  });

  it('is for admins only: a user token with the user role is refused', async () => {
    const user = (await tokensFor(t.app, 'carol')).access_token;
    assert.equal((await call('GET', '/admin/apis', undefined, user)).statusCode, 403);
    assert.equal((await call('GET', '/admin/roles', undefined, user)).statusCode, 403);
  });
});
