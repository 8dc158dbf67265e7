import { createHash } from 'node:crypto';
import { signJwt } from '../tokens/jwt.js';
import type { Warden } from '../warden.js';
import { subjectOf, userClaims } from './claims.js';
import type { TokenResponse } from './grant.js';
import type { IssueForUser } from './issue.js';

/**
 * OIDC Core §3.1.3.6 at_hash: the left half of the access token's hash, with the hash of the signing
 * algorithm — SHA-256 for ES256/HS256, SHA-512 for EdDSA over Ed25519 (as relying parties compute it).
 */
export function accessTokenHash(accessToken: string, alg: string): string {
  const digest = createHash(alg === 'EdDSA' ? 'sha512' : 'sha256').update(accessToken, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

/** The id_token lives as long as the access token it comes with. */
export async function signIdToken(w: Warden, req: IssueForUser, accessToken: string): Promise<string> {
  // Asymmetric even with JWT_ALGORITHM=HS256: a relying party verifies it from the JWKS, never with SECRET_KEY.
  const key = w.keys.idTokenKey();
  const nowS = Math.floor(w.clock.now() / 1000);
  const claims: Record<string, unknown> = {
    auth_time: Math.floor(req.authTime.getTime() / 1000),
    at_hash: accessTokenHash(accessToken, key.alg),
    ...userClaims(req.user, req.scopes),
  };
  if (req.nonce) claims.nonce = req.nonce;
  // OIDC Front-/Back-Channel Logout: the session (sid) the relying party's sign-in belongs to.
  if (req.sessionId) claims.sid = req.sessionId;
  return signJwt(claims, key, {
    issuer: w.config.issuer,
    audience: req.clientId!,
    subject: subjectOf(req.user, w.config.JWT_SUBJECT),
    expiresInSeconds: w.config.accessTokenTtlSeconds,
    nowSeconds: nowS,
    typ: 'JWT',
  });
}

/** tokenResponseExtensions hook: an id_token when `openid` was granted to a client (aud needs one). */
export async function addIdToken(w: Warden, req: IssueForUser, res: TokenResponse): Promise<void> {
  if (!req.clientId || !req.scopes.includes('openid')) return;
  res.id_token = await signIdToken(w, req, res.access_token);
}
