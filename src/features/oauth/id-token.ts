import { createHash } from 'node:crypto';
import { findSession } from '../sessions/repository.js';
import { signJwt, TokenError, verifyJwt } from '../tokens/jwt.js';
import type { Warden } from '../../kernel/warden.js';
import { subjectOf, userClaims } from './claims.js';
import type { TokenResponse } from './grant.js';
import type { IssueForUser } from './grant.js';

/**
 * OIDC Core §3.1.3.6 at_hash: the left half of the access token's hash, with the hash of the signing
 * algorithm — SHA-256 for ES256/HS256, SHA-512 for EdDSA over Ed25519 (as relying parties compute it).
 */
export function accessTokenHash(accessToken: string, alg: string): string {
  const digest = createHash(alg === 'EdDSA' ? 'sha512' : 'sha256').update(accessToken, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

/**
 * The `acr` Warden states (OIDC Core §2; discovery's acr_values_supported): "1" a single factor (a
 * password), "2" two factors (a password and a one-time code). docs/sessions.md.
 */
export function acrOf(amr: readonly string[]): '1' | '2' {
  return amr.length >= 2 ? '2' : '1';
}
export const ACR_VALUES = ['1', '2'] as const;

/** How the session was signed in (RFC 8176 `amr`): the sign-in's own, or its session's. */
async function sessionAmr(w: Warden, req: IssueForUser): Promise<readonly string[] | undefined> {
  if (req.newSession) return req.newSession.amr;
  if (req.amr) return req.amr;
  return req.sessionId ? (await findSession(w.db, req.sessionId))?.amr : undefined;
}

/** The id_token lives as long as the access token it comes with. */
export async function signIdToken(w: Warden, req: IssueForUser, accessToken: string): Promise<string> {
  // Asymmetric even with JWT_ALGORITHM=HS256: a relying party verifies it from the JWKS, never with SECRET_KEY.
  const key = w.keys.idTokenKey();
  const nowS = Math.floor(w.clock.now() / 1000);
  const amr = await sessionAmr(w, req);
  const claims: Record<string, unknown> = {
    // Always present (OIDC Core §2 makes it required with max_age or when asked for; always is allowed).
    auth_time: Math.floor(req.authTime.getTime() / 1000),
    at_hash: accessTokenHash(accessToken, key.alg),
    ...(amr?.length ? { amr: [...amr], acr: acrOf(amr) } : {}),
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

/** What /logout learns from a verified id_token_hint. */
export interface IdTokenHint {
  clientId: string;
  sub: string;
  sid: string | undefined;
}

/**
 * OIDC RP-Initiated Logout §2: an id_token this server issued — our issuer, signed by one of our
 * (asymmetric, published) keys, typ JWT (an access token, `at+jwt`, or a logout token does not pass) —
 * accepted after its expiry, as the spec allows. Undefined when it is not one.
 */
export async function verifyIdTokenHint(w: Warden, token: string): Promise<IdTokenHint | undefined> {
  try {
    const payload = await verifyJwt(token, {
      issuer: w.config.issuer,
      algorithms: ['EdDSA', 'ES256'],
      nowSeconds: Math.floor(w.clock.now() / 1000),
      resolveKey: (kid, alg) => w.keys.verificationKey(kid, alg),
      typ: 'JWT',
      requiredClaims: ['aud'],
      allowExpired: true,
    });
    const aud = Array.isArray(payload.aud) ? (payload.aud.length === 1 ? payload.aud[0] : payload.azp) : payload.aud;
    if (typeof aud !== 'string' || typeof payload.sub !== 'string') return undefined;
    return { clientId: aud, sub: payload.sub, sid: typeof payload.sid === 'string' ? payload.sid : undefined };
  } catch (e) {
    if (e instanceof TokenError) return undefined;
    throw e;
  }
}
