import assert from 'node:assert/strict';
import { createSign, createPrivateKey } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import { generateSigningKey, importKeyPair, secretKeyMaterial, signJwt, verifyJwt, type KeyMaterial, type SigningAlg } from '../../src/features/tokens/jwt.js';
import { uuidv7, uuidv7Time } from '../../src/features/tokens/jti.js';

const NOW = 1_800_000_000;
const opts = { issuer: 'https://id.example', audience: 'api', subject: 'u1', expiresInSeconds: 600, nowSeconds: NOW, jti: 'j1', typ: 'at+jwt' };

async function material(alg: SigningAlg): Promise<{ key: KeyMaterial; verifyWith: () => Promise<Parameters<typeof jwtVerify>[1]> }> {
  if (alg === 'HS256') {
    const key = secretKeyMaterial('s'.repeat(32));
    return { key, verifyWith: async () => key.verifyKey as Uint8Array };
  }
  const g = await generateSigningKey(alg);
  const key = await importKeyPair(g.kid, alg, g.publicJwk, g.privateJwk);
  return { key, verifyWith: () => importJWK(g.publicJwk, alg) as never };
}

describe('signJwt checked by jose', () => {
  for (const alg of ['EdDSA', 'ES256', 'HS256'] as const) {
    it(`${alg}: jose verifies the signature with the published key, and every claim and header field is there`, async () => {
      const { key, verifyWith } = await material(alg);
      const token = await signJwt({ scope: 'a b', roles: ['user'] }, key, opts);
      const { payload, protectedHeader } = await jwtVerify(token, await verifyWith(), {
        algorithms: [alg],
        issuer: opts.issuer,
        audience: opts.audience,
        currentDate: new Date((NOW + 1) * 1000),
        typ: 'at+jwt',
      });
      assert.deepEqual(payload, { scope: 'a b', roles: ['user'], iss: opts.issuer, sub: 'u1', aud: 'api', iat: NOW, exp: NOW + 600, jti: 'j1' });
      assert.equal(protectedHeader.alg, alg);
      assert.equal(protectedHeader.kid, key.kid);
      // Our own verifier accepts it too.
      await verifyJwt(token, { issuer: opts.issuer, audience: 'api', algorithms: [alg], nowSeconds: NOW + 1, resolveKey: async () => key });
    });
  }

  it('ES256 signatures are r||s (64 bytes, RFC 7518 §3.4): a DER-encoded one is refused', async () => {
    const g = await generateSigningKey('ES256');
    const key = await importKeyPair(g.kid, 'ES256', g.publicJwk, g.privateJwk);
    const token = await signJwt({}, key, opts);
    assert.equal(Buffer.from(token.split('.')[2]!, 'base64url').length, 64);
    const input = token.split('.').slice(0, 2).join('.');
    const der = createSign('sha256').update(input).sign(createPrivateKey({ key: g.privateJwk as never, format: 'jwk' }));
    const resolveKey = async () => key;
    await assert.rejects(
      verifyJwt(`${input}.${der.toString('base64url')}`, { issuer: opts.issuer, audience: 'api', algorithms: ['ES256'], nowSeconds: NOW, resolveKey }),
      { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' },
    );
  });

  it('sets the registered claims last: claims passed in cannot override iss, sub, iat, exp, aud or jti', async () => {
    const { key } = await material('EdDSA');
    const forged = { iss: 'https://evil.example', sub: 'admin', iat: 1, exp: NOW * 2, aud: 'other', jti: 'x', scope: 's' };
    const token = await signJwt(forged, key, opts);
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    assert.deepEqual(payload, { scope: 's', iss: opts.issuer, sub: 'u1', iat: NOW, exp: NOW + 600, aud: 'api', jti: 'j1' });
  });

  it('omits aud when there is no audience (the FastAPI seeds decode without one)', async () => {
    const key = secretKeyMaterial('s'.repeat(32));
    const token = await signJwt({}, key, { ...opts, audience: undefined, typ: 'JWT' });
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    assert.equal('aud' in payload, false);
    assert.deepEqual(decodeProtectedHeader(token), { alg: 'HS256', typ: 'JWT' });
  });
});

describe('uuidv7', () => {
  it('is an RFC 9562 version 7 UUID carrying the millisecond it was made in', () => {
    const ms = 1_796_000_000_123;
    const id = uuidv7(ms);
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(uuidv7Time(id), ms);
  });

  it('differs between ids of the same millisecond (74 random bits)', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => uuidv7(1_796_000_000_000)));
    assert.equal(ids.size, 10_000);
  });
});
