import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';

/** What a backend service does with Warden's tokens: verify against the published JWKS (no shared secret). */
export function createJwtVerifier(jwksUrl: string, issuer: string) {
  const jwks = createRemoteJWKSet(new URL(jwksUrl));
  return async (token: string, audience: string): Promise<JWTPayload> => (await jwtVerify(token, jwks, { issuer, audience, algorithms: ['EdDSA'] })).payload;
}
