import { invalidGrant, invalidRequest, invalidScope } from '../../../kernel/errors.js';
import { apiOfStored, decideScopes, invalidTarget, selectApi, storedResource } from '../../apis/resources.js';
import { endSession } from '../../sessions/end-session.js';
import { rotateRefreshToken, type RefreshRefusal } from '../../tokens/refresh-token.js';
import type { GrantHandler } from '../grant.js';
import { issueUserTokens } from '../issue.js';
import { parseScope } from '../scopes.js';

const REFUSED: Record<RefreshRefusal, string> = {
  unknown: 'refresh token unknown',
  expired: 'refresh token expired',
  revoked: 'refresh token revoked',
  other_client: 'refresh token was issued to another client',
  disabled: 'the user is disabled',
  scope: 'scope exceeds the original grant',
  resource: 'the refresh token was granted for another resource',
  api_gone: 'the API of this refresh token no longer exists',
  superseded: 'refresh token already rotated; use its successor',
};

/**
 * Refresh (RFC 6749 §6) with rotation: each use returns a new refresh token and retires the old one.
 * Presenting a retired token again is theft or a replay (OAuth 2.0 Security BCP §4.14.2): its session
 * ends (every refresh family of it, and its access tokens through `sid`). A retry by the same client
 * within REFRESH_REUSE_GRACE_SECONDS is a concurrent request racing itself (supabase/auth#2136): it is
 * answered with the same successor the first presentation got — a fresh access token, never a second
 * live refresh token (which would fork the family). Every rule is decided in rotateRefreshToken.
 *
 * A narrower `scope` narrows the access token only; the successor keeps the original grant (§6: the
 * scope "MUST NOT include any scope not originally granted", and a later refresh may ask for all of it).
 * A refused refresh changes nothing: the token stays usable.
 *
 * A refresh token keeps the API it was granted for (RFC 8707 §2.2: never another one), and what the new
 * access token grants follows the user's roles and the client's grant *now*: a permission taken away
 * is gone from the next token.
 */
export const refreshTokenGrant: GrantHandler = async (g) => {
  const { params, warden: w } = g;
  if (!params.refresh_token) throw invalidRequest('refresh_token is required');
  const clientId = g.client?.clientId ?? null;
  const asked = parseScope(params.scope);
  await w.catalog.fresh();
  const named = params.resource || params.audience ? storedResource(selectApi(w.catalog, params)) : undefined;
  const audit = w.audit.prepare([{ type: 'token.refreshed', details: { client_id: clientId, grace_retry: false } }], g.ctx);
  const outcome = await rotateRefreshToken(w.db, {
    token: params.refresh_token,
    clientId,
    scope: asked,
    resource: named,
    now: new Date(w.clock.now()),
    ttlSeconds: w.config.refreshTokenTtlSeconds,
    graceSeconds: w.config.REFRESH_REUSE_GRACE_SECONDS,
    audit: audit.rows,
  });
  if (outcome.kind === 'refused') {
    if (outcome.reason === 'scope') throw invalidScope(REFUSED.scope);
    if (outcome.reason === 'resource' || outcome.reason === 'api_gone') throw invalidTarget(REFUSED[outcome.reason]);
    throw invalidGrant(REFUSED[outcome.reason]);
  }
  if (outcome.kind === 'reused') {
    await endSession(
      w,
      { sid: outcome.sessionId, familyId: outcome.familyId },
      'refresh_reuse',
      (n) => ({ type: 'token.refresh_reuse_detected', subjectId: outcome.userId, flagged: true, details: { family_revoked: n, client_id: outcome.clientId } }),
      g.ctx,
    );
    throw invalidGrant('refresh token already used; the session has been revoked');
  }
  if (outcome.kind === 'rotated') audit.announce(outcome.userId);
  else await w.audit.record(w.db, { type: 'token.refreshed', subjectId: outcome.userId, details: { client_id: clientId, grace_retry: true } }, g.ctx);
  // The statement saw the user enabled; a disable since then has revoked the successor's session too.
  const user = await w.userCache.get(outcome.userId);
  if (!user || user.disabled) throw invalidGrant(REFUSED.disabled);
  const api = apiOfStored(w.catalog, outcome.resource);
  // Deleted between the statement and this instance's catalog: refused like the statement would have.
  if (!api) throw invalidTarget(REFUSED.api_gone);
  const requested = (asked.length ? asked : parseScope(outcome.scope)).join(' ');
  return issueUserTokens(w, w.db, {
    user,
    clientId: outcome.clientId,
    scopes: decideScopes(w.catalog, { api, requested, fallback: [], client: g.client, subject: { kind: 'user', roles: user.roles }, refuseEmpty: false }),
    api,
    grant: 'refresh_token',
    authTime: outcome.authTime,
    sessionId: outcome.sessionId,
    withRefresh: true,
    issuedRefresh: outcome.refresh,
    responseExtensions: g.oauth.tokenResponseExtensions,
  });
};
