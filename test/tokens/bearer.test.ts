import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT, generateKeyPair, exportJWK, jwtVerify, decodeJwt, base64url } from 'jose';
import { createAdmin, createTestApp, registerUser, tokensFor, bearer, type TestApp } from '../support/app.js';

const WWW = /^Bearer error="invalid_token"/;

async function me(t: TestApp, token: string) {
  return t.app.inject({ method: 'GET', url: '/users/me', headers: bearer(token) });
}

function assertInvalidToken(res: Awaited<ReturnType<typeof me>>) {
  assert.equal(res.statusCode, 401, res.body);
  assert.match(String(res.headers['www-authenticate']), WWW);
  assert.equal(res.json().code, 'invalid_token');
}

describe('bearer tokens (EdDSA, default)', () => {
  let t: TestApp;
  let token: string;
  let userId: string;
  before(async () => {
    t = await createTestApp();
    userId = (await registerUser(t.app, 'alice')).id;
    token = (await tokensFor(t.app, 'alice')).access_token;
  });
  after(() => t.close());

  it('accepts a valid token and carries iss, sub, aud, exp, iat, jti, scope, roles', async () => {
    const res = await me(t, token);
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['cache-control'], 'no-store');
    const claims = decodeJwt(token);
    assert.equal(claims.iss, 'http://localhost:8000');
    assert.equal(claims.sub, userId);
    assert.equal(claims.aud, 'warden');
    assert.ok(claims.jti && claims.exp && claims.iat && typeof claims.scope === 'string');
    assert.deepEqual(claims.roles, ['user']);
    assert.equal((claims.exp as number) - (claims.iat as number), 15 * 60);
  });

  it('refuses a missing token with 401 and a Bearer challenge', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/users/me' });
    assert.equal(res.statusCode, 401);
    assert.equal(res.headers['www-authenticate'], 'Bearer');
  });

  it('refuses a malformed Authorization header', async () => {
    assertInvalidToken(await t.app.inject({ method: 'GET', url: '/users/me', headers: { authorization: 'Bearer a b c' } }));
    assertInvalidToken(await me(t, 'not-a-jwt'));
  });

  it('refuses a tampered signature', async () => {
    const [h, p, s] = token.split('.');
    const flipped = s![0] === 'A' ? `B${s!.slice(1)}` : `A${s!.slice(1)}`;
    assertInvalidToken(await me(t, `${h}.${p}.${flipped}`));
  });

  it('refuses a tampered payload (roles escalated) under the original signature', async () => {
    const [h, p, s] = token.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    payload.roles = ['admin'];
    assertInvalidToken(await me(t, `${h}.${base64url.encode(JSON.stringify(payload))}.${s}`));
  });

  it('refuses alg: none', async () => {
    const payload = decodeJwt(token);
    const unsigned = `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${base64url.encode(JSON.stringify(payload))}.`;
    assertInvalidToken(await me(t, unsigned));
  });

  it('refuses key confusion: HS256 signed with the published public key', async () => {
    const jwks = (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' }).catch(() => undefined))?.json?.();
    const pub = jwks?.keys?.[0] ?? (t.warden.keys.jwks().keys[0] as Record<string, unknown>);
    const secret = new TextEncoder().encode(JSON.stringify(pub));
    const forged = await new SignJWT({ ...decodeJwt(token) }).setProtectedHeader({ alg: 'HS256', kid: pub.kid as string }).sign(secret);
    assertInvalidToken(await me(t, forged));
    const x = new TextEncoder().encode(String(pub.x));
    const forged2 = await new SignJWT({ ...decodeJwt(token) }).setProtectedHeader({ alg: 'HS256', kid: pub.kid as string }).sign(x);
    assertInvalidToken(await me(t, forged2));
  });

  it('refuses a token signed by a key that is not ours (same kid)', async () => {
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const kid = (t.warden.keys.jwks().keys[0] as { kid: string }).kid;
    const forged = await new SignJWT({ ...decodeJwt(token) }).setProtectedHeader({ alg: 'EdDSA', kid }).sign(privateKey);
    assertInvalidToken(await me(t, forged));
  });

  it('refuses an expired token (injected clock, no sleeping)', async () => {
    const fresh = (await tokensFor(t.app, 'alice')).access_token;
    assert.equal((await me(t, fresh)).statusCode, 200);
    t.clock.advance(16 * 60 * 1000);
    const res = await me(t, fresh);
    assertInvalidToken(res);
    assert.match(res.json().detail, /expired/);
    t.clock.advance(-16 * 60 * 1000);
  });

  it('refuses a token that is not yet valid (nbf in the future)', async () => {
    const kid = (t.warden.keys.jwks().keys[0] as { kid: string }).kid;
    const key = t.warden.keys.signingKey();
    const now = Math.floor(t.clock.now() / 1000);
    const early = await new SignJWT({ ...decodeJwt(token), nbf: now + 3600 })
      .setProtectedHeader({ alg: 'EdDSA', kid })
      .sign(key.signKey as CryptoKey);
    assertInvalidToken(await me(t, early));
  });

  it('refuses a token for another issuer or audience', async () => {
    const kid = (t.warden.keys.jwks().keys[0] as { kid: string }).kid;
    const key = t.warden.keys.signingKey();
    const claims = decodeJwt(token);
    const otherIss = await new SignJWT({ ...claims, iss: 'https://evil.example' }).setProtectedHeader({ alg: 'EdDSA', kid }).sign(key.signKey as CryptoKey);
    assertInvalidToken(await me(t, otherIss));
    const otherAud = await new SignJWT({ ...claims, aud: 'another-api' }).setProtectedHeader({ alg: 'EdDSA', kid }).sign(key.signKey as CryptoKey);
    assertInvalidToken(await me(t, otherAud));
  });

  it('refuses tokens of a disabled user at once, and of a deleted user', async () => {
    const bob = await registerUser(t.app, 'bob');
    const bobToken = (await tokensFor(t.app, 'bob')).access_token;
    assert.equal((await me(t, bobToken)).statusCode, 200);
    await t.warden.users.adminUpdate('test', bob.id, { disabled: true }, {});
    assertInvalidToken(await me(t, bobToken));
    const login = await t.app.inject({
      method: 'POST',
      url: '/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'username=bob&password=correct+horse+battery+staple',
    });
    assert.equal(login.statusCode, 400);
    assert.equal(login.json().error, 'invalid_grant');

    const carol = await registerUser(t.app, 'carol');
    const carolToken = (await tokensFor(t.app, 'carol')).access_token;
    const { deleteUser } = await import('../../src/features/users/repository.js');
    await deleteUser(t.warden.db, carol.id);
    await t.warden.userCache.invalidate(carol.id);
    assertInvalidToken(await me(t, carolToken));
  });

  it('refuses tokens issued before a forced logout, accepts ones issued after', async () => {
    const dave = await registerUser(t.app, 'dave');
    const before = (await tokensFor(t.app, 'dave')).access_token;
    assert.equal((await me(t, before)).statusCode, 200, 'verified and cached, the user cached too');
    await t.warden.users.forceLogout('test', dave.id, {});
    assertInvalidToken(await me(t, before));
    t.clock.advance(1); // the manual clock stands still; real time moves at least the hash time (~10 ms)
    const afterLogout = (await tokensFor(t.app, 'dave')).access_token;
    assert.equal((await me(t, afterLogout)).statusCode, 200);
  });

  it('refuses a revoked jti', async () => {
    const fresh = (await tokensFor(t.app, 'alice')).access_token;
    const c = decodeJwt(fresh);
    assert.equal((await me(t, fresh)).statusCode, 200, 'verified and cached');
    await t.warden.revocations.revoke(c.jti!, (c.exp as number) * 1000);
    assertInvalidToken(await me(t, fresh));
  });

  it('a cached token is accepted under every spelling the pattern allows, and not with anything appended', async () => {
    const fresh = (await tokensFor(t.app, 'alice')).access_token;
    assert.equal((await me(t, fresh)).statusCode, 200);
    for (const authorization of [`bearer ${fresh}`, `Bearer   ${fresh}`, `BEARER ${fresh} `]) {
      assert.equal((await t.app.inject({ method: 'GET', url: '/users/me', headers: { authorization } })).statusCode, 200, authorization.slice(0, 9));
    }
    for (const authorization of [`Bearer ${fresh}x`, `Bearer ${fresh} x`, `Bearer ${fresh},`, `Basic ${fresh}`]) {
      assertInvalidToken(await t.app.inject({ method: 'GET', url: '/users/me', headers: { authorization } }));
    }
  });

  it('a cached token’s signature under another payload or header is no cache hit (the cache is keyed by the signature)', async () => {
    const fresh = (await tokensFor(t.app, 'alice')).access_token;
    assert.equal((await me(t, fresh)).statusCode, 200, 'verified and cached');
    const [header, payload, signature] = fresh.split('.') as [string, string, string];
    const claims = decodeJwt(fresh);
    const promoted = base64url.encode(JSON.stringify({ ...claims, roles: ['admin'], sub: 'someone-else' }));
    assertInvalidToken(await me(t, `${header}.${promoted}.${signature}`));
    const none = base64url.encode(JSON.stringify({ alg: 'none', typ: 'at+jwt' }));
    assertInvalidToken(await me(t, `${none}.${payload}.${signature}`));
    assert.equal((await me(t, fresh)).statusCode, 200, 'the real token is still cached and accepted');
  });
});

describe('bearer tokens (HS256 shared secret, the FastAPI seeds’ way)', () => {
  const SECRET = 'a-long-random-shared-secret-of-at-least-32-bytes!';
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ env: { JWT_ALGORITHM: 'HS256', SECRET_KEY: SECRET, JWT_AUDIENCE: '', JWT_SUBJECT: 'username' } });
    await registerUser(t.app, 'alice');
  });
  after(() => t.close());

  it('issues tokens a seed service decodes with jwt.decode(token, SECRET_KEY, algorithms=["HS256"])', async () => {
    const { access_token } = await tokensFor(t.app, 'alice');
    // What PyJWT does: verify HS256 with the secret, no audience expected, sub is the username.
    const { payload, protectedHeader } = await jwtVerify(access_token, new TextEncoder().encode(SECRET), { algorithms: ['HS256'] });
    assert.equal(protectedHeader.alg, 'HS256');
    assert.equal(payload.sub, 'alice');
    assert.equal(payload.aud, undefined);
    assert.equal((await me(t, access_token)).statusCode, 200);
  });

  // Why docs/resource-server.md warns against HS256 with more than one service: the secret that
  // verifies is the secret that signs. Whoever holds SECRET_KEY mints tokens Warden itself accepts,
  // for any user (an admin included) and any scope, without a password.
  it('accepts a token minted by any holder of SECRET_KEY, for any user: the shared secret signs as well as verifies', async () => {
    await createAdmin(t, 'root');
    const now = Math.floor(Date.now() / 1000);
    const minted = await new SignJWT({ client_id: 'warden', scope: 'account admin', roles: ['admin'], jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .setIssuer(t.config.issuer)
      .setSubject('root')
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .sign(new TextEncoder().encode(SECRET));
    const res = await me(t, minted);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().username, 'root');
    assert.equal((await t.app.inject({ method: 'GET', url: '/admin-only', headers: bearer(minted) })).statusCode, 200);
  });

  it('refuses an HS256 token signed with another secret, and an EdDSA token', async () => {
    const claims = decodeJwt((await tokensFor(t.app, 'alice')).access_token);
    const wrong = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('x'.repeat(48)));
    assertInvalidToken(await me(t, wrong));
    const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    void (await exportJWK(publicKey));
    const ed = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA' }).sign(privateKey);
    assertInvalidToken(await me(t, ed));
  });
});
