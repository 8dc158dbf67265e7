import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { and, eq, isNull, sql } from 'drizzle-orm';
import { decodeJwt } from 'jose';
import { authorizationCodes } from '../../src/features/oauth/tables.js';
import { sessions } from '../../src/features/sessions/tables.js';
import { refreshTokens } from '../../src/features/tokens/tables.js';
import { users } from '../../src/features/users/tables.js';
import { createRefreshToken } from '../../src/features/tokens/refresh-token.js';
import { buildApp } from '../../src/app/app.js';
import { pruneRefreshTokens } from '../../src/features/tokens/refresh-token.js';
import { createWarden } from '../../src/app/warden.js';
import { bearer, createTestApp, form, passwordLogin, registerUser, STRONG_PASSWORD, testDatabase, tokensFor, type TestApp } from '../support/app.js';
import { adminToken, authorizeCode, authorizeUrl, basic, exchangeCode, getPage, Jar, pkce, registerClient, tokenRequest, type RegisteredClient } from './support.js';

const REDIRECT = 'https://app.example.com/cb';

describe('sessions: sid on every token, and ending a session ends its tokens', () => {
  let t: TestApp;
  let web: RegisteredClient;
  let rs: RegisteredClient;
  let alice: { id: string };
  before(async () => {
    t = await createTestApp({ env: { REFRESH_REUSE_GRACE_SECONDS: '5' } });
    const admin = await adminToken(t);
    web = await registerClient(t, admin, { client_name: 'Web', redirect_uris: [REDIRECT], scope: 'openid profile email offline_access items:read' });
    rs = await registerClient(t, admin, { client_name: 'Resource server', grant_types: ['client_credentials'], scope: 'items:read' });
    alice = await registerUser(t.app, 'alice');
  });
  after(() => t.close());
  beforeEach(() => t.clock.advance(1000));

  const refresh = (token: string, extra: Record<string, string> = {}) =>
    t.app.inject({ method: 'POST', url: '/token', ...form({ grant_type: 'refresh_token', refresh_token: token, ...extra }) });
  const me = (token: string) => t.app.inject({ method: 'GET', url: '/users/me', headers: bearer(token) });
  const introspect = (token: string) => tokenRequest(t.app, { token }, basic(rs.client_id, rs.client_secret!), '/introspect');
  const sidOf = (jwt: string) => decodeJwt(jwt).sid as string;
  const liveInFamily = async (familyId: string) =>
    (await t.warden.db.select().from(refreshTokens).where(and(eq(refreshTokens.familyId, familyId), isNull(refreshTokens.usedAt), isNull(refreshTokens.revokedAt)))).length;
  const familyOf = async (token: string) => {
    const [row] = await t.warden.db.select().from(refreshTokens).where(eq(refreshTokens.sessionId, sidOf(token))).limit(1);
    return row!.familyId;
  };

  it('a password login is a session: its sid is on the access token, with auth_time, amr, ip and user agent recorded', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'session-test/1.0' },
      payload: new URLSearchParams({ grant_type: 'password', username: 'alice', password: STRONG_PASSWORD }).toString(),
    });
    assert.equal(res.statusCode, 200, res.body);
    const sid = sidOf(res.json().access_token);
    assert.match(sid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const [row] = await t.warden.db.select().from(sessions).where(eq(sessions.sid, sid));
    assert.equal(row!.userId, alice.id);
    assert.deepEqual(row!.amr, ['pwd']);
    assert.deepEqual(row!.clientIds, []);
    assert.equal(row!.userAgent, 'session-test/1.0');
    assert.equal(row!.ip, '127.0.0.1');
    assert.equal(row!.endedAt, null);
    assert.equal(row!.authTime.getTime(), Math.floor(t.clock.now()));
    // Two logins, two sessions.
    const other = await tokensFor(t.app, 'alice');
    assert.notEqual(sidOf(other.access_token), sid);
    // The refreshed access token stays in the session.
    const next = (await refresh(res.json().refresh_token)).json();
    assert.equal(sidOf(next.access_token), sid);
  });

  it('issue 13 item 20: revoking a refresh token ends its session: the access token gets 401 and introspects inactive', async () => {
    const tokens = await tokensFor(t.app, 'alice');
    const other = await tokensFor(t.app, 'alice');
    assert.equal((await me(tokens.access_token)).statusCode, 200);
    assert.equal((await introspect(tokens.access_token)).json().active, true);
    const revoke = await t.app.inject({ method: 'POST', url: '/revoke', ...form({ token: tokens.refresh_token, token_type_hint: 'refresh_token' }) });
    assert.equal(revoke.statusCode, 200);
    const refused = await me(tokens.access_token);
    assert.equal(refused.statusCode, 401);
    assert.equal(refused.headers['www-authenticate'], 'Bearer error="invalid_token", error_description="the session was ended"');
    assert.deepEqual((await introspect(tokens.access_token)).json(), { active: false });
    assert.deepEqual((await refresh(tokens.refresh_token)).json(), { error: 'invalid_grant', error_description: 'refresh token revoked' });
    const [row] = await t.warden.db.select().from(sessions).where(eq(sessions.sid, sidOf(tokens.access_token)));
    assert.equal(row!.endReason, 'revoked');
    // Only that session: the user's other sign-in goes on.
    assert.equal((await me(other.access_token)).statusCode, 200);
    assert.equal((await refresh(other.refresh_token)).statusCode, 200);
  });

  it('issue 13 item 20: a session ended through one instance fails at once on another sharing the database and state store', async () => {
    const database = await testDatabase();
    const wardenB = await createWarden(t.config, { database, clock: t.clock, state: t.warden.state, migrate: false });
    const appB = await buildApp(t.config, { warden: wardenB });
    try {
      await appB.ready();
      const tokens = await tokensFor(t.app, 'alice');
      const onB = () => appB.inject({ method: 'GET', url: '/users/me', headers: bearer(tokens.access_token) });
      assert.equal((await onB()).statusCode, 200, 'B has verified and cached the token and the user');
      await t.app.inject({ method: 'POST', url: '/revoke', ...form({ token: tokens.refresh_token }) });
      assert.equal((await onB()).statusCode, 401);
    } finally {
      await appB.close();
      await wardenB.close();
    }
  });

  it('issue 13 item 4: replays within the grace window answer the same successor; the family keeps one live token', async () => {
    const first = await tokensFor(t.app, 'alice');
    const a = await refresh(first.refresh_token);
    assert.equal(a.statusCode, 200, a.body);
    t.clock.advance(1000);
    const b = await refresh(first.refresh_token);
    t.clock.advance(1000);
    const c = await refresh(first.refresh_token);
    assert.equal(b.statusCode, 200, b.body);
    assert.equal(c.statusCode, 200, c.body);
    assert.equal(b.json().refresh_token, a.json().refresh_token);
    assert.equal(c.json().refresh_token, a.json().refresh_token);
    assert.notEqual(b.json().access_token, a.json().access_token, 'a fresh access token each time');
    assert.equal(sidOf(b.json().access_token), sidOf(first.access_token));
    assert.equal(await liveInFamily(await familyOf(first.access_token)), 1);
    // The successor works, and once it is used its predecessor has nothing left to answer: reuse.
    const d = await refresh(a.json().refresh_token);
    assert.equal(d.statusCode, 200, d.body);
    const replay = await refresh(first.refresh_token);
    assert.deepEqual(replay.json(), { error: 'invalid_grant', error_description: 'refresh token already used; the session has been revoked' });
    assert.equal((await refresh(d.json().refresh_token)).statusCode, 400, 'the session was ended');
  });

  it('issue 13 item 4: two concurrent presentations of one token get the same successor', async () => {
    const first = await tokensFor(t.app, 'alice');
    const [a, b] = await Promise.all([refresh(first.refresh_token), refresh(first.refresh_token)]);
    assert.deepEqual([a.statusCode, b.statusCode], [200, 200]);
    assert.equal(a.json().refresh_token, b.json().refresh_token);
    assert.equal(await liveInFamily(await familyOf(first.access_token)), 1);
  });

  it('issue 13 item 4: the sealed successor is erased once the window has passed, and a replay after it is reuse that ends the session', async () => {
    const first = await tokensFor(t.app, 'alice');
    const second = (await refresh(first.refresh_token)).json();
    const sealed = async () =>
      (await t.warden.db.select().from(refreshTokens).where(eq(refreshTokens.replacedBy, sql`(select id from refresh_tokens where session_id = ${sidOf(first.access_token)}::uuid and used_at is null)`)))[0]!
        .successorSealed;
    assert.ok(await sealed(), 'kept for the window');
    assert.equal((await sealed())!.includes(second.refresh_token.slice(4)), false, 'never in clear');
    t.clock.advance(6000);
    await pruneRefreshTokens(t.warden.db, new Date(t.clock.now()), 5);
    assert.equal(await sealed(), null);
    const replay = await refresh(first.refresh_token);
    assert.equal(replay.json().error, 'invalid_grant');
    assert.equal((await me(second.access_token)).statusCode, 401, 'reuse ends the session and its access tokens');
    assert.equal((await refresh(second.refresh_token)).statusCode, 400);
  });

  it('issue 13 item 19: a narrower scope narrows the access token only; the next refresh without scope gets the whole grant back', async () => {
    const login = await passwordLogin(t.app, 'alice', STRONG_PASSWORD, { scope: 'openid items:read items:write' });
    const first = login.json();
    const narrow = await refresh(first.refresh_token, { scope: 'items:read' });
    assert.equal(narrow.statusCode, 200, narrow.body);
    assert.equal(narrow.json().scope, 'items:read');
    assert.equal(decodeJwt(narrow.json().access_token).scope, 'items:read');
    const full = await refresh(narrow.json().refresh_token);
    assert.equal(full.statusCode, 200, full.body);
    assert.equal(full.json().scope, 'openid items:read items:write');
    assert.equal(decodeJwt(full.json().access_token).scope, 'openid items:read items:write');
    // Beyond the grant: refused (RFC 6749 §5.2 invalid_scope), and the token is not used up.
    const wider = await refresh(full.json().refresh_token, { scope: 'items:read email' });
    assert.deepEqual(wider.json(), { error: 'invalid_scope', error_description: 'scope exceeds the original grant' });
    assert.equal((await refresh(full.json().refresh_token)).statusCode, 200);
  });

  it('a refresh token issued before sessions existed keeps working, without a sid', async () => {
    const now = new Date(t.clock.now());
    const legacy = await createRefreshToken(t.warden.db, { userId: alice.id, clientId: null, scope: 'openid items:read', authTime: now, now, ttlSeconds: 3600 });
    const res = await refresh(legacy.token);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(decodeJwt(res.json().access_token).sid, undefined);
    // Its scope predates `account`, so it reaches the items API, not /users/me (docs/access.md, upgrading).
    const items = await t.app.inject({ method: 'GET', url: '/items', headers: { authorization: `Bearer ${res.json().access_token}` } });
    assert.equal(items.statusCode, 200, items.body);
    const revoke = await t.app.inject({ method: 'POST', url: '/revoke', ...form({ token: res.json().refresh_token }) });
    assert.equal(revoke.statusCode, 200);
    assert.equal((await refresh(res.json().refresh_token)).json().error, 'invalid_grant');
  });

  describe('/authorize sign-in sessions', () => {
    const code = async (jar: Jar, p = pkce()) => {
      const cb = await authorizeCode(t.app, { clientId: web.client_id, redirectUri: REDIRECT, scope: 'openid offline_access', challenge: p.challenge, username: 'alice', password: STRONG_PASSWORD, jar });
      return { code: cb.searchParams.get('code')!, verifier: p.verifier };
    };
    const exchange = (c: { code: string; verifier: string }) =>
      exchangeCode(t.app, { code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier }, basic(web.client_id, web.client_secret!));
    const silent = (jar: Jar) =>
      getPage(
        t.app,
        jar,
        authorizeUrl({ response_type: 'code', client_id: web.client_id, redirect_uri: REDIRECT, scope: 'openid', code_challenge: pkce().challenge, code_challenge_method: 'S256', prompt: 'none' }),
      );
    const familiesOfAlice = async () => (await t.warden.db.select().from(refreshTokens).where(eq(refreshTokens.userId, alice.id))).length;

    it('the id_token and access token carry the sign-in session, which lists the client', async () => {
      const res = await exchange(await code(new Jar()));
      assert.equal(res.statusCode, 200, res.body);
      const sid = sidOf(res.json().access_token);
      assert.equal(decodeJwt(res.json().id_token).sid, sid);
      const [row] = await t.warden.db.select().from(sessions).where(eq(sessions.sid, sid));
      assert.deepEqual(row!.clientIds, [web.client_id]);
      assert.deepEqual(row!.amr, ['pwd']);
    });

    it("revoking the client's refresh token ends the sign-in: the cookie signs nobody in (prompt=none: login_required)", async () => {
      const jar = new Jar();
      const tokens = (await exchange(await code(jar))).json();
      const again = await silent(jar);
      assert.equal(again.statusCode, 302);
      assert.ok(new URL(again.headers.location as string).searchParams.get('code'), 'signed in before the revoke');
      await tokenRequest(t.app, { token: tokens.refresh_token }, basic(web.client_id, web.client_secret!), '/revoke');
      assert.equal((await me(tokens.access_token)).statusCode, 401);
      const after = await silent(jar);
      assert.equal(after.statusCode, 302);
      assert.equal(new URL(after.headers.location as string).searchParams.get('error'), 'login_required');
    });

    it('issue 13 item 3: a code issued before a force-logout is refused, starts no refresh family, and was dropped', async () => {
      const pending = await code(new Jar());
      const before = await familiesOfAlice();
      t.clock.advance(1000);
      await t.warden.users.forceLogout(null, alice.id, {});
      const rows = await t.warden.db.select().from(authorizationCodes).where(eq(authorizationCodes.userId, alice.id));
      assert.equal(rows.filter((r) => r.consumedAt === null).length, 0, 'pending codes dropped');
      const res = await exchange(pending);
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().error, 'invalid_grant');
      assert.equal(await familiesOfAlice(), before, 'no new refresh family');
    });

    it('issue 13 item 3: a code older than tokens_valid_after is refused even if it was not dropped (a code issued during the logout)', async () => {
      const pending = await code(new Jar());
      const before = await familiesOfAlice();
      t.clock.advance(1000);
      // Only the instant, as a password change racing the code's issuance would leave it.
      await t.warden.db.update(users).set({ tokensValidAfter: new Date(t.clock.now()) }).where(eq(users.id, alice.id));
      await t.warden.userCache.invalidate(alice.id);
      t.clock.advance(1000);
      const res = await exchange(pending);
      assert.deepEqual(res.json(), { error: 'invalid_grant', error_description: 'the sign-in session has ended' });
      assert.equal(await familiesOfAlice(), before);
    });

    it('issue 13 item 3: a code issued before a password change is refused', async () => {
      const pending = await code(new Jar());
      const other = await tokensFor(t.app, 'alice');
      t.clock.advance(1000);
      const change = await t.app.inject({
        method: 'POST',
        url: '/users/me/password',
        headers: bearer(other.access_token),
        payload: { current_password: STRONG_PASSWORD, new_password: 'another horse battery staple' },
      });
      assert.equal(change.statusCode, 204, change.body);
      t.clock.advance(1000);
      assert.equal((await exchange(pending)).json().error, 'invalid_grant');
      // The session the change was made from keeps its refresh token; the others ended.
      assert.equal((await refresh(other.refresh_token)).statusCode, 200);
    });
  });
});
