import { and, eq, gt, isNull, lt, or } from 'drizzle-orm';
import type { Executor } from '../../kernel/storage/database.js';
import { accountTokens } from './tables.js';
import { hashToken, newOpaqueToken } from '../../kernel/secrets.js';

/**
 * Single-use tokens sent by mail. 256 random bits (prefix + base64url), so a plain SHA-256 is the
 * right storage: a database leak gives no usable link, and lookup stays one indexed query.
 * Single use is a property of `consumeAccountToken` (an UPDATE … WHERE used_at IS NULL), not of a handler.
 */
export type AccountTokenPurpose = 'verify_email' | 'reset_password';
export type AccountTokenRow = typeof accountTokens.$inferSelect;

const PREFIX: Record<AccountTokenPurpose, string> = { verify_email: 'wev_', reset_password: 'wpr_' };

export async function issueAccountToken(
  ex: Executor,
  t: { userId: string; purpose: AccountTokenPurpose; email: string; now: Date; ttlMs: number },
): Promise<string> {
  // A newer token replaces every older one of the same purpose (an old mail must stop working).
  await invalidateAccountTokens(ex, t.userId, t.purpose, t.now);
  const token = newOpaqueToken(PREFIX[t.purpose]);
  await ex.insert(accountTokens).values({
    userId: t.userId,
    purpose: t.purpose,
    tokenHash: hashToken(token),
    email: t.email,
    createdAt: t.now,
    expiresAt: new Date(t.now.getTime() + t.ttlMs),
  });
  return token;
}

export async function invalidateAccountTokens(ex: Executor, userId: string, purpose: AccountTokenPurpose, now: Date) {
  await ex
    .update(accountTokens)
    .set({ usedAt: now })
    .where(and(eq(accountTokens.userId, userId), eq(accountTokens.purpose, purpose), isNull(accountTokens.usedAt)));
}

/** The live token row without using it up (to show a form for it; mail scanners prefetch links). */
export async function peekAccountToken(ex: Executor, purpose: AccountTokenPurpose, token: string, now: Date): Promise<AccountTokenRow | undefined> {
  if (!token.startsWith(PREFIX[purpose])) return undefined;
  const [row] = await ex
    .select()
    .from(accountTokens)
    .where(and(eq(accountTokens.tokenHash, hashToken(token)), eq(accountTokens.purpose, purpose), isNull(accountTokens.usedAt), gt(accountTokens.expiresAt, now)))
    .limit(1);
  return row;
}

/** Use the token up, atomically: of two concurrent presentations exactly one gets the row. */
export async function consumeAccountToken(ex: Executor, purpose: AccountTokenPurpose, token: string, now: Date): Promise<AccountTokenRow | undefined> {
  if (!token.startsWith(PREFIX[purpose])) return undefined;
  const [row] = await ex
    .update(accountTokens)
    .set({ usedAt: now })
    .where(and(eq(accountTokens.tokenHash, hashToken(token)), eq(accountTokens.purpose, purpose), isNull(accountTokens.usedAt), gt(accountTokens.expiresAt, now)))
    .returning();
  return row;
}

/** Expired tokens, and used ones after a day, are deleted in the background. */
export async function pruneAccountTokens(ex: Executor, now: Date) {
  await ex
    .delete(accountTokens)
    .where(or(lt(accountTokens.expiresAt, now), lt(accountTokens.usedAt, new Date(now.getTime() - 86400_000))));
}
