import { invalidGrant, invalidRequest, OAuthError, unauthorizedClient } from '../../../kernel/errors.js';
import { LoginError } from '../../users/service.js';
import type { UserRecord } from '../../users/repository.js';
import { peekJwtPayload } from '../../tokens/jwt.js';
import type { GrantContext, GrantHandler, TokenResponse } from '../grant.js';
import { apiDeviceKey, signInFromDevice } from '../../sessions/new-device.js';
import { issueUserTokens } from '../issue.js';
import { FIRST_PARTY_DEFAULT_SCOPES } from '../scopes.js';
import { decideScopes, defaultScopes, selectApi, type ScopeRequest } from '../../apis/resources.js';


/**
 * Resource Owner Password Credentials (RFC 6749 §4.3), for first-party apps only. OAuth 2.1 drops it;
 * PASSWORD_GRANT=disabled turns it off. FastAPI's OAuth2PasswordRequestForm sends it without grant_type.
 */
export const passwordGrant: GrantHandler = async (g) => {
  const { params, client, warden: w } = g;
  if (w.config.PASSWORD_GRANT !== 'enabled') throw new OAuthError('unsupported_grant_type', 'the password grant is disabled on this server');
  if (client && !client.firstParty) throw unauthorizedClient('the password grant is only for first-party clients');
  if (client && !client.grantTypes.includes('password')) throw unauthorizedClient('this client may not use the password grant');
  if (!params.username) throw invalidRequest('username is required');
  if (!params.password) throw invalidRequest('password is required');
  // First party (anonymous or a first_party client): `account` and `admin` may be asked for; what the
  // user's roles give at the API is known after the password check. A bad request fails before it.
  await w.catalog.fresh();
  const api = selectApi(w.catalog, params);
  const ask: Omit<ScopeRequest, 'subject'> = { api, requested: params.scope, fallback: defaultScopes(api, FIRST_PARTY_DEFAULT_SCOPES), client, refuseEmpty: true };
  decideScopes(w.catalog, { ...ask, subject: { kind: 'user', roles: undefined } });
  let user;
  try {
    user = await w.users.authenticate(params.username, params.password, g.ctx);
  } catch (e) {
    if (e instanceof LoginError) {
      if (e.reason === 'disabled') throw invalidGrant('this account is disabled');
      if (e.reason === 'unverified_email') throw invalidGrant('verify your e-mail address before signing in');
      // Unknown user, wrong password and a locked account answer alike (no account enumeration).
      throw invalidGrant('invalid username or password');
    }
    throw e;
  }
  const scopes = decideScopes(w.catalog, { ...ask, subject: { kind: 'user', roles: user.roles } });
  for (const step of g.oauth.passwordGrantSteps) await step(g, user, scopes);
  const scope = scopes.join(' ');
  // One statement writes the session, the refresh token and both audit rows: no transaction, one round trip.
  const res = await issueUserTokens(
    w,
    w.db,
    {
      user,
      clientId: client?.clientId ?? null,
      scopes,
      api,
      grant: 'password',
      authTime: new Date(w.clock.now()),
      // Each password login is a sign-in of its own: a session, written by the same statement.
      newSession: { amr: ['pwd'], ctx: g.ctx },
      withRefresh: true,
      responseExtensions: g.oauth.tokenResponseExtensions,
    },
    {
      events: [
        { type: 'token.issued', actorId: user.id, subjectId: user.id, details: { grant: 'password', client_id: client?.clientId ?? null, scope } },
        { type: 'login.succeeded', actorId: user.id, subjectId: user.id, details: { via: 'password_grant' } },
      ],
      ctx: g.ctx,
    },
  );
  await newSignIn(g, user, res, 'password (API)');
  return res;
};

/** The device check of a completed API sign-in (src/features/sessions/new-device.ts): the session is the token's `sid`. */
export async function newSignIn(g: GrantContext, user: UserRecord, res: TokenResponse, method: string) {
  // Our own token, just signed: read, not verified again.
  const sid = peekJwtPayload(res.access_token)?.sid;
  if (typeof sid !== 'string') return;
  await signInFromDevice(g.warden, { user, sid, deviceKey: apiDeviceKey(g.ctx), method, ctx: g.ctx }, g.request.log);
}
