import { randomUUID } from 'node:crypto';
import { invalidGrant, invalidRequest, OAuthError } from '../../http/errors.js';
import { apiOfStored, decideScopes, selectApi, storedResource } from '../../apis/resources.js';
import type { Api } from '../../apis/repository.js';
import type { UserRecord } from '../../users/repository.js';
import { consumeRefreshToken, revokeFamily, rotateRefreshToken } from '../../tokens/refresh-token.js';
import type { GrantContext, GrantHandler } from '../grant.js';
import { issueUserTokens } from '../issue.js';
import { parseScope } from '../scopes.js';

/** Thrown inside the transaction so that a refused refresh changes nothing (the token stays usable). */
class Refused extends Error {
  constructor(
    message: string,
    readonly code = 'invalid_grant',
  ) {
    super(message);
  }
}

/**
 * A refresh token keeps the API it was granted for (RFC 8707 §2.2: a subset, never another one), and
 * what it grants follows the user's roles and the client's grant now (a permission taken away is gone
 * from the next token).
 */
function refreshedScopes(g: GrantContext, api: Api, user: UserRecord, scope: string): string[] {
  return decideScopes(g.warden.catalog, { api, requested: scope, fallback: [], client: g.client, subject: { kind: 'user', roles: user.roles }, refuseEmpty: false });
}

/**
 * Refresh (RFC 6749 §6) with rotation: each use returns a new refresh token and retires the old one.
 * Presenting a retired token again is theft or a replay (OAuth 2.0 Security BCP §4.14.2): the whole
 * family is revoked — except a retry by the same client within REFRESH_REUSE_GRACE_SECONDS, which is
 * a concurrent request racing itself (the bug in supabase/auth#2136), answered with a fresh token.
 */
export const refreshTokenGrant: GrantHandler = async (g) => {
  const { params, warden: w } = g;
  if (!params.refresh_token) throw invalidRequest('refresh_token is required');
  const now = new Date(w.clock.now());
  await w.catalog.fresh();
  // Without a narrower scope or a resource asked for, a live token of this client is rotated in one statement.
  if (!params.scope && !params.resource && !params.audience) {
    const res = await rotateInOneStatement(g, params.refresh_token, now);
    if (res) return res;
  }
  return rotateOrRefuse(g, params.refresh_token, now);
};

/** The common case, one round trip (see rotateRefreshToken); undefined when the token needs a closer look. */
async function rotateInOneStatement(g: GrantContext, token: string, now: Date) {
  const w = g.warden;
  const clientId = g.client?.clientId ?? null;
  const audit = w.audit.prepare([{ type: 'token.refreshed', details: { client_id: clientId, grace_retry: false } }], g.ctx);
  const rotated = await rotateRefreshToken(w.db, { token, clientId, now, ttlSeconds: w.config.refreshTokenTtlSeconds, audit: audit.rows });
  if (!rotated) return undefined;
  audit.announce(rotated.userId);
  // The statement saw the user enabled; a disable since then has revoked the new token's family too.
  const user = await w.userCache.get(rotated.userId);
  if (!user || user.disabled) throw invalidGrant('the user is disabled');
  const api = apiOfStored(w.catalog, rotated.resource);
  if (!api) throw new OAuthError('invalid_target', 'the API of this refresh token no longer exists');
  return issueUserTokens(w, w.db, {
    user,
    clientId: rotated.clientId,
    scopes: refreshedScopes(g, api, user, rotated.scope),
    api,
    grant: 'refresh_token',
    authTime: rotated.authTime,
    familyId: rotated.familyId,
    withRefresh: true,
    issuedRefresh: rotated,
  });
}

/**
 * Everything else, in a transaction: a narrower scope, and the refusals — unknown, expired, revoked,
 * another client's token, a disabled user (the token stays usable), reuse (the family is revoked) —
 * and the retry within the grace window.
 */
async function rotateOrRefuse(g: GrantContext, token: string, now: Date) {
  const { params, client, warden: w } = g;
  // The successor's id is chosen first so that consuming the old token also links it, and the user
  // comes from the user cache, which every disable/logout clears at once on every instance.
  const successorId = randomUUID();
  const named = params.resource || params.audience ? selectApi(w.catalog, params) : undefined;
  try {
    const outcome = await w.db.transaction(async (tx): Promise<{ error?: string; res?: Awaited<ReturnType<typeof issueUserTokens>> }> => {
      const r = await consumeRefreshToken(tx, token, now, w.config.REFRESH_REUSE_GRACE_SECONDS, successorId);
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
      const api = apiOfStored(w.catalog, r.row.resource);
      if (!api) throw new Refused('the API of this refresh token no longer exists', 'invalid_target');
      if (named && storedResource(named) !== r.row.resource) throw new Refused('the refresh token was granted for another resource', 'invalid_target');
      const granted = parseScope(r.row.scope);
      const asked = parseScope(params.scope);
      if (asked.some((s) => !granted.includes(s))) throw new Refused('scope exceeds the original grant');
      const scopes = refreshedScopes(g, api, user, (asked.length ? asked : granted).join(' '));
      const res = await issueUserTokens(w, tx, {
        user,
        clientId: r.row.clientId,
        scopes,
        api,
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
    if (e instanceof Refused) throw new OAuthError(e.code, e.message);
    throw e;
  }
}
