import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { accessTokenHash } from '../../src/features/oauth/id-token.js';
import { createTestApp, registerUser, STRONG_PASSWORD, type TestApp } from '../support/app.js';
import { adminToken, authorizeCode, basic, exchangeCode, pkce, registerClient, type RegisteredClient } from './support.js';

const SECRET = 's'.repeat(48);
const REDIRECT = 'https://rp.example.com/cb';

/**
 * JWT_ALGORITHM=HS256: access tokens use SECRET_KEY, but an id_token goes to relying parties, which must
 * verify it without that secret (with it, they could mint access tokens). It is signed with an asymmetric
 * key from the JWKS.
 */
describe('id_token with JWT_ALGORITHM=HS256', () => {
  let t: TestApp;
  let rp: RegisteredClient;
  before(async () => {
    t = await createTestApp({ env: { JWT_ALGORITHM: 'HS256', SECRET_KEY: SECRET } });
    rp = await registerClient(t, await adminToken(t), { client_name: 'RP', redirect_uris: [REDIRECT], scope: 'openid profile' });
    await registerUser(t.app, 'alice');
  });
  after(() => t.close());

  async function codeFlowTokens() {
    const p = pkce();
    const cb = await authorizeCode(t.app, { clientId: rp.client_id, redirectUri: REDIRECT, scope: 'openid profile', challenge: p.challenge, username: 'alice', password: STRONG_PASSWORD, nonce: 'n' });
    const res = await exchangeCode(t.app, { code: cb.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: p.verifier }, basic(rp.client_id, rp.client_secret!));
    assert.equal(res.statusCode, 200, res.body);
    return res.json() as { access_token: string; id_token: string };
  }

  it('the id_token verifies against the JWKS (ES256) and not with SECRET_KEY; the access token stays HS256', async () => {
    const { access_token, id_token } = await codeFlowTokens();
    const jwks = (await t.app.inject({ url: '/.well-known/jwks.json' })).json() as { keys: { kid: string; alg: string }[] };
    assert.deepEqual(
      jwks.keys.map((k) => k.alg),
      ['ES256'],
    );
    const header = decodeProtectedHeader(id_token);
    assert.deepEqual([header.alg, header.kid], ['ES256', jwks.keys[0]!.kid]);
    const { payload } = await jwtVerify(id_token, createLocalJWKSet(jwks as never), { issuer: t.config.issuer, audience: rp.client_id });
    assert.equal(payload.nonce, 'n');
    assert.equal(payload.at_hash, accessTokenHash(access_token, 'ES256'));
    await assert.rejects(jwtVerify(id_token, new TextEncoder().encode(SECRET), { algorithms: ['HS256'] }), { code: 'ERR_JOSE_ALG_NOT_ALLOWED' });
    const [h, p, sig] = id_token.split('.');
    assert.notEqual(createHmac('sha256', SECRET).update(`${h}.${p}`).digest('base64url'), sig, 'not an HMAC with SECRET_KEY');
    assert.equal(decodeProtectedHeader(access_token).alg, 'HS256');
    await jwtVerify(access_token, new TextEncoder().encode(SECRET), { algorithms: ['HS256'] });
  });

  it('discovery says so, and an ES256 token is not accepted as an access token', async () => {
    const meta = (await t.app.inject({ url: '/.well-known/openid-configuration' })).json();
    assert.deepEqual(meta.id_token_signing_alg_values_supported, ['ES256']);
    const { id_token } = await codeFlowTokens();
    const res = await t.app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${id_token}` } });
    assert.equal(res.statusCode, 401);
  });
});
