import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { findAuditEvents } from '../../src/features/audit/repository.js';
import { identityProviders } from '../../src/features/federation/tables.js';
import { createAdmin, createTestApp, type TestApp } from '../support/app.js';
import { consoleLogin, post } from './support.js';

/** Issue 19: upstream sign-in providers are configured from the console too (same service as the admin API). */
describe('console: sign-in providers', () => {
  let t: TestApp;
  let jar: Awaited<ReturnType<typeof consoleLogin>>['jar'];
  let csrf: string;
  const SECRET = 'gh-secret-never-shown-0123456789';
  const page = (url: string) => t.app.inject({ method: 'GET', url, headers: { cookie: jar.header() } });

  before(async () => {
    t = await createTestApp();
    await createAdmin(t, 'root');
    const login = await consoleLogin(t, 'root');
    jar = login.jar;
    csrf = login.csrf!;
  });
  after(() => t.close());

  it('adds a GitHub provider from the form; the page lists it with its redirect URI and never shows the secret', async () => {
    const res = await post(t, '/admin/console/identity-providers', jar, { _csrf: csrf, kind: 'github', name: 'GitHub <b>', client_id: 'Iv1.abc', client_secret: SECRET, scopes: '' });
    assert.equal(res.statusCode, 303, res.body);
    const list = await page('/admin/console/identity-providers');
    assert.equal(list.statusCode, 200);
    assert.match(list.body, /GitHub &lt;b&gt;/);
    assert.match(list.body, /<code>Iv1\.abc<\/code>/);
    assert.match(list.body, /\/federation\/[0-9a-f-]{36}\/callback/);
    assert.ok(!list.body.includes(SECRET), 'the secret is never shown');
    const [row] = await t.warden.db.select().from(identityProviders);
    assert.ok(row && !row.clientSecret.includes(SECRET), 'stored sealed');
    const [event] = (await findAuditEvents(t.warden.db, { type: 'identity_provider.created', limit: 1 })).items;
    assert.equal((event!.details as { kind: string }).kind, 'github');
  });

  it('names the missing fields, and refuses an OpenID Connect provider without an https issuer', async () => {
    const missing = await post(t, '/admin/console/identity-providers', jar, { _csrf: csrf, kind: 'oidc', name: 'Corp', client_id: '', client_secret: '', issuer: '' });
    assert.equal(missing.statusCode, 422);
    assert.match(missing.body, /client_id: required; client_secret: required; issuer: required/);
    const kind = await post(t, '/admin/console/identity-providers', jar, { _csrf: csrf, kind: 'saml', name: 'X', client_id: 'a', client_secret: 'b' });
    assert.equal(kind.statusCode, 422);
    const bad = await post(t, '/admin/console/identity-providers', jar, { _csrf: csrf, kind: 'oidc', name: 'Corp', client_id: 'a', client_secret: 'b', issuer: 'not a url' });
    assert.equal(bad.statusCode, 422, bad.body);
  });

  it('deletes a provider only with the confirmation box, and refuses a post without the CSRF token', async () => {
    const [row] = await t.warden.db.select().from(identityProviders);
    const url = `/admin/console/identity-providers/${row!.id}/delete`;
    assert.equal((await post(t, url, jar, { _csrf: 'forged', confirm: 'yes' })).statusCode, 403);
    const unconfirmed = await post(t, url, jar, { _csrf: csrf });
    assert.equal(unconfirmed.statusCode, 422);
    assert.equal((await t.warden.db.select().from(identityProviders)).length, 1);
    assert.equal((await post(t, url, jar, { _csrf: csrf, confirm: 'yes' })).statusCode, 303);
    assert.equal((await t.warden.db.select().from(identityProviders)).length, 0);
    assert.equal((await post(t, url, jar, { _csrf: csrf, confirm: 'yes' })).statusCode, 404);
  });

  it('needs a console session: without one the browser is sent to the console sign-in', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/admin/console/identity-providers' });
    assert.equal(res.statusCode, 303);
    assert.match(res.headers.location!, /\/admin\/console\/login/);
  });
});
