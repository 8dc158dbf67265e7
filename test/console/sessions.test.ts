import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { authenticator } from 'otplib';
import { issueAccountToken } from '../../src/features/account/account-tokens.js';
import { eq } from 'drizzle-orm';
import { users } from '../../src/features/users/tables.js';
import { bearer, createAdmin, createTestApp, form, STRONG_PASSWORD, tokensFor, type TestApp } from '../support/app.js';
import { adminToken, authorizeCode, authorizeUrl, getPage, Jar, pkce, registerClient, type RegisteredClient } from '../oauth/support.js';
import { consoleLogin, cookieJar, csrfFrom, post } from './support.js';

const REDIRECT = 'https://app.example.com/cb';

describe('ending every session of a user: disable, force-logout, password reset', () => {
  let t: TestApp;
  let web: RegisteredClient;
  before(async () => {
    t = await createTestApp();
    web = await registerClient(t, await adminToken(t), { client_name: 'Web', redirect_uris: [REDIRECT], scope: 'openid offline_access' });
  });
  after(() => t.close());
  beforeEach(() => t.clock.advance(1000));

  const me = (token: string) => t.app.inject({ method: 'GET', url: '/users/me', headers: bearer(token) });
  const refresh = (token: string) => t.app.inject({ method: 'POST', url: '/token', ...form({ grant_type: 'refresh_token', refresh_token: token }) });
  const consoleUsers = (jar: ReturnType<typeof cookieJar>) =>
    t.app.inject({ method: 'GET', url: '/admin/console/users', headers: { cookie: jar.header() } });
  const silentAuthorize = (jar: Jar) =>
    getPage(
      t.app,
      jar,
      authorizeUrl({ response_type: 'code', client_id: web.client_id, redirect_uri: REDIRECT, scope: 'openid', code_challenge: pkce().challenge, code_challenge_method: 'S256', prompt: 'none' }),
    );

  it('issue 13 item 10: disable then enable revives nothing: access token, refresh token, console cookie and /authorize cookie stay refused', async () => {
    const victim = await createAdmin(t, 'disabled1');
    const tokens = await tokensFor(t.app, 'disabled1');
    const console = await consoleLogin(t, 'disabled1');
    assert.equal(console.res.statusCode, 303);
    const jar = new Jar();
    await authorizeCode(t.app, { clientId: web.client_id, redirectUri: REDIRECT, scope: 'openid', challenge: pkce().challenge, username: 'disabled1', password: STRONG_PASSWORD, jar });
    // Everything works before.
    assert.equal((await me(tokens.access_token)).statusCode, 200);
    assert.equal((await consoleUsers(console.jar)).statusCode, 200);
    assert.equal((await silentAuthorize(jar)).statusCode, 302);
    assert.ok(new URL((await silentAuthorize(jar)).headers.location as string).searchParams.get('code'));

    t.clock.advance(1000);
    await t.warden.users.adminUpdate('test', victim.id, { disabled: true }, {});
    t.clock.advance(1000);
    await t.warden.users.adminUpdate('test', victim.id, { disabled: false }, {});
    t.clock.advance(1000);

    const meRes = await me(tokens.access_token);
    assert.equal(meRes.statusCode, 401);
    assert.equal(meRes.headers['www-authenticate'], 'Bearer error="invalid_token", error_description="the session was ended"');
    assert.deepEqual((await refresh(tokens.refresh_token)).json(), { error: 'invalid_grant', error_description: 'refresh token revoked' });
    const page = await consoleUsers(console.jar);
    assert.equal(page.statusCode, 303);
    assert.equal(page.headers.location, '/admin/console/login');
    const silent = await silentAuthorize(jar);
    assert.equal(silent.statusCode, 302);
    assert.equal(new URL(silent.headers.location as string).searchParams.get('error'), 'login_required');
    // Signing in again works: the account is enabled.
    assert.equal((await me((await tokensFor(t.app, 'disabled1')).access_token)).statusCode, 200);
  });

  describe('issue 13 item 11: a console sign-in waiting for its second factor', () => {
    let admin: Awaited<ReturnType<typeof createAdmin>>;
    let secret: string;
    before(async () => {
      admin = await createAdmin(t, 'mfaadmin');
      const e = await t.app.inject({ method: 'POST', url: '/users/me/mfa/totp', headers: bearer(admin.access_token) });
      secret = e.json().secret;
      const code = authenticator.clone({ epoch: t.clock.now() }).generate(secret);
      const c = await t.app.inject({ method: 'POST', url: '/users/me/mfa/totp/confirm', headers: bearer(admin.access_token), payload: { code } });
      assert.equal(c.statusCode, 200, c.body);
    });

    /** Password accepted; `end` runs between the two steps; then the right TOTP code. */
    async function completeAfter(end: () => Promise<void>, password = STRONG_PASSWORD) {
      t.clock.advance(90_000); // a fresh TOTP step (the last one used cannot be replayed)
      const { res, jar } = await consoleLogin(t, 'mfaadmin', password);
      assert.equal(res.headers.location, '/admin/console/login/mfa');
      const form = await t.app.inject({ method: 'GET', url: '/admin/console/login/mfa', headers: { cookie: jar.header() } });
      jar.take(form.headers['set-cookie']);
      const csrf = csrfFrom(form.body)!;
      t.clock.advance(1000);
      await end();
      t.clock.advance(1000);
      const code = authenticator.clone({ epoch: t.clock.now() }).generate(secret);
      const done = await post(t, '/admin/console/login/mfa', jar, { _csrf: csrf, code });
      jar.take(done.headers['set-cookie']);
      return { done, jar };
    }

    it('completes when nothing happened in between (control)', async () => {
      const { done } = await completeAfter(async () => {});
      assert.equal(done.statusCode, 303);
      assert.equal(done.headers.location, '/admin/console/users');
    });

    it('does not survive a force-logout', async () => {
      const { done, jar } = await completeAfter(() => t.warden.users.forceLogout(null, admin.id, {}));
      assert.equal(done.statusCode, 303);
      assert.equal(done.headers.location, '/admin/console/login');
      assert.equal(jar.get('warden_console'), undefined, 'no console session');
    });

    it('does not survive a password reset', async () => {
      // Reset links are good only for a verified address (issue 13 item 2).
      await t.warden.db.update(users).set({ emailVerified: true }).where(eq(users.id, admin.id));
      const { done, jar } = await completeAfter(async () => {
        const token = await issueAccountToken(t.warden.db, { userId: admin.id, purpose: 'reset_password', email: 'mfaadmin@example.com', now: new Date(t.clock.now()), ttlMs: 60_000 });
        await t.warden.account.reset.reset(token, 'a brand new horse battery', {});
      });
      assert.equal(done.statusCode, 303);
      assert.equal(done.headers.location, '/admin/console/login');
      assert.equal(jar.get('warden_console'), undefined, 'no console session');
    });
  });
});
