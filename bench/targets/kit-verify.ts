/**
 * The Node verifier (@warden/resource-server) against bare `jose.jwtVerify` with the key already imported,
 * in one process, taking turns (A B A B) over the same distinct Ed25519 access tokens, so each side checks
 * a signature every time. Also the verifier on one token again and again (its verified-token cache).
 * argv[2]: seconds per turn. Prints {bare, kit, kitCached} verifications per second as JSON.
 */
import { exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { createVerifier } from '../../packages/resource-server/src/index.js';

const SECONDS = Number(process.argv[2] ?? 3);
const ISSUER = 'https://auth.bench.invalid';
const AUDIENCE = 'https://orders.example';
const { publicKey, privateKey } = await generateKeyPair('EdDSA');
const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'EdDSA', use: 'sig' };
const now = Math.floor(Date.now() / 1000);
const tokens = await Promise.all(
  Array.from({ length: 2000 }, (_, i) =>
    new SignJWT({ scope: 'orders:read', roles: ['user'], client_id: 'wc-bench', jti: `j${i}` })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'k1', typ: 'at+jwt' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(`user-${i}`)
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(privateKey),
  ),
);
// Discovery and the JWKS without a network: the figure is the verification, not a socket.
const answers: Record<string, unknown> = {
  [`${ISSUER}/.well-known/openid-configuration`]: { issuer: ISSUER, jwks_uri: `${ISSUER}/jwks` },
  [`${ISSUER}/jwks`]: { keys: [jwk] },
};
const fetchLocal = (async (url: string) => new Response(JSON.stringify(answers[url]), { status: 200 })) as typeof fetch;
const uncached = createVerifier({ issuer: ISSUER, audience: AUDIENCE, cacheSize: 0, fetch: fetchLocal });
const cached = createVerifier({ issuer: ISSUER, audience: AUDIENCE, fetch: fetchLocal });
const options = { issuer: ISSUER, audience: AUDIENCE, algorithms: ['EdDSA'], typ: 'at+jwt' };

async function rate(verify: (token: string) => Promise<unknown>, pick: (i: number) => string): Promise<number> {
  const end = performance.now() + SECONDS * 1000;
  let n = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++) await verify(pick(n++));
  }
  return n / SECONDS;
}

const round = (i: number) => tokens[i % tokens.length]!;
const bareVerify = (t: string) => jwtVerify(t, publicKey, options);
await rate(bareVerify, round);
await rate((t) => uncached.verify(t), round);
let bare = 0;
let kit = 0;
for (let turn = 0; turn < 2; turn++) {
  bare = Math.max(bare, await rate(bareVerify, round));
  kit = Math.max(kit, await rate((t) => uncached.verify(t), round));
}
const kitCached = await rate((t) => cached.verify(t), () => tokens[0]!);
console.log(JSON.stringify({ bare, kit, kitCached }));
