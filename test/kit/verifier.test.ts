import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createVerifier, WardenAuthError, type VerifierOptions } from '../../packages/resource-server/src/index.js';
import { FakeIssuer, newKey, type SigningKey } from './fake-issuer.js';

const AUD = 'https://orders.example';
const T0 = 1_800_000_000_000;

/** The WardenAuthError a promise rejects with. */
async function refusal(p: Promise<unknown>): Promise<WardenAuthError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof WardenAuthError, String(e));
    return e;
  }
  assert.fail('was accepted');
}

describe('createVerifier (RFC 9068 access tokens via the JWKS)', () => {
  let idp: FakeIssuer;
  let key: SigningKey;
  let clock: number;
  before(async () => {
    idp = await new FakeIssuer().start();
    key = await newKey('k1');
    idp.keys.push(key);
  });
  after(() => idp.close());
  const verifier = (over: Partial<VerifierOptions> = {}) => {
    clock = T0;
    return createVerifier({ issuer: idp.issuer, audience: AUD, now: () => clock, ...over });
  };
  const nowS = () => Math.floor(clock / 1000);

  it('answers sub, clientId, scopes, roles and the claims of a valid token', async () => {
    const v = verifier();
    const p = await v.verify(await idp.token(key, nowS(), { claims: { scope: 'orders:read orders:write', roles: ['clerk'] } }));
    assert.equal(p.sub, 'user-1');
    assert.equal(p.clientId, 'wc-app');
    assert.deepEqual(p.scopes, ['orders:read', 'orders:write']);
    assert.deepEqual(p.roles, ['clerk']);
    assert.equal(p.claims.aud, AUD);
  });

  it('ES256 is accepted by default too', async () => {
    const es = await newKey('es1', 'ES256');
    idp.keys.push(es);
    try {
      assert.equal((await verifier().verify(await idp.token(es, nowS()))).sub, 'user-1');
    } finally {
      idp.keys.pop();
    }
  });

  for (const [name, over, description] of [
    ['another audience', { aud: 'https://billing.example' }, 'the access token is for another audience'],
    ['another issuer', { iss: 'https://evil.example' }, 'the access token is from another issuer'],
    ['an id_token (typ JWT)', { header: { typ: 'JWT' } }, 'not an access token (RFC 9068 typ at+jwt)'],
    ['no typ', { header: { typ: undefined } }, 'not an access token (RFC 9068 typ at+jwt)'],
    ['an expired token', { ttl: -1 }, 'the access token has expired'],
    ['a kid the JWKS does not have', { header: { kid: 'forged' } }, 'the access token is signed by an unknown key'],
  ] as const) {
    it(`refuses ${name}: 401 invalid_token`, async () => {
      const v = verifier();
      const e = await refusal(v.verify(await idp.token(key, nowS(), over)));
      assert.equal(e.status, 401);
      assert.equal(e.code, 'invalid_token');
      assert.equal(e.description, description);
      assert.equal(e.wwwAuthenticate, `Bearer error="invalid_token", error_description="${description}"`);
    });
  }

  it('accepts application/at+jwt, the media-type spelling of the same typ (RFC 9068 §2.1)', async () => {
    assert.equal((await verifier().verify(await idp.token(key, nowS(), { header: { typ: 'application/at+jwt' } }))).sub, 'user-1');
  });

  it('refuses a token not yet valid (nbf)', async () => {
    const v = verifier();
    assert.equal((await refusal(v.verify(await idp.token(key, nowS(), { claims: { nbf: nowS() + 60 } })))).description, `the access token's nbf claim is invalid`);
  });

  it('pins the algorithm: HS256 signed with the public key as secret (key confusion) and alg none are refused', async () => {
    const v = verifier();
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const payload = b64({ iss: idp.issuer, aud: AUD, sub: 'user-1', iat: nowS(), exp: nowS() + 60, scope: 'orders:read' });
    const hsHead = b64({ alg: 'HS256', kid: 'k1', typ: 'at+jwt' });
    const sig = createHmac('sha256', JSON.stringify(key.publicJwk)).update(`${hsHead}.${payload}`).digest('base64url');
    const hs = await refusal(v.verify(`${hsHead}.${payload}.${sig}`));
    assert.equal(hs.description, 'the access token is signed with an algorithm this service does not accept');
    const none = await refusal(v.verify(`${b64({ alg: 'none', typ: 'at+jwt' })}.${payload}.`));
    assert.equal(none.code, 'invalid_token');
    assert.throws(() => createVerifier({ issuer: idp.issuer, audience: AUD, algorithms: ['HS256'] }), /asymmetric/);
  });

  it('clockToleranceSeconds accepts a token expired within the leeway, and not beyond', async () => {
    const v = verifier({ clockToleranceSeconds: 30 });
    const token = await idp.token(key, nowS(), { ttl: 60 });
    clock += 80_000;
    assert.equal((await v.verify(token)).sub, 'user-1');
    clock += 20_000;
    assert.equal((await refusal(v.verify(token))).description, 'the access token has expired');
  });

  it('a remembered token stops being accepted when it expires', async () => {
    const v = verifier();
    const token = await idp.token(key, nowS(), { ttl: 60 });
    await v.verify(token);
    clock += 60_000;
    assert.equal((await refusal(v.verify(token))).description, 'the access token has expired');
  });

  it('a new key after rotation is fetched once; forged kids refetch at most once per cooldown', async () => {
    const v = verifier({ jwksCooldownSeconds: 30 });
    const before = idp.jwksRequests;
    await v.verify(await idp.token(key, nowS()));
    assert.equal(idp.jwksRequests - before, 1, 'first use fetches the JWKS');
    const k2 = await newKey('k2');
    idp.keys.push(k2);
    try {
      // Warden rotated: the first token with the new kid refetches and is accepted.
      assert.equal((await v.verify(await idp.token(k2, nowS()))).sub, 'user-1');
      assert.equal(idp.jwksRequests - before, 2);
      // An attacker's stream of made-up kids: no refetch within the cooldown …
      for (let i = 0; i < 20; i++) await refusal(v.verify(await idp.token(key, nowS(), { header: { kid: `forged-${i}` } })));
      assert.equal(idp.jwksRequests - before, 2);
      clock += 29_000;
      await refusal(v.verify(await idp.token(key, nowS(), { header: { kid: 'forged-x' } })));
      assert.equal(idp.jwksRequests - before, 2);
      // … and one once it has passed.
      clock += 1_000;
      await refusal(v.verify(await idp.token(key, nowS(), { header: { kid: 'forged-y' } })));
      assert.equal(idp.jwksRequests - before, 3);
      // Known kids never refetch.
      await v.verify(await idp.token(k2, nowS()));
      assert.equal(idp.jwksRequests - before, 3);
    } finally {
      idp.keys.pop();
    }
  });

  it('the JWKS is fetched again after jwksMaxAgeSeconds (a retired key stops verifying)', async () => {
    const v = verifier({ jwksMaxAgeSeconds: 600 });
    const before = idp.jwksRequests;
    await v.verify(await idp.token(key, nowS()));
    clock += 600_000;
    await v.verify(await idp.token(key, nowS()));
    assert.equal(idp.jwksRequests - before, 2);
  });

  it('refuses a discovery document that names another issuer (OIDC Discovery §4.3)', async () => {
    const v = createVerifier({ issuer: `${idp.issuer}/`, audience: AUD });
    await assert.rejects(v.verify(await idp.token(key, Math.floor(Date.now() / 1000))), /names the issuer/);
  });

  it('authenticate(): no credentials 401 without a code, a bare "Bearer" 400 invalid_request (RFC 6750 §3.1)', async () => {
    const v = verifier();
    for (const header of [undefined, '', 'Basic dXNlcjpwYXNz']) {
      const e = await refusal(v.authenticate(header));
      assert.equal(e.status, 401);
      assert.equal(e.wwwAuthenticate, 'Bearer');
      assert.deepEqual(e.body(), { error: 'missing_token', error_description: 'authentication required: send Authorization: Bearer <token>' });
    }
    for (const header of ['Bearer', 'Bearer ', 'Bearer a b']) {
      const e = await refusal(v.authenticate(header));
      assert.equal(e.status, 400);
      assert.equal(e.code, 'invalid_request');
    }
    const token = await idp.token(key, nowS());
    assert.equal((await v.authenticate(`bearer ${token}`)).sub, 'user-1');
  });
});

describe('createVerifier introspection mode (RFC 7662)', () => {
  let idp: FakeIssuer;
  let key: SigningKey;
  before(async () => {
    idp = await new FakeIssuer().start();
    key = await newKey('k1');
    idp.keys.push(key);
    idp.clients.set('svc:orders', 'sécret');
  });
  after(() => idp.close());

  it('asks Warden about every request: a revoked token is refused at the next one', async () => {
    const clock = T0;
    const v = createVerifier({ issuer: idp.issuer, audience: AUD, now: () => clock, introspection: { clientId: 'svc:orders', clientSecret: 'sécret' } });
    const token = await idp.token(key, T0 / 1000, { claims: { jti: 'a' } });
    idp.active.add('a');
    const before = idp.introspections;
    assert.equal((await v.verify(token)).sub, 'user-1');
    assert.equal((await v.verify(token)).sub, 'user-1');
    assert.equal(idp.introspections - before, 2);
    idp.active.delete('a');
    const e = await refusal(v.verify(token));
    assert.equal(e.description, 'the access token is no longer active');
  });

  it('cacheSeconds: an active answer is trusted that long, then Warden is asked again', async () => {
    let clock = T0;
    const v = createVerifier({ issuer: idp.issuer, audience: AUD, now: () => clock, introspection: { clientId: 'svc:orders', clientSecret: 'sécret', cacheSeconds: 5 } });
    const token = await idp.token(key, T0 / 1000, { claims: { jti: 'b' } });
    idp.active.add('b');
    const before = idp.introspections;
    await v.verify(token);
    idp.active.delete('b');
    clock += 4_999;
    assert.equal((await v.verify(token)).sub, 'user-1', 'within the cache');
    assert.equal(idp.introspections - before, 1);
    clock += 1;
    await refusal(v.verify(token));
    assert.equal(idp.introspections - before, 2);
  });

  it('the token is checked locally first: a token for another audience never reaches Warden', async () => {
    const v = createVerifier({ issuer: idp.issuer, audience: AUD, introspection: { clientId: 'svc:orders', clientSecret: 'sécret' } });
    const before = idp.introspections;
    const e = await refusal(v.verify(await idp.token(key, Math.floor(Date.now() / 1000), { aud: 'https://billing.example' })));
    assert.equal(e.description, 'the access token is for another audience');
    assert.equal(idp.introspections, before);
  });

  it('wrong client credentials are a server fault, not the caller\'s: the error is not a 401', async () => {
    const v = createVerifier({ issuer: idp.issuer, audience: AUD, introspection: { clientId: 'svc:orders', clientSecret: 'wrong' } });
    const token = await idp.token(key, Math.floor(Date.now() / 1000), { claims: { jti: 'c' } });
    await assert.rejects(v.verify(token), (e) => !(e instanceof WardenAuthError) && /HTTP 401/.test(String(e)));
  });
});
