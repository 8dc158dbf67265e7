import type { AuditEvent, RequestContext } from '../audit/audit-log.js';
import { revokeFamily } from '../tokens/refresh-token.js';
import type { Warden } from '../warden.js';
import { endSessions, type EndReason } from './repository.js';

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
