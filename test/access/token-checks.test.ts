import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeProtectedHeader, decodeJwt } from 'jose';
import { signJwt } from '../../src/features/tokens/jwt.js';
import { uuidv7 } from '../../src/features/tokens/jti.js';
import { bearer, createAdmin, createTestApp, registerUser, STRONG_PASSWORD, tokensFor, type TestApp } from '../support/app.js';
import { basic, registerClient, tokenRequest } from '../oauth/support.js';

for (const alg of ['EdDSA', 'HS256'] as const) {
  describe(`access-token checks (${alg}; issue 13 items 17 and 18)`, () => {
    let t: TestApp;
    let bobId: string;
    let root: Awaited<ReturnType<typeof createAdmin>>;
    before(async () => {
      t = await createTestApp({ env: alg === 'HS256' ? { JWT_ALGORITHM: 'HS256', SECRET_KEY: 'k'.repeat(40) } : {} });
      root = await createAdmin(t, 'root');
      bobId = (await registerUser(t.app, 'bob')).id;
      t.clock.advance(1000);
    });
    after(() => t.close());

    /** A token signed with the server's own key, every claim as Warden issues it unless overridden. */
    async function mint(o: { typ?: string; iatOffset?: number; lifetime?: number; claims?: Record<string, unknown> } = {}) {
      const nowMs = t.clock.now();
      const now = Math.floor(nowMs / 1000) + (o.iatOffset ?? 0);
      return signJwt({ scope: 'openid account', client_id: 'warden', ...o.claims }, t.warden.keys.signingKey(), {
        issuer: t.config.issuer,
        audience: t.config.audience,
        subject: bobId,
        expiresInSeconds: o.lifetime ?? t.config.accessTokenTtlSeconds,
        nowSeconds: now,
        jti: uuidv7(nowMs),
        ...(o.typ === undefined ? { typ: 'at+jwt' } : o.typ ? { typ: o.typ } : {}),
      });
    }
    const me = (token: string) => t.app.inject({ url: '/users/me', headers: bearer(token) });

    it('accepts a token made as Warden makes them (the baseline of the refusals below)', async () => {
      assert.equal((await me(await mint())).statusCode, 200);
      assert.equal((await me(await mint({ iatOffset: 59, lifetime: t.config.accessTokenTtlSeconds }))).statusCode, 200, 'within the 60 s clock tolerance');
    });

    it('refuses a typ other than at+jwt (RFC 9068 §2.1), and none', async () => {
      for (const typ of ['JWT', 'jwt', '']) {
        const res = await me(await mint({ typ }));
        assert.equal(res.statusCode, 401, `typ ${JSON.stringify(typ)}`);
        assert.equal(res.headers['www-authenticate'], 'Bearer error="invalid_token", error_description="the access token is missing, invalid, expired or revoked"');
      }
    });

    it('refuses an iat more than 60 s in the future', async () => {
      assert.equal((await me(await mint({ iatOffset: 61 }))).statusCode, 401);
    });

    it('refuses a lifetime (exp - iat) longer than ACCESS_TOKEN_EXPIRE_MINUTES', async () => {
      assert.equal((await me(await mint({ lifetime: t.config.accessTokenTtlSeconds + 1 }))).statusCode, 401);
      assert.equal((await me(await mint({ lifetime: 86400, iatOffset: -3600 }))).statusCode, 401);
    });

    it('refuses a token without client_id (every token Warden issues names one)', async () => {
      assert.equal((await me(await mint({ claims: { client_id: undefined } }))).statusCode, 401);
    });

    it('issues at+jwt tokens naming their client; the password grant without a client names "warden"', async () => {
      const bob = await tokensFor(t.app, 'bob');
      assert.equal(decodeProtectedHeader(bob.access_token).typ, 'at+jwt');
      const claims = decodeJwt(bob.access_token);
      assert.equal(claims.client_id, 'warden');
      assert.equal((claims.exp as number) - (claims.iat as number), t.config.accessTokenTtlSeconds);
      const own = await registerClient(t, root.access_token, { client_name: 'own', grant_types: ['password', 'refresh_token'], first_party: true });
      const named = await tokenRequest(t.app, { grant_type: 'password', username: 'bob', password: STRONG_PASSWORD }, basic(own.client_id, own.client_secret!));
      assert.equal(decodeJwt(named.json().access_token).client_id, own.client_id);
      // The built-in client exists for the guard and for introspection, and cannot be deleted.
      assert.equal((await me(bob.access_token)).statusCode, 200);
      const intro = await tokenRequest(t.app, { token: bob.access_token }, basic(own.client_id, own.client_secret!), '/introspect');
      assert.deepEqual([intro.json().active, intro.json().client_id], [true, 'warden']);
      const del = await t.app.inject({ method: 'DELETE', url: '/admin/clients/warden', headers: bearer(root.access_token) });
      assert.equal(del.statusCode, 409);
      assert.equal(del.json().code, 'reserved_client');
      // An anonymous first-party token is still revocable by whoever holds it (RFC 7009, no client).
      const revoked = await tokenRequest(t.app, { token: bob.access_token }, {}, '/revoke');
      assert.equal(revoked.statusCode, 200);
      assert.equal((await me(bob.access_token)).statusCode, 401);
    });

    it('refuses the tokens of a deleted client at once, cached or not (item 17)', async () => {
      const own = await registerClient(t, root.access_token, { client_name: 'doomed', grant_types: ['password', 'refresh_token'], first_party: true });
      const a = await tokenRequest(t.app, { grant_type: 'password', username: 'bob', password: STRONG_PASSWORD }, basic(own.client_id, own.client_secret!));
      const b = await tokenRequest(t.app, { grant_type: 'password', username: 'bob', password: STRONG_PASSWORD }, basic(own.client_id, own.client_secret!));
      assert.equal((await me(a.json().access_token)).statusCode, 200, 'a: verified and cached before the deletion');
      const del = await t.app.inject({ method: 'DELETE', url: `/admin/clients/${own.client_id}`, headers: bearer(root.access_token) });
      assert.equal(del.statusCode, 204);
      for (const token of [a.json().access_token, b.json().access_token]) {
        const res = await me(token);
        assert.equal(res.statusCode, 401);
        assert.equal(res.headers['www-authenticate'], 'Bearer error="invalid_token", error_description="the client of this token no longer exists"');
      }
    });
  });
}
