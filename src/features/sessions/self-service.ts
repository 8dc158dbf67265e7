import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import { Type, type Static } from 'typebox';
import type { RequestContext } from '../audit/audit-log.js';
import { notFound } from '../../kernel/errors.js';
import { SESSION_TTL_MS } from '../oauth/authorize/session.js';
import { sessions } from './tables.js';
import type { Warden } from '../../kernel/warden.js';
import { endOtherSessions, endSession } from './end-session.js';
import { findSession } from './repository.js';

/**
 * Sessions as their user (GET /users/me/sessions, the account page) and an admin (GET
 * /admin/users/{id}/sessions, the console) see and end them. Ending always goes through
 * src/features/sessions/end-session.ts: the session's refresh tokens are revoked and its sid announced to every
 * instance, so its access tokens stop at once everywhere.
 */

export const SessionOut = Type.Object({
  sid: Type.String({ format: 'uuid' }),
  current: Type.Boolean({ description: "the session of the token (or page) asking" }),
  created_at: Type.String({ format: 'date-time' }),
  last_used_at: Type.String({ format: 'date-time' }),
  auth_time: Type.String({ format: 'date-time' }),
  amr: Type.Array(Type.String(), { description: 'RFC 8176 methods of the sign-in: pwd, otp' }),
  ip: Type.Union([Type.String(), Type.Null()]),
  user_agent: Type.Union([Type.String(), Type.Null()]),
  clients: Type.Array(Type.Object({ client_id: Type.String(), client_name: Type.Union([Type.String(), Type.Null()]) }), {
    description: 'the applications signed in through it (none: the password grant of a first-party app)',
  }),
});
export type SessionOut = Static<typeof SessionOut>;
export const SessionList = Type.Object({ items: Type.Array(SessionOut) });
export const SidParams = Type.Object({ sid: Type.String({ maxLength: 100 }) });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Someone else's session and one that does not exist get the same answer: sids are not confirmed. */
const noSuchSession = () => notFound('no such session');

/** Who ends a session, for the audit event and the session's end reason. */
export type Ender = { by: 'user' } | { by: 'admin'; actorId: string } | { by: 'mail_link' };

/**
 * The user's live sessions, newest use first: not ended, and still able to do something — a refresh
 * token of it unused, unrevoked and unexpired, or a browser sign-in (or an access token) young enough.
 */
export async function listSessions(w: Warden, userId: string, currentSid?: string): Promise<SessionOut[]> {
  const now = w.clock.now();
  const at = (ms: number) => sql`${new Date(ms).toISOString()}::timestamptz`;
  const recent = Math.max(SESSION_TTL_MS, w.config.accessTokenTtlSeconds * 1000);
  const rows = await w.db
    .select()
    .from(sessions)
    .where(
      and(
        eq(sessions.userId, userId),
        isNull(sessions.endedAt),
        sql`(${sessions.authTime} > ${at(now - SESSION_TTL_MS)} or ${sessions.lastUsedAt} > ${at(now - recent)} or exists (
          select 1 from refresh_tokens r where r.session_id = ${sessions.sid} and r.used_at is null and r.revoked_at is null and r.expires_at > ${at(now)}))`,
      ),
    )
    .orderBy(desc(sessions.lastUsedAt))
    .limit(200);
  const names = new Map<string, string | null>();
  for (const id of new Set(rows.flatMap((r) => r.clientIds))) names.set(id, (await w.clients.find(id))?.clientName ?? null);
  return rows.map((r) => ({
    sid: r.sid,
    current: r.sid === currentSid,
    created_at: r.createdAt.toISOString(),
    last_used_at: r.lastUsedAt.toISOString(),
    auth_time: r.authTime.toISOString(),
    amr: r.amr,
    ip: r.ip,
    user_agent: r.userAgent,
    clients: r.clientIds.map((id) => ({ client_id: id, client_name: names.get(id) ?? null })),
  }));
}

/**
 * End one live session of `userId`. Another user's session, an ended one and an unknown or malformed
 * sid all answer the same 404.
 */
export async function endUserSession(w: Warden, userId: string, sid: string, ender: Ender, ctx: RequestContext): Promise<void> {
  if (!UUID.test(sid)) throw noSuchSession();
  const row = await findSession(w.db, sid.toLowerCase());
  if (!row || row.userId !== userId || row.endedAt) throw noSuchSession();
  const actorId = ender.by === 'admin' ? ender.actorId : userId;
  await endSession(
    w,
    // A session issued before sessions existed has its refresh family's id as sid (docs/sessions.md).
    { sid: row.sid, familyId: row.sid },
    ender.by === 'admin' ? 'admin_ended' : 'user_ended',
    (n) => ({ type: 'session.ended', actorId, subjectId: userId, details: { sid: row.sid, by: ender.by, refresh_tokens_revoked: n } }),
    { ...ctx, actorId },
  );
}

/** "Log out everywhere else": every session of the user but `currentSid`. Returns how many ended. */
export async function endOtherUserSessions(w: Warden, userId: string, currentSid: string | undefined, ctx: RequestContext): Promise<number> {
  const ended = await endOtherSessions(
    w,
    { userId, exceptSid: currentSid },
    'user_ended',
    (e) => ({
      type: 'session.others_ended',
      actorId: userId,
      subjectId: userId,
      details: { kept: currentSid ?? null, sessions_ended: e.sids.length, refresh_tokens_revoked: e.refreshTokensRevoked },
    }),
    { ...ctx, actorId: userId },
  );
  return ended.sids.length;
}
