import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { and, eq, isNull, lt, ne, or, sql } from 'drizzle-orm';
import { auditInsert, type AuditRow } from '../audit/audit-log.js';
import { queryRows, type Executor } from '../storage/database.js';
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
  /** The API identifier (RFC 8707) for any but Warden's own API. */
  resource?: string | null | undefined;
  authTime: Date;
  familyId?: string | undefined;
  /** Preallocated id (rotation links the predecessor to it in the same UPDATE that consumes it). */
  id?: string | undefined;
  now: Date;
  ttlSeconds: number;
  /** Audit rows written by the same statement (one round trip and one commit for both). */
  audit?: AuditRow[] | undefined;
}

export interface IssuedRefresh {
  token: string;
  id: string;
  familyId: string;
}

export async function createRefreshToken(ex: Executor, r: NewRefresh): Promise<IssuedRefresh> {
  const token = newOpaqueToken('wrt_');
  const id = r.id ?? randomUUID();
  const familyId = r.familyId ?? randomUUID();
  const insert = sql`insert into refresh_tokens (id, token_hash, family_id, user_id, client_id, scope, resource, auth_time, created_at, expires_at)
    values (${id}::uuid, ${hashToken(token)}, ${familyId}::uuid, ${r.userId}::uuid, ${r.clientId}, ${r.scope}, ${r.resource ?? null}::text,
      ${r.authTime.toISOString()}::timestamptz, ${r.now.toISOString()}::timestamptz, ${expiry(r.now, r.ttlSeconds)}::timestamptz)`;
  await ex.execute(r.audit?.length ? sql`with refresh as (${insert}) ${auditInsert(r.audit)}` : insert);
  return { token, id, familyId };
}

const expiry = (now: Date, ttlSeconds: number) => new Date(now.getTime() + ttlSeconds * 1000).toISOString();

export interface Rotation {
  /** The refresh token presented. */
  token: string;
  /** The client presenting it (null: the first-party anonymous client): it must be the one it was issued to. */
  clientId: string | null;
  now: Date;
  ttlSeconds: number;
  /** Written with the rotation; rows without a subject get the token's user. */
  audit: AuditRow[];
}

export interface Rotated extends IssuedRefresh {
  userId: string;
  clientId: string | null;
  scope: string;
  resource: string | null;
  authTime: Date;
}

/**
 * The common case of a refresh in one statement, so one round trip and one commit: the presented token
 * is consumed if it is live (unused, unrevoked, unexpired), belongs to this client and to a user who is
 * not disabled; its successor joins the same family; the audit rows are written — all three or none.
 * Undefined when the token is not in that state: the caller then takes the path that tells unknown,
 * expired, revoked, another client's, reused (theft) and a retry within the grace window apart.
 */
export async function rotateRefreshToken(ex: Executor, r: Rotation): Promise<Rotated | undefined> {
  const token = newOpaqueToken('wrt_');
  const id = randomUUID();
  const now = r.now.toISOString();
  const [row] = await queryRows<{ user_id: string; family_id: string; client_id: string | null; scope: string; resource: string | null; auth_time: Date | string }>(
    ex,
    sql`with claimed as (
      update refresh_tokens set used_at = ${now}::timestamptz, replaced_by = ${id}::uuid
      where token_hash = ${hashToken(r.token)} and used_at is null and revoked_at is null and expires_at > ${now}::timestamptz
        and client_id is not distinct from ${r.clientId}::text
        and exists (select 1 from users u where u.id = refresh_tokens.user_id and not u.disabled)
      returning user_id, family_id, client_id, scope, resource, auth_time
    ), successor as (
      insert into refresh_tokens (id, token_hash, family_id, user_id, client_id, scope, resource, auth_time, created_at, expires_at)
      select ${id}::uuid, ${hashToken(token)}, family_id, user_id, client_id, scope, resource, auth_time, ${now}::timestamptz, ${expiry(r.now, r.ttlSeconds)}::timestamptz
      from claimed
    ), audit as (${auditInsert(r.audit, sql`claimed`)})
    select user_id, family_id, client_id, scope, resource, auth_time from claimed`,
  );
  if (!row) return undefined;
  return { token, id, familyId: row.family_id, userId: row.user_id, clientId: row.client_id, scope: row.scope, resource: row.resource, authTime: new Date(row.auth_time) };
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
