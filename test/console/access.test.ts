import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { findAuditEvents } from '../../src/features/audit/repository.js';
import { findUserByLogin } from '../../src/features/users/repository.js';
import { createAdmin, createTestApp, passwordLogin, registerUser, type TestApp } from '../support/app.js';
import { consoleLogin, post } from './support.js';

/** Issue 15: APIs, roles and a client's per-API grants managed from the console. */
describe('console: APIs, roles and client grants', () => {
  let t: TestApp;
  let jar: Awaited<ReturnType<typeof consoleLogin>>['jar'];
  let csrf: string;
  const page = (url: string) => t.app.inject({ method: 'GET', url, headers: { cookie: jar.header() } });
  const ORDERS = 'https://orders.example';

  before(async () => {
    t = await createTestApp();
    await createAdmin(t, 'root');
    const login = await consoleLogin(t, 'root');
    jar = login.jar;
    csrf = login.csrf!;
  });
  after(() => t.close());

  let apiUrl: string;

  it('creates an API with scopes from the form, and lists it beside the built-in one', async () => {
    const res = await post(t, '/admin/console/apis', jar, {
      _csrf: csrf,
      identifier: ORDERS,
      name: 'Orders',
      scopes: 'orders:read Read orders\norders:write Place and change orders',
      access_token_ttl_seconds: '600',
      allow_offline_access: 'true',
    });
    assert.equal(res.statusCode, 303, res.body);
    apiUrl = res.headers.location!.replace(/\?.*$/, '');
    assert.match(apiUrl, /^\/admin\/console\/apis\/[0-9a-f-]{36}$/);
    const detail = await page(apiUrl);
    assert.match(detail.body, /orders:write<\/code><\/th><td>Place and change orders/);
    assert.match(detail.body, /600 s/);
    const list = await page('/admin/console/apis');
    assert.match(list.body, /<code>https:\/\/orders.example<\/code>/);
    assert.match(list.body, /\(built in\)/);
    const [event] = (await findAuditEvents(t.warden.db, { type: 'api.created', limit: 1 })).items;
    assert.equal((event!.details as { after: { identifier: string } }).after.identifier, ORDERS);
  });

  it('names the field when the form is wrong, and refuses a duplicate identifier', async () => {
    const bad = await post(t, '/admin/console/apis', jar, { _csrf: csrf, identifier: 'x', name: 'X', access_token_ttl_seconds: 'soon' });
    assert.equal(bad.statusCode, 422);
    assert.match(bad.body, /access_token_ttl_seconds: a whole number/);
    const dup = await post(t, '/admin/console/apis', jar, { _csrf: csrf, identifier: ORDERS, name: 'Again' });
    assert.equal(dup.statusCode, 409);
    assert.match(dup.body, /identifier: .*exists|an API with the identifier/);
  });

  it('adds a scope; removing one or deleting the API needs the confirmation box', async () => {
    assert.equal((await post(t, `${apiUrl}/scopes`, jar, { _csrf: csrf, name: 'orders:refund', description: 'Refund' })).statusCode, 303);
    assert.match((await page(apiUrl)).body, /orders:refund/);
    const unconfirmed = await post(t, `${apiUrl}/scopes/remove?scope=orders%3Arefund`, jar, { _csrf: csrf });
    assert.equal(unconfirmed.statusCode, 422);
    assert.match((await page(apiUrl)).body, /orders:refund/);
    assert.equal((await post(t, `${apiUrl}/scopes/remove?scope=orders%3Arefund`, jar, { _csrf: csrf, confirm: 'yes' })).statusCode, 303);
    assert.doesNotMatch((await page(apiUrl)).body, /orders:refund/);
    assert.equal((await post(t, `${apiUrl}/delete`, jar, { _csrf: csrf })).statusCode, 422);
    assert.ok(t.warden.catalog.byIdentifier(ORDERS), 'not deleted without confirmation');
  });

  it('refuses to remove a built-in scope of Warden\'s own API', async () => {
    const builtIn = t.warden.catalog.builtIn();
    const res = await post(t, `/admin/console/apis/${builtIn.id}/scopes/remove?scope=account`, jar, { _csrf: csrf, confirm: 'yes' });
    assert.equal(res.statusCode, 409);
    assert.ok(t.warden.catalog.builtIn().scopes.some((s) => s.name === 'account'));
  });

  it('creates a role, grants it orders:read from the checkboxes, assigns it to a user: their token carries it', async () => {
    assert.equal((await post(t, '/admin/console/roles', jar, { _csrf: csrf, name: 'clerk', description: 'Shop clerks' })).statusCode, 303);
    const orders = t.warden.catalog.byIdentifier(ORDERS)!;
    const rolePage = await page('/admin/console/roles/clerk');
    assert.match(rolePage.body, new RegExp(`value="${orders.id} orders:read"`));
    const saved = await post(t, '/admin/console/roles/clerk', jar, { _csrf: csrf, description: 'Shop clerks', perm: `${orders.id} orders:read` });
    assert.equal(saved.statusCode, 303, saved.body);
    assert.deepEqual(t.warden.accessAdmin.roleOut('clerk').permissions, [{ api: ORDERS, scope: 'orders:read' }]);

    await registerUser(t.app, 'carol');
    const carol = await findUserByLogin(t.warden.db, 'carol');
    const userPage = await page(`/admin/console/users/${carol!.id}`);
    assert.match(userPage.body, /value="clerk"/, 'defined roles are offered on the user page');
    const assigned = await post(t, `/admin/console/users/${carol!.id}/roles`, jar, { _csrf: csrf, roles: 'clerk' });
    assert.equal(assigned.statusCode, 303, assigned.body);
    const tokens = await passwordLogin(t.app, 'carol', undefined, { resource: ORDERS, scope: 'orders:read orders:write' });
    assert.equal(tokens.statusCode, 200, tokens.body);
    assert.equal(tokens.json().scope, 'orders:read');
  });

  it('refuses an unknown role on the user page', async () => {
    const carol = await findUserByLogin(t.warden.db, 'carol');
    const res = await post(t, `/admin/console/users/${carol!.id}/roles`, jar, { _csrf: csrf, roles: 'wizard' });
    assert.equal(res.statusCode, 422);
    assert.match(res.body, /no such role: wizard/);
  });

  it("edits a client's per-API grants", async () => {
    const client = await t.warden.clients.create(
      { client_name: 'Order service', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic', redirect_uris: [] },
      { ip: '127.0.0.1' },
    );
    const id = client.client.client_id;
    assert.match((await page('/admin/console/clients')).body, new RegExp(`/admin/console/clients/${id}/resources`));
    const orders = t.warden.catalog.byIdentifier(ORDERS)!;
    const res = await post(t, `/admin/console/clients/${id}/resources`, jar, { _csrf: csrf, grant: `${orders.id} orders:write` });
    assert.equal(res.statusCode, 303, res.body);
    assert.deepEqual((await t.warden.clients.get(id)).resources, { [ORDERS]: ['orders:write'] });
    assert.match((await page(`/admin/console/clients/${id}/resources`)).body, new RegExp(`value="${orders.id} orders:write" checked`));
  });

  it('deletes a held role only with the confirmation box, and the holder loses it', async () => {
    assert.equal((await post(t, '/admin/console/roles/clerk/delete', jar, { _csrf: csrf })).statusCode, 422);
    assert.ok(t.warden.catalog.role('clerk'));
    assert.equal((await post(t, '/admin/console/roles/clerk/delete', jar, { _csrf: csrf, confirm: 'yes' })).statusCode, 303);
    assert.equal(t.warden.catalog.role('clerk'), undefined);
    const carol = await t.warden.users.get((await findUserByLogin(t.warden.db, 'carol'))!.id);
    assert.ok(!carol.roles.includes('clerk'));
  });

  it('refuses a user without the admin role', async () => {
    await registerUser(t.app, 'dave');
    const login = await consoleLogin(t, 'dave');
    assert.notEqual(login.res.statusCode, 303);
    const res = await t.app.inject({ method: 'GET', url: '/admin/console/apis', headers: { cookie: login.jar.header() } });
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/admin/console/login');
  });
});
