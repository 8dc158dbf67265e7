import type { FastifyReply, FastifyRequest } from 'fastify';
import { forbidden, insufficientScope, invalidToken, missingToken } from '../../kernel/errors.js';
import { TokenError } from '../tokens/jwt.js';
import type { AccessClaims, VerifiedToken } from '../tokens/access-token.js';
import type { Warden } from '../../kernel/warden.js';
import type { UserRecord } from '../users/repository.js';
import { can, type Permission, type Role } from './roles.js';
import { OIDC_SCOPES } from '../oauth/scopes.js';

export interface Auth {
  claims: AccessClaims;
  /** The user the token acts for; undefined for client_credentials tokens. */
  user: UserRecord | undefined;
  clientId: string | undefined;
  scopes: ReadonlySet<string>;
  token: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: Auth | undefined;
  }
}

/**
 * A preHandler in callback style: when the token and its user are both cached — nearly every request —
 * it finishes without a promise or a microtask turn; otherwise it waits for the verification or lookup.
 */
type Guard = (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => void;

const OIDC = new Set<string>(OIDC_SCOPES);

const BEARER = /^Bearer[ ]+([A-Za-z0-9._~+/=-]+)\s*$/i;

function bearer(request: FastifyRequest): string | undefined {
  const h = request.headers.authorization;
  if (!h) return undefined;
  const m = BEARER.exec(h);
  if (!m) throw invalidToken('malformed Authorization header');
  return m[1];
}

/**
 * Who is calling. Signature and registered claims (cached per token), then on every request: the client
 * still exists, the jti is not revoked, the user exists, is enabled, and the token was issued after their sessions last ended.
 */
function resolveAuth(request: FastifyRequest): Auth | Promise<Auth> {
  const w = request.server.warden;
  const h = request.headers.authorization;
  // A token verified before is a cache key, and every cache key passed BEARER's token pattern: its
  // exact "Bearer <token>" form need not have the pattern run over its ~500 characters again.
  if (h?.startsWith('Bearer ')) {
    const token = h.slice(7);
    const verified = w.accessTokens.cached(token);
    if (verified) return withClient(w, token, verified);
  }
  const token = bearer(request);
  if (!token) throw missingToken();
  return verifyThenUser(request, w, token);
}

async function verifyThenUser(request: FastifyRequest, w: Warden, token: string): Promise<Auth> {
  let verified: VerifiedToken;
  try {
    verified = await w.accessTokens.verifyToken(token);
  } catch (e) {
    if (e instanceof TokenError) {
      request.log.info({ reason: e.code }, 'bearer token refused');
      throw invalidToken(e.code === 'ERR_JWT_EXPIRED' ? 'the access token expired' : undefined);
    }
    throw e;
  }
  return withClient(w, token, verified);
}

/** A deleted client's tokens die with it, as introspection says (clients service cache; no promise on a hit). */
function withClient(w: Warden, token: string, verified: VerifiedToken): Auth | Promise<Auth> {
  const exists = w.clients.exists(verified.claims.client_id);
  if (exists === true) return withUser(w, token, verified);
  if (exists === false) throw invalidToken(CLIENT_GONE);
  return exists.then((ok) => {
    if (!ok) throw invalidToken(CLIENT_GONE);
    return withUser(w, token, verified);
  });
}
const CLIENT_GONE = 'the client of this token no longer exists';

function withUser(w: Warden, token: string, verified: VerifiedToken): Auth | Promise<Auth> {
  const { claims } = verified;
  if (w.revocations.isRevoked(claims.jti)) throw invalidToken('the access token was revoked');
  if (claims.sid && w.revocations.isSessionEnded(claims.sid)) throw invalidToken('the session was ended');
  if (claims.gty === 'client_credentials') return { claims, user: undefined, clientId: claims.client_id, scopes: verified.scopes, token };
  const hit = w.userCache.peek(claims.sub, w.config.JWT_SUBJECT);
  if (hit) return activeUser(token, verified, hit.user);
  return w.userCache.get(claims.sub, w.config.JWT_SUBJECT).then((user) => activeUser(token, verified, user));
}

function activeUser(token: string, verified: VerifiedToken, user: UserRecord | undefined): Auth {
  if (!user || user.disabled) throw invalidToken();
  // Issued at or before the instant sessions were ended (same millisecond included) → dead.
  if (verified.issuedAtMs <= user.tokensValidAfter.getTime()) throw invalidToken('the session was ended');
  return { claims: verified.claims, user, clientId: verified.claims.client_id, scopes: verified.scopes, token };
}

/** A guard that authenticates (unless an earlier guard of the route did) and then applies `check`. */
function guard(check: (auth: Auth, w: Warden) => void): Guard {
  return (request, _reply, done) => {
    let pending: Promise<Auth> | undefined;
    try {
      if (!request.auth) {
        const auth = resolveAuth(request);
        if (auth instanceof Promise) pending = auth;
        else request.auth = auth;
      }
      if (!pending) check(request.auth!, request.server.warden);
    } catch (e) {
      return done(e as Error);
    }
    if (!pending) return done();
    pending.then(
      (auth) => {
        request.auth = auth;
        try {
          check(auth, request.server.warden);
        } catch (e) {
          return done(e as Error);
        }
        done();
      },
      (e: Error) => done(e),
    );
  };
}

/** The user the token acts for; a client acting for itself is refused. */
function userOf(auth: Auth): UserRecord {
  if (!auth.user) throw forbidden('user_required', 'this route acts for a user; client tokens are not accepted');
  return auth.user;
}

/** What a `bearer` route declares (src/features/access/route-access.ts). */
export interface BearerRequirement {
  /** Every one of these scopes (RFC 6750 §3.1: 403 insufficient_scope naming them). */
  scopes: readonly string[];
  /** The user must hold this role. */
  role?: Role | undefined;
  /** The user must hold one of these permissions (through their roles, src/features/access/roles.ts). */
  permissions?: readonly Permission[] | undefined;
}

/**
 * The guard of a bearer route: a user's token (not a client acting for itself), with every declared
 * scope — what the user let this client do — then the role or permission — what the user may do at all.
 * Roles come from the database (through the short user cache), not from the token's `roles` claim, so a
 * demoted admin loses access within one cache interval instead of at token expiry.
 */
export function bearerGuard(need: BearerRequirement): Guard {
  const scopes = need.scopes;
  const scopeList = scopes.join(' ');
  const { role, permissions } = need;
  return guard((auth, w) => {
    const user = userOf(auth);
    for (const s of scopes) if (!auth.scopes.has(s)) throw insufficientScope(scopeList);
    if (role && !user.roles.includes(role)) throw forbidden('missing_role', `requires the role "${role}"`);
    if (permissions && !permissions.some((p) => can(user.roles, p))) {
      throw forbidden('missing_permission', `requires the permission ${permissions.map((p) => `"${p}"`).join(' or ')}`);
    }
    // The token's scopes were what the user's roles gave when it was issued; a permission taken from a
    // role since is gone now (roles through the user cache, permissions through the catalog), not at
    // token expiry. `account` is every user's own (src/features/apis/resources.ts).
    for (const s of scopes) {
      if (s !== 'account' && !OIDC.has(s) && !w.catalog.builtInAllows(user.roles, s)) throw forbidden('missing_permission', `the user's roles no longer give the scope "${s}"`);
    }
  });
}
