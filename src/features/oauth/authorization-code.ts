import { and, eq, isNull, lt } from 'drizzle-orm';
import type { Executor } from '../../kernel/storage/database.js';
import { authorizationCodes } from './tables.js';
import { hashToken, newOpaqueToken, sameSecret } from '../../kernel/secrets.js';

export type CodeRow = typeof authorizationCodes.$inferSelect;

/** RFC 6749 §4.1.2 recommends at most ten minutes; a code is exchanged within seconds, so 60 s. */
export const CODE_TTL_SECONDS = 60;

export interface NewCode {
  clientId: string;
  userId: string;
  redirectUri: string;
  scope: string;
  /** The API identifier (RFC 8707); null or absent: Warden's own API. */
  resource?: string | null | undefined;
  codeChallenge: string;
  nonce: string | undefined;
  authTime: Date;
  /** The /authorize sign-in session it was issued in: the tokens it is exchanged for belong to it. */
  sessionId: string | null;
  now: Date;
}

export async function createAuthorizationCode(ex: Executor, c: NewCode): Promise<string> {
  const code = newOpaqueToken('wac_');
  await ex.insert(authorizationCodes).values({
    codeHash: hashToken(code),
    clientId: c.clientId,
    userId: c.userId,
    redirectUri: c.redirectUri,
    scope: c.scope,
    resource: c.resource ?? null,
    codeChallenge: c.codeChallenge,
    nonce: c.nonce ?? null,
    authTime: c.authTime,
    sessionId: c.sessionId,
    expiresAt: new Date(c.now.getTime() + CODE_TTL_SECONDS * 1000),
    createdAt: c.now,
  });
  return code;
}

export type ConsumeCode = { kind: 'ok'; row: CodeRow } | { kind: 'reused'; row: CodeRow } | { kind: 'unknown' };

/**
 * Single use is a property of the model: the UPDATE … WHERE consumed_at IS NULL lets exactly one of
 * any number of concurrent exchanges through. A code already consumed is `reused` (RFC 6749 §4.1.2:
 * the tokens issued from it should be revoked).
 */
export async function consumeAuthorizationCode(ex: Executor, code: string, now: Date): Promise<ConsumeCode> {
  const codeHash = hashToken(code);
  const [claimed] = await ex
    .update(authorizationCodes)
    .set({ consumedAt: now })
    .where(and(eq(authorizationCodes.codeHash, codeHash), isNull(authorizationCodes.consumedAt)))
    .returning();
  if (claimed) return { kind: 'ok', row: claimed };
  const [row] = await ex.select().from(authorizationCodes).where(eq(authorizationCodes.codeHash, codeHash)).limit(1);
  return row ? { kind: 'reused', row } : { kind: 'unknown' };
}

/** Remember what was issued from a code, so a replay can revoke it. */
export async function recordIssued(ex: Executor, codeHash: string, familyId: string | null, accessJti: string) {
  await ex.update(authorizationCodes).set({ familyId, accessJti }).where(eq(authorizationCodes.codeHash, codeHash));
}

/** RFC 7636 §4.1: 43–128 characters of [A-Z a-z 0-9 - . _ ~]. */
export const PKCE_VALUE = /^[A-Za-z0-9\-._~]{43,128}$/;

/** RFC 7636 §4.6, S256 only: BASE64URL(SHA256(verifier)) == challenge, compared in constant time. */
export function pkceMatches(verifier: string, challenge: string): boolean {
  return sameSecret(hashToken(verifier), challenge);
}

/** Consumed codes are kept a while so a late replay is still recognised (and its tokens revoked), then deleted. */
export async function pruneAuthorizationCodes(ex: Executor, now: Date) {
  await ex.delete(authorizationCodes).where(lt(authorizationCodes.expiresAt, new Date(now.getTime() - 86400_000)));
}
