import { randomUUID } from 'node:crypto';
import { invalidGrant, invalidRequest } from '../../http/errors.js';
import { consumeRefreshToken, revokeFamily } from '../../tokens/refresh-token.js';
import type { GrantHandler } from '../grant.js';
import { issueUserTokens } from '../issue.js';
import { parseScope } from '../scopes.js';

/**
 * Refresh (RFC 6749 §6) with rotation: each use returns a new refresh token and retires the old one.
 * Presenting a retired token again is theft or a replay (OAuth 2.0 Security BCP §4.14.2): the whole
 * family is revoked — except a retry by the same client within REFRESH_REUSE_GRACE_SECONDS, which is
 * a concurrent request racing itself (the bug in supabase/auth#2136), answered with a fresh token.
 */
/** Thrown inside the transaction so that a refused refresh changes nothing (the token stays usable). */
class Refused extends Error {}

export const refreshTokenGrant: GrantHandler = async (g) => {
  const { params, client, warden: w } = g;
  if (!params.refresh_token) throw invalidRequest('refresh_token is required');
  const now = new Date(w.clock.now());
  // Round trips matter here (≥1,000 rotations/s on PostgreSQL): the successor's id is chosen first so
  // consuming the old token also links it, and the user comes from the user cache, which every
  // disable/logout clears at once on every instance.
  const successorId = randomUUID();
  try {
    const outcome = await w.db.transaction(async (tx): Promise<{ error?: string; res?: Awaited<ReturnType<typeof issueUserTokens>> }> => {
      const r = await consumeRefreshToken(tx, params.refresh_token!, now, w.config.REFRESH_REUSE_GRACE_SECONDS, successorId);
      if (r.kind === 'invalid') throw new Refused(`refresh token ${r.reason}`);
      // Bound to the client it was issued to (RFC 6749 §6): another client cannot use it (nor burn it).
      // (Ended sessions need no check here: logout, reset and disable revoke the rows themselves, and a
      // password change deliberately keeps the family it was made from.)
      if ((r.row.clientId ?? null) !== (client?.clientId ?? null)) throw new Refused('refresh token was issued to another client');
      if (r.kind === 'reused') {
        // Committed on purpose: the family stays revoked although the request fails.
        const n = await revokeFamily(tx, r.row.familyId, now);
        await w.audit.record(
          tx,
          { type: 'token.refresh_reuse_detected', subjectId: r.row.userId, flagged: true, details: { family_revoked: n, client_id: r.row.clientId } },
          g.ctx,
        );
        return { error: 'refresh token already used; the session has been revoked' };
      }
      const user = await w.userCache.get(r.row.userId, 'id', tx);
      if (!user || user.disabled) throw new Refused('the user is disabled');
      const granted = parseScope(r.row.scope);
      const asked = parseScope(params.scope);
      if (asked.some((s) => !granted.includes(s))) throw new Refused('scope exceeds the original grant');
      const scopes = asked.length ? asked : granted;
      const res = await issueUserTokens(w, tx, {
        user,
        clientId: r.row.clientId,
        scopes,
        grant: 'refresh_token',
        authTime: r.row.authTime,
        familyId: r.row.familyId,
        previousRefreshId: r.kind === 'ok' ? r.row.id : undefined,
        refreshId: r.kind === 'ok' ? successorId : undefined,
        withRefresh: true,
      });
      await w.audit.record(
        tx,
        { type: 'token.refreshed', subjectId: user.id, details: { client_id: r.row.clientId, grace_retry: r.kind === 'grace' } },
        g.ctx,
      );
      return { res };
    });
    if (!outcome.res) throw invalidGrant(outcome.error ?? 'invalid refresh token');
    return outcome.res;
  } catch (e) {
    if (e instanceof Refused) throw invalidGrant(e.message);
    throw e;
  }
};
