import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, randomUUID } from 'node:crypto';
import { hashToken, newOpaqueToken } from '../../kernel/secrets.js';
import { and, eq, isNotNull, isNull, lt, or, sql } from 'drizzle-orm';
import { auditInsert, type AuditRow } from '../audit/audit-log.js';
import { sessionInsert, type NewSession } from '../sessions/repository.js';
import { queryRows, type Executor } from '../../kernel/storage/database.js';
import { refreshTokens } from './tables.js';

export type RefreshRow = typeof refreshTokens.$inferSelect;

export interface NewRefresh {
  userId: string;
  clientId: string | null;
  scope: string;
  /** The API identifier (RFC 8707) for any but Warden's own API. */
  resource?: string | null | undefined;
  authTime: Date;
  /** The session the family belongs to (an existing one, e.g. the /authorize sign-in of a code). */
  sessionId?: string | null | undefined;
  /** A session started with this token (a password or MFA grant): written by the same statement. */
  session?: NewSession | undefined;
  now: Date;
  ttlSeconds: number;
  /** Audit rows written by the same statement (one round trip and one commit for all). */
  audit?: AuditRow[] | undefined;
}

export interface IssuedRefresh {
  token: string;
  id: string;
  familyId: string;
}

/** A new refresh token, the first of a new family. */
export async function createRefreshToken(ex: Executor, r: NewRefresh): Promise<IssuedRefresh> {
  const token = newOpaqueToken('wrt_');
  const id = randomUUID();
  const familyId = randomUUID();
  const sessionId = r.session?.sid ?? r.sessionId ?? null;
  const insert = sql`insert into refresh_tokens (id, token_hash, family_id, session_id, user_id, client_id, scope, resource, auth_time, created_at, expires_at)
    values (${id}::uuid, ${hashToken(token)}, ${familyId}::uuid, ${sessionId}::uuid, ${r.userId}::uuid, ${r.clientId}, ${r.scope}, ${r.resource ?? null}::text,
      ${r.authTime.toISOString()}::timestamptz, ${r.now.toISOString()}::timestamptz, ${expiry(r.now, r.ttlSeconds)}::timestamptz)`;
  // One statement: the session (which the token references; foreign keys are checked at its end), the
  // token, and the audit rows.
  const parts = [...(r.session ? [sessionInsert(r.session)] : []), insert, ...(r.audit?.length ? [auditInsert(r.audit)] : [])];
  const main = parts.pop()!;
  await ex.execute(parts.length ? sql`with ${sql.join(parts.map((p, i) => sql`${sql.raw(`w${i}`)} as (${p})`), sql`, `)} ${main}` : main);
  return { token, id, familyId };
}

const expiry = (now: Date, ttlSeconds: number) => new Date(now.getTime() + ttlSeconds * 1000).toISOString();

/**
 * Sealing the successor for the grace window. Only hashes of refresh tokens are stored, so a retry of a
 * just-rotated token could not be answered with the successor it already produced — and answering with
 * another new token would fork the family into two live branches (issue: one theft unnoticed). So the
 * successor's value is kept, sealed (AES-256-GCM) with a key derived (HKDF-SHA-256) from the presented
 * token: only a holder of that token can open it — the database alone cannot, as it keeps only the
 * token's SHA-256, from which the key cannot be derived. It is erased when the successor is used, and
 * by pruneRefreshTokens once the window has passed; past the window it is never opened.
 */
function successorKey(presented: string): Buffer {
  return Buffer.from(hkdfSync('sha256', presented, Buffer.alloc(0), 'warden refresh-token successor', 32));
}

export function sealSuccessor(presented: string, successor: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', successorKey(presented), iv);
  const body = Buffer.concat([cipher.update(successor, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

export function openSuccessor(presented: string, sealed: string): string | undefined {
  const raw = Buffer.from(sealed, 'base64url');
  if (raw.length < 29) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', successorKey(presented), raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

export interface Rotation {
  /** The refresh token presented. */
  token: string;
  /** The client presenting it (null: the first-party anonymous client): it must be the one it was issued to. */
  clientId: string | null;
  /** Scopes asked for (RFC 6749 §6): they must lie within the grant; they never change what the successor carries. */
  scope: readonly string[];
  /**
   * The API asked for with `resource`/`audience` (its stored form: null for Warden's own), or undefined when
   * none was named. A refresh token keeps its API (RFC 8707 §2.2): naming another is refused, token intact.
   */
  resource?: string | null | undefined;
  now: Date;
  ttlSeconds: number;
  /** REFRESH_REUSE_GRACE_SECONDS (0: no window). */
  graceSeconds: number;
  /** Written with the rotation; rows without a subject get the token's user. */
  audit: AuditRow[];
}

/** What the grant continues with: the family, its session and its grant (scope, auth_time). */
export interface RotatedGrant {
  familyId: string;
  sessionId: string | null;
  userId: string;
  clientId: string | null;
  /** The original grant's scope, which the successor keeps. */
  scope: string;
  resource: string | null;
  authTime: Date;
}

/** Why a refresh token is refused (the RFC 6749 §5.2 error is invalid_grant for each, invalid_scope for `scope`). */
export type RefreshRefusal = 'unknown' | 'expired' | 'revoked' | 'other_client' | 'disabled' | 'scope' | 'resource' | 'api_gone' | 'superseded';

export type RotationOutcome =
  /** Rotated now: `refresh` is the new token. */
  | ({ kind: 'rotated'; refresh: IssuedRefresh } & RotatedGrant)
  /** A retry within the grace window: `refresh` is the successor the first presentation got (the same value). */
  | ({ kind: 'grace'; refresh: IssuedRefresh } & RotatedGrant)
  /** Used before, outside the window (or with no successor to give): theft or a replay. The caller ends the session. */
  | ({ kind: 'reused' } & RotatedGrant)
  | { kind: 'refused'; reason: RefreshRefusal };

type TargetRow = {
  state: 'live' | 'grace' | 'reused' | Exclude<RefreshRefusal, 'unknown'>;
  id: string;
  family_id: string;
  session_id: string | null;
  user_id: string;
  client_id: string | null;
  scope: string;
  resource: string | null;
  auth_time: Date | string;
  successor_sealed: string | null;
  replaced_by: string | null;
  expires_at: Date | string;
  created_at: Date | string;
  claimed: boolean;
};

/**
 * The rules, written once: what the presented token is, for a client asking for `scope` at `resource`
 * (undefined: no API named) at `now`. The first rule that applies decides. Rotation (below) acts on it;
 * introspection (inspectRefreshToken) reports `live` as active and everything else as inactive.
 */
function classify(q: { token: string; clientId: string | null; scope: readonly string[]; resource?: string | null | undefined; now: Date; graceSeconds: number }) {
  const now = sql`${q.now.toISOString()}::timestamptz`;
  const graceStart = new Date(q.now.getTime() - q.graceSeconds * 1000).toISOString();
  return sql`select t.id, t.family_id, t.session_id, t.user_id, t.client_id, t.scope, t.resource, t.auth_time, t.successor_sealed, t.replaced_by,
        t.expires_at, t.created_at,
        case
          when t.revoked_at is not null or s.ended_at is not null then 'revoked'
          when t.expires_at <= ${now} then 'expired'
          when t.client_id is distinct from ${q.clientId}::text then 'other_client'
          when u.disabled then 'disabled'
          when t.used_at is not null and not (t.successor_sealed is not null and t.used_at >= ${graceStart}::timestamptz) then 'reused'
          when not (string_to_array(t.scope, ' ') @> string_to_array(${q.scope.join(' ')}::text, ' ')) then 'scope'
          when ${q.resource !== undefined}::boolean and t.resource is distinct from ${q.resource ?? null}::text then 'resource'
          when t.resource is not null and not exists (select 1 from apis a where a.identifier = t.resource) then 'api_gone'
          when t.used_at is null then 'live'
          when n.used_at is null and n.revoked_at is null and n.expires_at > ${now} then 'grace'
          else 'superseded'
        end as state
      from refresh_tokens t
        join users u on u.id = t.user_id
        left join sessions s on s.sid = t.session_id
        left join refresh_tokens n on n.id = t.replaced_by
      where t.token_hash = ${hashToken(q.token)}`;
}

/** The presented token as `classify` sees it for this client now (no scope, no API asked): undefined when unknown. */
export async function inspectRefreshToken(ex: Executor, token: string, clientId: string | null, now: Date) {
  const [row] = await queryRows<TargetRow>(ex, classify({ token, clientId, scope: [], resource: undefined, now, graceSeconds: 0 }));
  if (!row) return undefined;
  return { state: row.state, userId: row.user_id, scope: row.scope, resource: row.resource, expiresAt: new Date(row.expires_at), createdAt: new Date(row.created_at) };
}

/**
 * The refresh-token rotation, in one statement (one round trip, one commit): `target` (classify, the
 * rules) classifies the presented token — revoked (or its session ended), expired, another client's, a disabled
 * user's, reused (used before, outside the grace window), a scope beyond the grant, another API asked, its
 * API deleted since, live, a retry within
 * the grace window whose successor is still live, or a retry whose successor is gone. A live token is
 * consumed (the UPDATE re-checks used_at/revoked_at under its row lock, so of two concurrent
 * presentations one wins), its successor joins the same family and session with the same scope, the
 * predecessor's sealed copy of the presented token is erased, the session's last use recorded and the
 * audit rows written — all or none. Nothing but `classify` decides whether a refresh token is good
 * (introspection asks it too, through inspectRefreshToken).
 */
export async function rotateRefreshToken(ex: Executor, r: Rotation): Promise<RotationOutcome> {
  for (let attempt = 0; ; attempt++) {
    const outcome = await rotateOnce(ex, r);
    // Lost a race against a concurrent presentation of the same token: it is now used, so asking again
    // classifies it as that presentation's retry (or as reuse) — once is enough.
    if (outcome !== 'raced') return outcome;
    if (attempt > 0) return { kind: 'refused', reason: 'superseded' };
  }
}

async function rotateOnce(ex: Executor, r: Rotation): Promise<RotationOutcome | 'raced'> {
  const token = newOpaqueToken('wrt_');
  const id = randomUUID();
  const now = sql`${r.now.toISOString()}::timestamptz`;
  const sealed = r.graceSeconds > 0 ? sealSuccessor(r.token, token) : null;
  const [row] = await queryRows<TargetRow>(
    ex,
    sql`with target as (${classify(r)}), claimed as (
      update refresh_tokens set used_at = ${now}, replaced_by = ${id}::uuid, successor_sealed = ${sealed}
      where id = (select id from target where state = 'live') and used_at is null and revoked_at is null
      returning family_id, session_id, user_id, client_id, scope, resource, auth_time
    ), successor as (
      insert into refresh_tokens (id, token_hash, family_id, session_id, user_id, client_id, scope, resource, auth_time, created_at, expires_at)
      select ${id}::uuid, ${hashToken(token)}, family_id, session_id, user_id, client_id, scope, resource, auth_time, ${now}, ${expiry(r.now, r.ttlSeconds)}::timestamptz
      from claimed
    ), erased as (
      update refresh_tokens set successor_sealed = null
      where replaced_by = (select id from target where state = 'live') and successor_sealed is not null
    ), touched as (
      update sessions set last_used_at = ${now} where sid = (select session_id from claimed)
    ), audit as (${auditInsert(r.audit, sql`claimed`)})
    select target.*, exists (select 1 from claimed) as claimed from target`,
  );
  if (!row) return { kind: 'refused', reason: 'unknown' };
  const grant: RotatedGrant = {
    familyId: row.family_id,
    sessionId: row.session_id,
    userId: row.user_id,
    clientId: row.client_id,
    scope: row.scope,
    resource: row.resource,
    authTime: new Date(row.auth_time),
  };
  switch (row.state) {
    case 'live':
      return row.claimed ? { kind: 'rotated', refresh: { token, id, familyId: row.family_id }, ...grant } : 'raced';
    case 'grace': {
      const successor = row.successor_sealed && row.replaced_by ? openSuccessor(r.token, row.successor_sealed) : undefined;
      if (!successor) return { kind: 'refused', reason: 'superseded' };
      return { kind: 'grace', refresh: { token: successor, id: row.replaced_by!, familyId: row.family_id }, ...grant };
    }
    case 'reused':
      return { kind: 'reused', ...grant };
    default:
      return { kind: 'refused', reason: row.state };
  }
}

export async function revokeFamily(ex: Executor, familyId: string, now: Date): Promise<number> {
  const rows = await ex
    .update(refreshTokens)
    .set({ revokedAt: now })
    .where(and(eq(refreshTokens.familyId, familyId), isNull(refreshTokens.revokedAt)))
    .returning({ id: refreshTokens.id });
  return rows.length;
}

export async function findRefreshToken(ex: Executor, token: string): Promise<RefreshRow | undefined> {
  const [row] = await ex.select().from(refreshTokens).where(eq(refreshTokens.tokenHash, hashToken(token))).limit(1);
  return row;
}

/**
 * Expired and long-revoked rows are deleted in the background, and sealed successors (kept for the
 * grace window only) are erased once their window has passed.
 */
export async function pruneRefreshTokens(ex: Executor, now: Date, graceSeconds: number) {
  await ex
    .update(refreshTokens)
    .set({ successorSealed: null })
    .where(and(isNotNull(refreshTokens.successorSealed), lt(refreshTokens.usedAt, new Date(now.getTime() - graceSeconds * 1000))));
  await ex.delete(refreshTokens).where(or(lt(refreshTokens.expiresAt, now), lt(refreshTokens.revokedAt, new Date(now.getTime() - 86400_000))));
}
