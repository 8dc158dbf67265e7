import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { and, eq, isNull, lt, ne, or } from 'drizzle-orm';
import type { Executor } from '../storage/database.js';
import { refreshTokens } from '../storage/schema.js';

export type RefreshRow = typeof refreshTokens.$inferSelect;

/** Opaque, 256 bits of randomness. High entropy, so a fast hash is the right storage (not argon2). */
export function newOpaqueToken(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

export interface NewRefresh {
  userId: string;
  clientId: string | null;
  scope: string;
  authTime: Date;
  familyId?: string | undefined;
  /** Preallocated id (rotation links the predecessor to it in the same UPDATE that consumes it). */
  id?: string | undefined;
  now: Date;
  ttlSeconds: number;
}

export async function createRefreshToken(ex: Executor, r: NewRefresh): Promise<{ token: string; row: RefreshRow }> {
  const token = newOpaqueToken('wrt_');
  const [row] = await ex
    .insert(refreshTokens)
    .values({
      ...(r.id ? { id: r.id } : {}),
      tokenHash: hashToken(token),
      familyId: r.familyId ?? randomUUID(),
      userId: r.userId,
      clientId: r.clientId,
      scope: r.scope,
      authTime: r.authTime,
      createdAt: r.now,
      expiresAt: new Date(r.now.getTime() + r.ttlSeconds * 1000),
    })
    .returning();
  return { token, row: row! };
}

export type ConsumeResult =
  | { kind: 'ok'; row: RefreshRow }
  /** Already rotated, but within the grace window by the same client: a concurrent retry, not theft. */
  | { kind: 'grace'; row: RefreshRow }
  | { kind: 'reused'; row: RefreshRow }
  | { kind: 'invalid'; reason: 'unknown' | 'expired' | 'revoked' };

/**
 * Mark a refresh token used, atomically: of two concurrent presentations exactly one gets `ok`.
 * A token used before (outside the grace window) is `reused`: the caller revokes its family.
 */
export async function consumeRefreshToken(
  ex: Executor,
  token: string,
  now: Date,
  graceSeconds: number,
  successorId?: string,
): Promise<ConsumeResult> {
  const tokenHash = hashToken(token);
  const [claimed] = await ex
    .update(refreshTokens)
    .set({ usedAt: now, ...(successorId ? { replacedBy: successorId } : {}) })
    .where(and(eq(refreshTokens.tokenHash, tokenHash), isNull(refreshTokens.usedAt), isNull(refreshTokens.revokedAt)))
    .returning();
  if (claimed) {
    if (claimed.expiresAt <= now) return { kind: 'invalid', reason: 'expired' };
    return { kind: 'ok', row: claimed };
  }
  const [row] = await ex.select().from(refreshTokens).where(eq(refreshTokens.tokenHash, tokenHash)).limit(1);
  if (!row) return { kind: 'invalid', reason: 'unknown' };
  if (row.revokedAt) return { kind: 'invalid', reason: 'revoked' };
  if (row.expiresAt <= now) return { kind: 'invalid', reason: 'expired' };
  if (row.usedAt && graceSeconds > 0 && now.getTime() - row.usedAt.getTime() <= graceSeconds * 1000) return { kind: 'grace', row };
  return { kind: 'reused', row };
}

export async function linkSuccessor(ex: Executor, id: string, successorId: string) {
  await ex.update(refreshTokens).set({ replacedBy: successorId }).where(eq(refreshTokens.id, id));
}

export async function revokeFamily(ex: Executor, familyId: string, now: Date): Promise<number> {
  const rows = await ex
    .update(refreshTokens)
    .set({ revokedAt: now })
    .where(and(eq(refreshTokens.familyId, familyId), isNull(refreshTokens.revokedAt)))
    .returning({ id: refreshTokens.id });
  return rows.length;
}

/** Every refresh token of a user (optionally sparing one family: "end the other sessions"). */
export async function revokeUserRefreshTokens(ex: Executor, userId: string, now: Date, exceptFamily?: string): Promise<number> {
  const rows = await ex
    .update(refreshTokens)
    .set({ revokedAt: now })
    .where(
      and(
        eq(refreshTokens.userId, userId),
        isNull(refreshTokens.revokedAt),
        exceptFamily ? ne(refreshTokens.familyId, exceptFamily) : undefined,
      ),
    )
    .returning({ id: refreshTokens.id });
  return rows.length;
}

export async function findRefreshToken(ex: Executor, token: string): Promise<RefreshRow | undefined> {
  const [row] = await ex.select().from(refreshTokens).where(eq(refreshTokens.tokenHash, hashToken(token))).limit(1);
  return row;
}

/** Expired and long-revoked rows are deleted in the background. */
export async function pruneRefreshTokens(ex: Executor, now: Date) {
  await ex.delete(refreshTokens).where(or(lt(refreshTokens.expiresAt, now), lt(refreshTokens.revokedAt, new Date(now.getTime() - 86400_000))));
}
