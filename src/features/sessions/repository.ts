import { randomUUID } from 'node:crypto';
import { and, eq, isNotNull, isNull, lt, or, sql, type SQL } from 'drizzle-orm';
import { queryRows, type Executor } from '../../kernel/storage/database.js';
import { sessions } from './tables.js';

export type SessionRow = typeof sessions.$inferSelect;

/** Why a session ended (sessions.end_reason; audit details). */
export type EndReason =
  | 'revoked'
  | 'refresh_reuse'
  | 'logout_all'
  | 'password_changed'
  | 'password_reset'
  | 'disabled'
  /** The user ended it (self-service API, account page, the new-device mail's link). */
  | 'user_ended'
  /** An admin ended this one session (admin API, console). */
  | 'admin_ended'
  /** RP-initiated logout (/logout). */
  | 'logout';

export interface NewSession {
  sid: string;
  userId: string;
  /** The client signed in through it (null: the anonymous first-party client of the password grant). */
  clientId: string | null;
  authTime: Date;
  /** RFC 8176 methods: pwd, otp. */
  amr: readonly string[];
  ip?: string | undefined;
  userAgent?: string | undefined;
  now: Date;
}

export const newSessionId = () => randomUUID();

/** The INSERT of a session, for a statement of the caller's (the password grant writes it with its refresh token). */
export function sessionInsert(s: NewSession): SQL {
  return sql`insert into sessions (sid, user_id, client_ids, auth_time, amr, ip, user_agent, created_at, last_used_at)
    values (${s.sid}::uuid, ${s.userId}::uuid, ${JSON.stringify(s.clientId ? [s.clientId] : [])}::jsonb, ${s.authTime.toISOString()}::timestamptz,
      ${JSON.stringify(s.amr)}::jsonb, ${s.ip ?? null}, ${s.userAgent?.slice(0, 512) ?? null}, ${s.now.toISOString()}::timestamptz, ${s.now.toISOString()}::timestamptz)`;
}

export async function createSession(ex: Executor, s: NewSession): Promise<void> {
  await ex.execute(sessionInsert(s));
}

export async function findSession(ex: Executor, sid: string): Promise<SessionRow | undefined> {
  const [row] = await ex.select().from(sessions).where(eq(sessions.sid, sid)).limit(1);
  return row;
}

/** A client got a code through this (live) session: it joins the session's clients. False when the session has ended. */
export async function joinSession(ex: Executor, sid: string, clientId: string, now: Date): Promise<boolean> {
  const rows = await queryRows<{ sid: string }>(
    ex,
    sql`update sessions set last_used_at = ${now.toISOString()}::timestamptz,
      client_ids = case when client_ids @> jsonb_build_array(${clientId}::text) then client_ids else client_ids || jsonb_build_array(${clientId}::text) end
      where sid = ${sid}::uuid and ended_at is null returning sid`,
  );
  return rows.length > 0;
}

/** One session, or every session of a user (but `exceptSid`: "end the other sessions"). */
export type SessionSelection = { sid: string } | { userId: string; exceptSid?: string | undefined };

/**
 * OIDC Back-Channel Logout: for every session the statement ends, one outbox row per client of it that
 * registered a backchannel_logout_uri — written by the statement that ends the session, so the
 * announcement commits (or not) with the end itself, whichever path ended it. BackchannelLogout
 * (src/features/sessions/backchannel-logout.ts) delivers the rows.
 */
function backchannelLogoutInsert(at: SQL): SQL {
  return sql`backchannel as (
      insert into backchannel_logouts (sid, user_id, client_id, next_attempt_at, created_at)
      select e.sid, e.user_id, c.client_id, ${at}, ${at}
      from ended e cross join lateral jsonb_array_elements_text(e.client_ids) as j(client_id)
      join oauth_clients c on c.client_id = j.client_id
      where c.backchannel_logout_uri is not null
    )`;
}

export interface Ended {
  /** The sessions that were live and are now ended. */
  sids: string[];
  refreshTokensRevoked: number;
}

/**
 * End sessions, in the caller's transaction, in one statement: the sessions are marked ended, their
 * refresh tokens revoked, their pending (unexchanged) authorization codes deleted, and a back-channel
 * logout queued for each of their clients that asked for one. For a whole user
 * this includes refresh tokens and codes that belong to no session (issued before sessions existed).
 * Access tokens: the caller makes them fail — a user-wide end moves the user's tokens_valid_after, and
 * one session's end is announced through RevocationList.sessionsEnded after the commit.
 *
 * Tokens and codes are matched by their session (or user), not only through the rows this statement
 * marks ended: a refresh token rotated while a session was being ended is revoked when the session is
 * ended again, and the rotation refuses any token whose session has ended (rotateRefreshToken).
 */
export async function endSessions(ex: Executor, which: SessionSelection, reason: EndReason, now: Date): Promise<Ended> {
  const at = sql`${now.toISOString()}::timestamptz`;
  const own =
    'sid' in which
      ? { session: sql`sid = ${which.sid}::uuid`, token: sql`session_id = ${which.sid}::uuid` }
      : {
          session: sql`user_id = ${which.userId}::uuid${which.exceptSid ? sql` and sid <> ${which.exceptSid}::uuid` : sql``}`,
          token: sql`user_id = ${which.userId}::uuid${which.exceptSid ? sql` and session_id is distinct from ${which.exceptSid}::uuid` : sql``}`,
        };
  const [row] = await queryRows<{ sids: string[] | null; revoked: number | string }>(
    ex,
    sql`with ended as (
      update sessions set ended_at = ${at}, end_reason = ${reason} where ${own.session} and ended_at is null returning sid, user_id, client_ids
    ), ${backchannelLogoutInsert(at)}, revoked as (
      update refresh_tokens set revoked_at = ${at} where ${own.token} and revoked_at is null returning id
    ), codes as (
      delete from authorization_codes where ${own.token} and consumed_at is null
    )
    select (select array_agg(sid::text) from ended) as sids, (select count(*) from revoked) as revoked`,
  );
  const sids = row?.sids ?? [];
  return { sids: Array.isArray(sids) ? sids : String(sids).replace(/[{}]/g, '').split(',').filter(Boolean), refreshTokensRevoked: Number(row?.revoked ?? 0) };
}

/**
 * Sessions ended longer ago than an access token lives (at least a day: RevocationList loads the recent
 * ones), or unused for longer than a refresh token lives (all their tokens have expired).
 */
export async function pruneSessions(ex: Executor, now: Date, ttl: { accessSeconds: number; refreshSeconds: number }) {
  const keepEnded = Math.max(ttl.accessSeconds * 1000, 86400_000);
  await ex
    .delete(sessions)
    .where(
      or(
        and(isNotNull(sessions.endedAt), lt(sessions.endedAt, new Date(now.getTime() - keepEnded))),
        and(isNull(sessions.endedAt), lt(sessions.lastUsedAt, new Date(now.getTime() - ttl.refreshSeconds * 1000 - 86400_000))),
      ),
    );
}
