import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bearer, createAdmin, createTestApp, passwordLogin, registerUser, STRONG_PASSWORD, tokensFor, type TestApp } from '../support/app.js';
import { basic, registerClient, tokenRequest } from '../oauth/support.js';
import { codeFlowToken } from './support.js';

/** Issue 13 item 1: Warden's own API needs `account` / `admin`, which only first-party clients obtain. */
describe('scopes of Warden\'s own API (account, admin)', () => {
  let t: TestApp;
  let admin: Awaited<ReturnType<typeof createAdmin>>;
  let bobId: string;
  before(async () => {
    t = await createTestApp();
    admin = await createAdmin(t, 'root');
    bobId = (await registerUser(t.app, 'bob')).id;
  });
  after(() => t.close());

  it('refuses an admin\'s third-party token with only openid on the admin and account API (403 insufficient_scope)', async () => {
    const third = await codeFlowToken(t, admin.access_token, { username: 'root', password: STRONG_PASSWORD, scope: 'openid' });
    assert.equal(third.status, 200, JSON.stringify(third.body));
    assert.equal(third.body.scope, 'openid');
    const token = third.body.access_token!;
    const calls = [
      { method: 'GET', url: '/admin/users', scope: 'admin' },
      { method: 'PATCH', url: `/admin/users/${bobId}`, payload: { roles: ['admin', 'user'] }, scope: 'admin' },
      { method: 'POST', url: '/admin/keys/rotate', scope: 'admin' },
      { method: 'PATCH', url: '/users/me', payload: { full_name: 'Mallory' }, scope: 'account' },
      { method: 'POST', url: '/users/me/mfa/totp', scope: 'account' },
      { method: 'GET', url: '/users/me', scope: 'account' },
    ] as const;
    for (const c of calls) {
      const res = await t.app.inject({ method: c.method, url: c.url, headers: bearer(token), ...('payload' in c ? { payload: c.payload } : {}) });
      assert.equal(res.statusCode, 403, `${c.method} ${c.url}: ${res.body}`);
      assert.equal(res.json().code, 'insufficient_scope', `${c.method} ${c.url}`);
      assert.equal(res.headers['www-authenticate'], `Bearer error="insufficient_scope", scope="${c.scope}"`);
    }
    // Nothing changed: bob is no admin, the profile kept its name.
    assert.deepEqual((await t.warden.users.get(bobId)).roles, ['user']);
    // The same token still does what openid is for.
    assert.equal((await t.app.inject({ url: '/userinfo', headers: bearer(token) })).statusCode, 200);
  });

  it('refuses account and admin to a third-party client even when it was registered with them (invalid_scope)', async () => {
    const client = await registerClient(t, admin.access_token, {
      client_name: 'Greedy',
      redirect_uris: ['https://greedy.example.com/cb'],
      token_endpoint_auth_method: 'none',
      scope: 'openid account admin',
    });
    assert.equal(client.scope, 'openid account admin');
    const res = await t.app.inject({
      url: `/authorize?${new URLSearchParams({
        response_type: 'code',
        client_id: client.client_id,
        redirect_uri: 'https://greedy.example.com/cb',
        scope: 'openid account',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      }).toString()}`,
    });
    assert.equal(res.statusCode, 302);
    const to = new URL(res.headers.location as string);
    assert.equal(to.searchParams.get('error'), 'invalid_scope');
    assert.equal(to.searchParams.get('error_description'), 'scope reserved to first-party clients: account');
  });

  it('grants a non-admin\'s password login account but not admin, and an admin\'s both', async () => {
    const bob = await tokensFor(t.app, 'bob');
    assert.equal(bob.scope, 'openid profile email offline_access account items:read items:write');
    assert.equal((await t.app.inject({ url: '/users/me', headers: bearer(bob.access_token) })).statusCode, 200);
    const asked = await passwordLogin(t.app, 'bob', STRONG_PASSWORD, { scope: 'openid account admin' });
    assert.equal(asked.json().scope, 'openid account', 'admin is dropped for a user without the admin role');
    assert.equal(admin.scope, 'openid profile email offline_access account admin items:read items:write');
    assert.equal((await t.app.inject({ url: '/admin/users', headers: bearer(admin.access_token) })).statusCode, 200);
  });

  it('drops admin on refresh once the user lost the admin role', async () => {
    const carol = await registerUser(t.app, 'carol');
    await t.warden.users.adminUpdate('test', carol.id, { roles: ['admin', 'user'] }, {});
    const tokens = await tokensFor(t.app, 'carol');
    assert.match(tokens.scope, /\badmin\b/);
    await t.warden.users.adminUpdate('test', carol.id, { roles: ['user'] }, {});
    const refreshed = await tokenRequest(t.app, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    assert.equal(refreshed.statusCode, 200, refreshed.body);
    assert.equal(refreshed.json().scope, 'openid profile email offline_access account items:read items:write');
  });

  it('gives a first-party client\'s code flow without scope openid and account (and admin to an admin)', async () => {
    const own = await codeFlowToken(t, admin.access_token, { username: 'bob', password: STRONG_PASSWORD, scope: '', firstParty: true });
    assert.equal(own.body.scope, 'openid account');
    assert.equal((await t.app.inject({ url: '/users/me', headers: bearer(own.body.access_token!) })).statusCode, 200);
    const ownAdmin = await codeFlowToken(t, admin.access_token, { username: 'root', password: STRONG_PASSWORD, scope: '', firstParty: true });
    assert.equal(ownAdmin.body.scope, 'openid account admin');
  });

  it('never gives account or admin to a client acting for itself', async () => {
    const svc = await registerClient(t, admin.access_token, { client_name: 'svc', grant_types: ['client_credentials'], scope: 'items:read account admin' });
    const asked = await tokenRequest(t.app, { grant_type: 'client_credentials', scope: 'account' }, basic(svc.client_id, svc.client_secret!));
    assert.equal(asked.statusCode, 400);
    assert.equal(asked.json().error, 'invalid_scope');
    const all = await tokenRequest(t.app, { grant_type: 'client_credentials' }, basic(svc.client_id, svc.client_secret!));
    assert.equal(all.json().scope, 'items:read');
    const me = await t.app.inject({ url: '/users/me', headers: bearer(all.json().access_token) });
    assert.equal(me.statusCode, 403);
  });

  it('keeps /userinfo to OIDC: openid is needed, the e-mail only with the email scope', async () => {
    const narrow = await passwordLogin(t.app, 'bob', STRONG_PASSWORD, { scope: 'openid' });
    const info = await t.app.inject({ url: '/userinfo', headers: bearer(narrow.json().access_token) });
    assert.equal(info.statusCode, 200);
    assert.deepEqual(Object.keys(info.json()), ['sub']);
    const withEmail = await passwordLogin(t.app, 'bob', STRONG_PASSWORD, { scope: 'openid email' });
    assert.equal((await t.app.inject({ url: '/userinfo', headers: bearer(withEmail.json().access_token) })).json().email, 'bob@example.com');
    const noOpenid = await passwordLogin(t.app, 'bob', STRONG_PASSWORD, { scope: 'email account' });
    const refused = await t.app.inject({ url: '/userinfo', headers: bearer(noOpenid.json().access_token) });
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.json().code, 'insufficient_scope');
    // /users/me hands out the e-mail only to `account` tokens, which the client above could not get.
    assert.equal((await t.app.inject({ url: '/users/me', headers: bearer(withEmail.json().access_token) })).statusCode, 403);
  });
});
