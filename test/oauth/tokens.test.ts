import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { createTestApp, registerUser, STRONG_PASSWORD, tokensFor, type TestApp } from '../support/app.js';
import { maintainSigningKeys } from '../../src/features/oauth/keys-routes.js';
import { hashToken } from '../../src/kernel/secrets.js';
import { eq, sql } from 'drizzle-orm';
import { refreshTokens } from '../../src/features/tokens/tables.js';
import { adminToken, authorizeCode, basic, exchangeCode, pkce, registerClient, tokenRequest, type RegisteredClient } from './support.js';

const REDIRECT = 'https://app.example.com/cb';

describe('refresh, revoke, introspect, userinfo, discovery, keys', () => {
  let t: TestApp;
  let admin: string;
  let web: RegisteredClient;
  let other: RegisteredClient;
  let rs: RegisteredClient;
  before(async () => {
    t = await createTestApp({ env: { REFRESH_REUSE_GRACE_SECONDS: '5' } });
    admin = await adminToken(t);
    web = await registerClient(t, admin, { client_name: 'Web', redirect_uris: [REDIRECT], scope: 'openid profile email offline_access items:read' });
    other = await registerClient(t, admin, { client_name: 'Other', redirect_uris: [REDIRECT] });
    rs = await registerClient(t, admin, { client_name: 'Resource server', grant_types: ['client_credentials'], scope: 'items:read' });
    await registerUser(t.app, 'alice', STRONG_PASSWORD, { full_name: 'Alice A' });
  });
  after(() => t.close());
  beforeEach(() => t.clock.advance(1000));

  const webAuth = () => basic(web.client_id, web.client_secret!);
  const rsAuth = () => basic(rs.client_id, rs.client_secret!);

  async function userTokens(scope = 'openid profile email offline_access') {
    const p = pkce();
    const cb = await authorizeCode(t.app, { clientId: web.client_id, redirectUri: REDIRECT, scope, challenge: p.challenge, username: 'alice', password: STRONG_PASSWORD });
    const res = await exchangeCode(t.app, { code: cb.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: p.verifier }, webAuth());
    assert.equal(res.statusCode, 200, res.body);
    return res.json() as { access_token: string; refresh_token: string; id_token: string; scope: string };
  }
  const introspect = async (token: string, headers = rsAuth()) => tokenRequest(t.app, { token }, headers, '/introspect');

  it('refresh rotates; the old token within the grace window gets a fresh one, after it the family is revoked', async () => {
    const first = await userTokens();
    const r1 = await tokenRequest(t.app, { grant_type: 'refresh_token', refresh_token: first.refresh_token }, webAuth());
    assert.equal(r1.statusCode, 200, r1.body);
    const second = r1.json();
    assert.notEqual(second.refresh_token, first.refresh_token);
    assert.ok(second.id_token, 'openid refresh → id_token again');
    // A concurrent retry of the same token a moment later (supabase/auth#2136): not theft.
    t.clock.advance(2000);
    const retry = await tokenRequest(t.app, { grant_type: 'refresh_token', refresh_token: first.refresh_token }, webAuth());
    assert.equal(retry.statusCode, 200, 'grace retry');
    // Outside the window it is a replay: the whole family goes.
    t.clock.advance(10_000);
    const replay = await tokenRequest(t.app, { grant_type: 'refresh_token', refresh_token: first.refresh_token }, webAuth());
    assert.equal(replay.statusCode, 400);
    assert.equal(replay.json().error, 'invalid_grant');
    const latest = await tokenRequest(t.app, { grant_type: 'refresh_token', refresh_token: second.refresh_token }, webAuth());
    assert.equal(latest.statusCode, 400, 'family revoked');
  });

  it('a refresh token from one client cannot be used by another', async () => {
    const tokens = await userTokens();
    const res = await tokenRequest(t.app, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, basic(other.client_id, other.client_secret!));
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json(), { error: 'invalid_grant', error_description: 'refresh token was issued to another client' });
    const anon = await tokenRequest(t.app, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    assert.equal(anon.statusCode, 400);
    // Regression: the refused attempts must not have consumed it (that would make the owner's next
    // refresh look like reuse and revoke the owner's session).
    const owner = await tokenRequest(t.app, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, webAuth());
    assert.equal(owner.statusCode, 200, owner.body);
  });

  it('introspection: active with the RFC 7662 fields; needs client authentication; inactive for junk', async () => {
    const tokens = await userTokens();
    const res = await introspect(tokens.access_token);
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.active, true);
    assert.equal(body.client_id, web.client_id);
    assert.equal(body.username, 'alice');
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.iss, t.config.issuer);
    assert.equal(body.aud, 'warden');
    for (const k of ['scope', 'exp', 'iat', 'sub', 'jti']) assert.ok(body[k] !== undefined, k);
    assert.deepEqual((await introspect('garbage')).json(), { active: false });
    assert.deepEqual((await introspect('a.b.c')).json(), { active: false });
    const anon = await tokenRequest(t.app, { token: tokens.access_token }, {}, '/introspect');
    assert.equal(anon.statusCode, 401);
    assert.equal(anon.json().error, 'invalid_client');
    const wrong = await introspect(tokens.access_token, basic(rs.client_id, 'wcs_nope'));
    assert.equal(wrong.statusCode, 401);
    assert.ok(wrong.headers['www-authenticate']);
    // A refresh token only introspects for its own client.
    assert.equal((await introspect(tokens.refresh_token, webAuth())).json().active, true);
    assert.equal((await introspect(tokens.refresh_token)).json().active, false);
  });

  it('introspection of a refresh token follows the rotation\'s own rules: used, or of an ended session, is inactive', async () => {
    const tokens = await userTokens();
    const rotated = await tokenRequest(t.app, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, webAuth());
    assert.equal(rotated.statusCode, 200, rotated.body);
    assert.equal((await introspect(tokens.refresh_token, webAuth())).json().active, false, 'used (even within the grace window)');
    const successor = rotated.json().refresh_token as string;
    assert.equal((await introspect(successor, webAuth())).json().active, true);
    // A token rotated while its session was being ended is not revoked with it (sessions/repository.ts):
    // the session's end alone refuses it, to the refresh grant and to introspection alike.
    await t.warden.db.execute(sql`update sessions set ended_at = now() where sid = (select session_id from refresh_tokens where token_hash = ${hashToken(successor)})`);
    assert.deepEqual((await introspect(successor, webAuth())).json(), { active: false });
    const refused = await tokenRequest(t.app, { grant_type: 'refresh_token', refresh_token: successor }, webAuth());
    assert.equal(refused.statusCode, 400);
    assert.equal(refused.json().error_description, 'refresh token revoked');
  });

  it('a refresh token whose API has been deleted is refused (invalid_target) and not consumed', async () => {
    const created = await t.app.inject({ method: 'POST', url: '/admin/apis', headers: { authorization: `Bearer ${admin}` }, payload: { identifier: 'https://gone.example', name: 'Gone' } });
    assert.equal(created.statusCode, 201, created.body);
    const login = await tokenRequest(t.app, { grant_type: 'password', username: 'alice', password: STRONG_PASSWORD, resource: 'https://gone.example', scope: 'openid offline_access' });
    assert.equal(login.statusCode, 200, login.body);
    const refreshToken = login.json().refresh_token as string;
    assert.ok(refreshToken);
    const deleted = await t.app.inject({ method: 'DELETE', url: `/admin/apis/${created.json().id}`, headers: { authorization: `Bearer ${admin}` } });
    assert.ok(deleted.statusCode < 300, deleted.body);
    const refused = await tokenRequest(t.app, { grant_type: 'refresh_token', refresh_token: refreshToken });
    assert.deepEqual([refused.statusCode, refused.json()], [400, { error: 'invalid_target', error_description: 'the API of this refresh token no longer exists' }]);
    const [row] = await t.warden.db.select().from(refreshTokens).where(eq(refreshTokens.tokenHash, hashToken(refreshToken)));
    assert.equal(row!.usedAt, null, 'a refused refresh changes nothing');
  });

  it('an expired access token introspects inactive', async () => {
    const tokens = await userTokens();
    t.clock.advance(t.config.accessTokenTtlSeconds * 1000 + 10_000);
    assert.deepEqual((await introspect(tokens.access_token)).json(), { active: false });
  });

  it('revocation: a revoked access token introspects inactive and stops working; unknown tokens get 200', async () => {
    const tokens = await userTokens();
    const res = await tokenRequest(t.app, { token: tokens.access_token, token_type_hint: 'access_token' }, webAuth(), '/revoke');
    assert.equal(res.statusCode, 200);
    assert.deepEqual((await introspect(tokens.access_token)).json(), { active: false });
    assert.equal((await t.app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${tokens.access_token}` } })).statusCode, 401);
    assert.equal((await tokenRequest(t.app, { token: 'never-issued' }, webAuth(), '/revoke')).statusCode, 200);
  });

  it('revoking a refresh token revokes its family; another client cannot revoke it', async () => {
    const tokens = await userTokens();
    await tokenRequest(t.app, { token: tokens.refresh_token }, basic(other.client_id, other.client_secret!), '/revoke');
    assert.equal((await introspect(tokens.refresh_token, webAuth())).json().active, true, "another client's revoke is ignored");
    const rotated = (await tokenRequest(t.app, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, webAuth())).json();
    const res = await tokenRequest(t.app, { token: rotated.refresh_token, token_type_hint: 'refresh_token' }, webAuth(), '/revoke');
    assert.equal(res.statusCode, 200);
    const after = await tokenRequest(t.app, { grant_type: 'refresh_token', refresh_token: rotated.refresh_token }, webAuth());
    assert.equal(after.statusCode, 400);
  });

  it('userinfo: claims per scope; 401 with WWW-Authenticate without a valid token; 403 without openid', async () => {
    const tokens = await userTokens('openid email');
    const res = await t.app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(res.statusCode, 200);
    const claims = res.json();
    assert.equal(claims.email, 'alice@example.com');
    assert.equal(claims.preferred_username, undefined, 'no profile scope');
    assert.equal(claims.sub, decodeJwt(tokens.id_token).sub);
    const none = await t.app.inject({ url: '/userinfo' });
    assert.equal(none.statusCode, 401);
    assert.match(none.headers['www-authenticate'] as string, /^Bearer/);
    const bad = await t.app.inject({ method: 'POST', url: '/userinfo', headers: { authorization: 'Bearer x.y.z' } });
    assert.equal(bad.statusCode, 401);
    assert.match(bad.headers['www-authenticate'] as string, /invalid_token/);
    const noOpenid = await userTokens('items:read');
    const forbidden = await t.app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${noOpenid.access_token}` } });
    assert.equal(forbidden.statusCode, 403);
    assert.match(forbidden.headers['www-authenticate'] as string, /insufficient_scope/);
  });

  it('requireScope: a token without items:write gets 403 insufficient_scope', async () => {
    const tokens = await userTokens('items:read');
    const list = await t.app.inject({ url: '/items', headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(list.statusCode, 200);
    const create = await t.app.inject({ method: 'POST', url: '/items', headers: { authorization: `Bearer ${tokens.access_token}` }, payload: { title: 'x' } });
    assert.equal(create.statusCode, 403);
    assert.equal(create.json().code, 'insufficient_scope');
    assert.match(create.headers['www-authenticate'] as string, /error="insufficient_scope", scope="items:write"/);
  });

  it('discovery and JWKS', async () => {
    for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
      const res = await t.app.inject({ url: path });
      assert.equal(res.statusCode, 200);
      const m = res.json();
      assert.equal(m.issuer, t.config.issuer);
      assert.equal(m.token_endpoint, `${t.config.issuer}/token`);
      assert.deepEqual(m.code_challenge_methods_supported, ['S256']);
      assert.deepEqual(m.response_types_supported, ['code']);
      assert.ok(m.grant_types_supported.includes('authorization_code') && m.grant_types_supported.includes('client_credentials'));
      assert.deepEqual(m.id_token_signing_alg_values_supported, ['EdDSA']);
    }
    const jwks = await t.app.inject({ url: '/.well-known/jwks.json' });
    assert.match(jwks.headers['cache-control'] as string, /max-age=60/);
    const keys = jwks.json().keys;
    assert.ok(keys.length >= 1);
    assert.equal(keys[0].d, undefined, 'no private part');
  });

  it('key rotation: old tokens keep verifying; after retirement a token signed by the retired key is refused', async () => {
    admin = (await tokensFor(t.app, 'root')).access_token;
    const before = await userTokens();
    const oldKid = decodeProtectedHeader(before.access_token).kid;
    // A token signed by the old key (no token may outlive the configured lifetime, so none outlives its key).
    const longLived = await t.warden.accessTokens.issue({ subject: (await t.warden.users.list({ q: 'alice', limit: 1 })).items[0]!.id, scope: 'openid', clientId: 'warden' });
    const rot = await t.app.inject({ method: 'POST', url: '/admin/keys/rotate', headers: { authorization: `Bearer ${admin}` } });
    assert.equal(rot.statusCode, 201, rot.body);
    assert.notEqual(rot.json().kid, oldKid);
    const jwks = (await t.app.inject({ url: '/.well-known/jwks.json' })).json().keys.map((k: { kid: string }) => k.kid);
    assert.ok(jwks.includes(oldKid) && jwks.includes(rot.json().kid), 'both keys published');
    assert.equal((await introspect(before.access_token)).json().active, true, 'no verification fails during a rotation');
    const after = await userTokens();
    assert.equal(decodeProtectedHeader(after.access_token).kid, rot.json().kid);
    const list = await t.app.inject({ url: '/admin/keys', headers: { authorization: `Bearer ${admin}` } });
    assert.deepEqual(list.json().items.map((k: { state: string }) => k.state).slice(0, 2), ['active', 'retiring']);
    // Still verifying right after rotation …
    assert.equal((await t.app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${longLived.token}` } })).statusCode, 200);
    // … and retired once every normally issued token has expired.
    t.clock.advance(Math.max(t.config.accessTokenTtlSeconds, 600) * 1000 + 60_000);
    const m = await maintainSigningKeys(t.warden);
    assert.equal(m.retired, 1);
    assert.ok(!(await t.app.inject({ url: '/.well-known/jwks.json' })).json().keys.some((k: { kid: string }) => k.kid === oldKid));
    const refused = await t.app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${longLived.token}` } });
    assert.equal(refused.statusCode, 401);
    assert.deepEqual((await introspect(longLived.token)).json(), { active: false });
    const audit = await t.warden.db.execute(`select count(*)::int as n from audit_events where type = 'key.rotated'` as never);
    assert.equal(((audit as unknown as { rows: { n: number }[] }).rows ?? audit)[0]!.n, 1);
  });

  it('KEY_ROTATION_DAYS rotates on the timer when due', async () => {
    const t2 = await createTestApp({ env: { KEY_ROTATION_DAYS: '1' }, clock: t.clock });
    try {
      const kid = (await t2.warden.keys.list()).find((k) => k.state === 'active')!.kid;
      assert.equal((await maintainSigningKeys(t2.warden)).rotated, undefined);
      t.clock.advance(86400_000 + 1000);
      const m = await maintainSigningKeys(t2.warden);
      assert.ok(m.rotated && m.rotated !== kid);
    } finally {
      await t2.close();
    }
  });
});
