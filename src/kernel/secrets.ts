import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Opaque secrets (refresh tokens, codes, mailed links, CSRF and interaction handles): made here, stored
 * only as their digest, and compared in constant time. One place, so a weaker copy cannot creep in.
 */

/** 256 bits from the CSPRNG, base64url, after an optional prefix that names the kind (`wrt_`, `wcs_`). */
export function newOpaqueToken(prefix = ''): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

/**
 * What is stored or used as a key instead of the secret: SHA-256, base64url. A fast hash is enough for
 * 256-bit random secrets (nothing to guess); passwords go to argon2id instead.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/**
 * Constant-time equality of two secrets (a form's CSRF token and the expected one, a PKCE challenge).
 * Both sides are hashed first, so neither the contents nor the length of the expected one leak through
 * the comparison's time.
 */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given === expected;
}
