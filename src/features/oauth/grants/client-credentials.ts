import { invalidClient, unauthorizedClient } from '../../../kernel/errors.js';
import { decideScopes, selectApi } from '../../apis/resources.js';
import type { GrantHandler } from '../grant.js';

/**
 * Client credentials (RFC 6749 §4.4): a confidential client acting for itself, `sub` = client_id.
 * The token carries gty=client_credentials so guards know no user stands behind it. No refresh token
 * (§4.4.3): the client simply asks again.
 */
export const clientCredentialsGrant: GrantHandler = async (g) => {
  const { params, client, warden: w } = g;
  if (!client) throw invalidClient('client_credentials needs client authentication');
  if (client.type !== 'confidential' || !client.authenticated) throw unauthorizedClient('client_credentials is only for confidential clients');
  // RFC 8707: the API named by `resource` (or `audience`); its scopes the client was granted there.
  // User scopes (OIDC's, `account`, `admin`) never go to a client acting for itself (decideScopes).
  await w.catalog.fresh();
  const api = selectApi(w.catalog, params);
  const scopes = decideScopes(w.catalog, { api, requested: params.scope, fallback: api.scopes.map((s) => s.name), client, subject: { kind: 'client' }, refuseEmpty: true });
  const access = await w.accessTokens.issue({
    subject: client.clientId,
    scope: scopes.join(' '),
    clientId: client.clientId,
    grant: 'client_credentials',
    ...(api.builtIn ? {} : { audience: api.identifier, ttlSeconds: api.accessTokenTtlSeconds ?? w.config.accessTokenTtlSeconds }),
  });
  // Nothing is stored for this token, so the event is written in the next batch, not per token.
  w.audit.recordBatched(w.db, { type: 'token.issued', actorId: client.clientId, subjectId: client.clientId, details: { grant: 'client_credentials', client_id: client.clientId, scope: scopes.join(' '), ...(api.builtIn ? {} : { resource: api.identifier }) } }, g.ctx);
  return { access_token: access.token, token_type: 'Bearer', expires_in: access.expiresIn, scope: scopes.join(' ') };
};
