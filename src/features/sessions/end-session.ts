import type { AuditEvent, RequestContext } from '../audit/audit-log.js';
import { revokeFamily } from '../tokens/refresh-token.js';
import type { Warden } from '../../kernel/warden.js';
import { endSessions, type EndReason, type Ended } from './repository.js';

/**
 * End one session now, for good: it is marked ended, its refresh tokens revoked and its pending codes
 * dropped and a back-channel logout queued for each of its clients that asked for one (with the audit
 * event, in one transaction), then every instance is told, so the access tokens carrying its `sid` fail
 * at once everywhere. `familyId`: the refresh family that led here, if any, revoked too — the whole of
 * it when it belongs to no session (a family issued before sessions existed).
 * Returns the number of refresh tokens revoked.
 */
export async function endSession(
  w: Warden,
  target: { sid: string | null; familyId?: string | undefined },
  reason: EndReason,
  event: (refreshTokensRevoked: number) => AuditEvent,
  ctx: RequestContext,
): Promise<number> {
  const now = new Date(w.clock.now());
  const revoked = await w.db.transaction(async (tx) => {
    const ended = target.sid ? (await endSessions(tx, { sid: target.sid }, reason, now)).refreshTokensRevoked : 0;
    const n = ended + (target.familyId ? await revokeFamily(tx, target.familyId, now) : 0);
    await w.audit.record(tx, event(n), ctx);
    return n;
  });
  if (target.sid) await w.revocations.sessionsEnded([target.sid], now.getTime());
  return revoked;
}

/**
 * End several sessions of one user now (every session but `exceptSid`: "log out the other sessions"),
 * in one transaction with the audit event, then announce every ended `sid` to every instance: unlike a
 * user-wide end (force logout, password change), this does not move the user's tokens_valid_after — the
 * kept session's access tokens must keep working — so the published sids are what make the others'
 * access tokens fail at once everywhere.
 */
export async function endOtherSessions(
  w: Warden,
  target: { userId: string; exceptSid?: string | undefined },
  reason: EndReason,
  event: (ended: Ended) => AuditEvent,
  ctx: RequestContext,
): Promise<Ended> {
  const now = new Date(w.clock.now());
  const ended = await w.db.transaction(async (tx) => {
    const e = await endSessions(tx, { userId: target.userId, exceptSid: target.exceptSid }, reason, now);
    await w.audit.record(tx, event(e), ctx);
    return e;
  });
  if (ended.sids.length) await w.revocations.sessionsEnded(ended.sids, now.getTime());
  return ended;
}
