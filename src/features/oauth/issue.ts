import type { AuditEvent, RequestContext } from '../audit/audit-log.js';
import type { Executor } from '../../kernel/storage/database.js';
import { createSession, newSessionId, type NewSession } from '../sessions/repository.js';
import { createRefreshToken, type IssuedRefresh } from '../tokens/refresh-token.js';
import type { Warden } from '../../kernel/warden.js';
import type { IssueForUser, TokenResponse } from './grant.js';
import { BUILT_IN_CLIENT_ID, scopesForUser } from './scopes.js';
import { storedResource } from '../apis/resources.js';


/**
 * Access token (+ refresh token) for a user, written in the caller's transaction. `audit`: the events
 * of this issuance, written by the same statement as the refresh token (or on their own without one).
 */
export async function issueUserTokens(
  w: Warden,
  ex: Executor,
  req: IssueForUser,
  audit?: { events: AuditEvent[]; ctx: RequestContext },
): Promise<TokenResponse & { familyId?: string; jti: string }> {
  // `admin` only while the user holds the admin role, decided at every issuance (a refresh after a
  // demotion no longer carries it); the guard checks the role again on each request.
  if (req.scopes.includes('admin') && !req.user.roles.includes('admin')) req = { ...req, scopes: scopesForUser(req.scopes, req.user.roles) };
  const now = new Date(w.clock.now());
  const api = req.api ?? w.catalog.builtIn();
  let refresh: IssuedRefresh | undefined = req.issuedRefresh;
  let session: NewSession | undefined;
  if (req.newSession) {
    const { amr, ctx } = req.newSession;
    session = { sid: newSessionId(), userId: req.user.id, clientId: req.clientId, authTime: req.authTime, amr, ip: ctx.ip, userAgent: ctx.userAgent, now };
  }
  const sessionId = session?.sid ?? req.sessionId ?? undefined;
  if (req.withRefresh && api.allowOfflineAccess && !refresh) {
    const prepared = audit && w.audit.prepare(audit.events, audit.ctx);
    refresh = await createRefreshToken(ex, {
      userId: req.user.id,
      clientId: req.clientId,
      scope: req.scopes.join(' '),
      resource: storedResource(api),
      authTime: req.authTime,
      sessionId,
      session,
      now,
      ttlSeconds: w.config.refreshTokenTtlSeconds,
      audit: prepared?.rows,
    });
    prepared?.announce();
  } else {
    if (session) await createSession(ex, session);
    if (audit) await w.audit.recordAll(ex, audit.events, audit.ctx);
  }
  const access = await w.accessTokens.issue({
    subject: w.config.JWT_SUBJECT === 'username' ? req.user.username : req.user.id,
    scope: req.scopes.join(' '),
    roles: req.user.roles,
    // RFC 9068 §2.2: client_id is required; a password grant naming no client is Warden's own.
    clientId: req.clientId ?? BUILT_IN_CLIENT_ID,
    sessionId,
    // RFC 8707 §2 / RFC 9068 §3: the token names the one API it is for, with that API's lifetime.
    ...(api.builtIn ? {} : { audience: api.identifier, ttlSeconds: api.accessTokenTtlSeconds ?? w.config.accessTokenTtlSeconds }),
  });
  const res: TokenResponse & { familyId?: string; jti: string } = {
    access_token: access.token,
    token_type: 'Bearer',
    expires_in: access.expiresIn,
    ...(refresh ? { refresh_token: refresh.token } : {}),
    scope: req.scopes.join(' '),
    jti: access.claims.jti,
    ...(refresh ? { familyId: refresh.familyId } : {}),
  };
  for (const ext of req.responseExtensions) await ext(w, { ...req, sessionId }, res);
  return res;
}

/** What the client sees: internal fields removed. */
export function publicTokenResponse(r: TokenResponse & { familyId?: string; jti?: string }): TokenResponse {
  const { familyId: _f, jti: _j, ...rest } = r;
  return rest;
}
