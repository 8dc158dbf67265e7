import { invalidClient, invalidGrant, invalidRequest, OAuthError } from '../../../kernel/errors.js';
import type { OAuthErrorCode } from '../../../kernel/error-catalogue.js';
import { uuidv7Time } from '../../tokens/jti.js';
import { findSession } from '../../sessions/repository.js';
import { revokeFamily } from '../../tokens/refresh-token.js';
import { findUserById } from '../../users/repository.js';
import { consumeAuthorizationCode, pkceMatches, PKCE_VALUE, recordIssued } from '../authorization-code.js';
import type { GrantHandler, TokenClient, TokenResponse } from '../grant.js';
import { issueUserTokens } from '../issue.js';
import { apiOfStored, decideScopes, selectApi, storedResource } from '../../apis/resources.js';

/** Refresh tokens go to first-party clients, and to others only when the user granted offline_access. */
export function mayRefresh(client: TokenClient, scopes: readonly string[]): boolean {
  return client.grantTypes.includes('refresh_token') && (client.firstParty || scopes.includes('offline_access'));
}

/**
 * Authorization code exchange (RFC 6749 §4.1.3) with PKCE (RFC 7636), required for every client and
 * S256 only: the challenge was stored with the code, so no request can downgrade it. A code is single
 * use; presenting it again revokes what it was exchanged for (RFC 6749 §4.1.2, Security BCP §4.5).
 */
export const authorizationCodeGrant: GrantHandler = async (g) => {
  const { params, client, warden: w } = g;
  if (!client) throw invalidClient('the authorization_code grant needs client authentication (or client_id for a public client)');
  if (!params.code) throw invalidRequest('code is required');
  if (!params.redirect_uri) throw invalidRequest('redirect_uri is required');
  if (!params.code_verifier) throw invalidRequest('code_verifier is required (PKCE, RFC 7636)');
  if (!PKCE_VALUE.test(params.code_verifier)) throw invalidRequest('code_verifier must be 43-128 characters of A-Z a-z 0-9 - . _ ~');
  const now = new Date(w.clock.now());
  await w.catalog.fresh();
  // RFC 8707 §2.2: the token request may name the resource again; it must be the one the code was for.
  const named = params.resource || params.audience ? selectApi(w.catalog, params) : undefined;
  type Outcome = { res: TokenResponse } | { error: string; code?: OAuthErrorCode; revokeJti?: string | null };
  const outcome = await w.db.transaction(async (tx): Promise<Outcome> => {
    const consumed = await consumeAuthorizationCode(tx, params.code!, now);
    if (consumed.kind === 'unknown') return { error: 'invalid authorization code' };
    const row = consumed.row;
    if (consumed.kind === 'reused') {
      const revoked = row.familyId ? await revokeFamily(tx, row.familyId, now) : 0;
      await w.audit.record(
        tx,
        { type: 'code.reuse_detected', subjectId: row.userId, flagged: true, details: { client_id: row.clientId, refresh_tokens_revoked: revoked } },
        g.ctx,
      );
      return { error: 'authorization code already used; the tokens issued from it have been revoked', revokeJti: row.accessJti };
    }
    // Every check below fails after the code is consumed: a failed attempt burns it (no guessing the verifier).
    if (row.clientId !== client.clientId) return { error: 'authorization code was issued to another client' };
    if (row.expiresAt <= now) return { error: 'authorization code expired' };
    if (row.redirectUri !== params.redirect_uri) return { error: 'redirect_uri does not match the authorization request' };
    if (!pkceMatches(params.code_verifier!, row.codeChallenge)) return { error: 'code_verifier does not match the code_challenge' };
    const user = await findUserById(tx, row.userId);
    if (!user || user.disabled) return { error: 'the user is disabled' };
    // Sessions ended since the code was issued (force-logout, password change or reset, disable, a
    // revoked refresh token of the same sign-in) void it: it must not start a new refresh family. Ending
    // a session drops its pending codes; these checks also cover a code issued while that was under way.
    if (row.createdAt.getTime() <= user.tokensValidAfter.getTime()) return { error: 'the sign-in session has ended' };
    const session = row.sessionId ? await findSession(tx, row.sessionId) : undefined;
    if (session?.endedAt) return { error: 'the sign-in session has ended' };
    const api = apiOfStored(w.catalog, row.resource);
    if (!api) return { error: 'the API of this authorization code no longer exists', code: 'invalid_target' };
    if (named && storedResource(named) !== row.resource) return { error: 'resource differs from the authorization request', code: 'invalid_target' };
    // The roles may have changed since the consent: what they give now, never more than the code says.
    const scopes = decideScopes(w.catalog, { api, requested: row.scope, fallback: [], client, subject: { kind: 'user', roles: user.roles }, refuseEmpty: false });
    const res = await issueUserTokens(w, tx, {
      user,
      clientId: client.clientId,
      scopes,
      api,
      grant: 'authorization_code',
      authTime: row.authTime,
      sessionId: row.sessionId,
      // From the session read above (never a second read outside this transaction).
      amr: session?.amr ?? [],
      withRefresh: mayRefresh(client, scopes),
      nonce: row.nonce ?? undefined,
      responseExtensions: g.oauth.tokenResponseExtensions,
    });
    await recordIssued(tx, row.codeHash, res.familyId ?? null, res.jti);
    await w.audit.record(tx, { type: 'token.issued', actorId: user.id, subjectId: user.id, details: { grant: 'authorization_code', client_id: client.clientId, scope: res.scope } }, g.ctx);
    return { res };
  });
  if ('res' in outcome) return outcome.res;
  if ('revokeJti' in outcome && outcome.revokeJti) {
    const issuedAt = uuidv7Time(outcome.revokeJti) ?? w.clock.now();
    await w.revocations.revoke(outcome.revokeJti, issuedAt + w.config.accessTokenTtlSeconds * 1000);
  }
  if (outcome.code) throw new OAuthError(outcome.code, outcome.error);
  throw invalidGrant(outcome.error);
};
