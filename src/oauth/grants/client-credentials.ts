import { invalidClient, invalidScope, unauthorizedClient } from '../../http/errors.js';
import type { GrantHandler } from '../grant.js';
import { grantScopes } from '../scopes.js';

/** Scopes that speak for a user (Warden's `account` and `admin` too); a client acting for itself has none to give. */
const USER_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access', 'account', 'admin']);

/**
 * Client credentials (RFC 6749 §4.4): a confidential client acting for itself, `sub` = client_id.
 * The token carries gty=client_credentials so guards know no user stands behind it. No refresh token
 * (§4.4.3): the client simply asks again.
 */
export const clientCredentialsGrant: GrantHandler = async (g) => {
  const { params, client, warden: w } = g;
  if (!client) throw invalidClient('client_credentials needs client authentication');
  if (client.type !== 'confidential' || !client.authenticated) throw unauthorizedClient('client_credentials is only for confidential clients');
  const allowed = client.scope.filter((s) => !USER_SCOPES.has(s));
  const scopes = grantScopes(params.scope, allowed, allowed);
  if (params.scope && scopes.some((s) => USER_SCOPES.has(s))) throw invalidScope('user scopes cannot be granted to a client acting for itself');
  const access = await w.accessTokens.issue({ subject: client.clientId, scope: scopes.join(' '), clientId: client.clientId, grant: 'client_credentials' });
  // Nothing is stored for this token, so the event is written in the next batch, not per token.
  w.audit.recordBatched(w.db, { type: 'token.issued', actorId: client.clientId, subjectId: client.clientId, details: { grant: 'client_credentials', client_id: client.clientId, scope: scopes.join(' ') } }, g.ctx);
  return { access_token: access.token, token_type: 'Bearer', expires_in: access.expiresIn, scope: scopes.join(' ') };
};
