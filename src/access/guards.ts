import type { FastifyReply, FastifyRequest } from 'fastify';
import { forbidden, insufficientScope, invalidToken, missingToken } from '../http/errors.js';
import { TokenError } from '../tokens/jwt.js';
import { uuidv7Time } from '../tokens/jti.js';
import type { AccessClaims } from '../tokens/access-token.js';
import type { UserRecord } from '../users/repository.js';
import { can, type Permission, type Role } from './roles.js';

export interface Auth {
  claims: AccessClaims;
  /** The user the token acts for; undefined for client_credentials tokens. */
  user: UserRecord | undefined;
  clientId: string | undefined;
  scopes: Set<string>;
  token: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: Auth | undefined;
  }
}

type Guard = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

function bearer(request: FastifyRequest): string | undefined {
  const h = request.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer[ ]+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(h);
  if (!m) throw invalidToken('malformed Authorization header');
  return m[1];
}

/**
 * Who is calling. Signature and registered claims (cached per token), then on every request: the jti
 * is not revoked, the user exists, is enabled, and the token was issued after their sessions last ended.
 */
export const authenticate: Guard = async (request) => {
  const token = bearer(request);
  if (!token) throw missingToken();
  const w = request.server.warden;
  let claims: AccessClaims;
  try {
    claims = await w.accessTokens.verify(token);
  } catch (e) {
    if (e instanceof TokenError) {
      request.log.info({ reason: e.code }, 'bearer token refused');
      throw invalidToken(e.code === 'ERR_JWT_EXPIRED' ? 'the access token expired' : undefined);
    }
    throw e;
  }
  if (w.revocations.isRevoked(claims.jti)) throw invalidToken('the access token was revoked');
  let user: UserRecord | undefined;
  if (claims.gty !== 'client_credentials') {
    user = await w.userCache.get(claims.sub, w.config.JWT_SUBJECT);
    if (!user || user.disabled) throw invalidToken();
    const issuedAt = uuidv7Time(claims.jti) ?? claims.iat * 1000;
    // Issued at or before the instant sessions were ended (same millisecond included) → dead.
    if (issuedAt <= user.tokensValidAfter.getTime()) throw invalidToken('the session was ended');
  }
  request.auth = {
    claims,
    user,
    clientId: claims.client_id,
    scopes: new Set(claims.scope.split(' ').filter(Boolean)),
    token,
  };
};

/** A user (not a client acting for itself) is required. */
export const requireUser: Guard = async (request, reply) => {
  if (!request.auth) await authenticate(request, reply);
  if (!request.auth!.user) throw forbidden('user_required', 'this route acts for a user; client tokens are not accepted');
};

/**
 * Roles come from the database (through the short user cache), not from the token's `roles` claim, so a
 * demoted admin loses access within one cache interval instead of at token expiry.
 */
export function requireRole(...roles: Role[]): Guard {
  return async (request, reply) => {
    await requireUser(request, reply);
    const have = request.auth!.user!.roles;
    if (!roles.some((r) => have.includes(r))) {
      throw forbidden('missing_role', `requires the role ${roles.map((r) => `"${r}"`).join(' or ')}`);
    }
  };
}

export function requirePermission(permission: Permission): Guard {
  return async (request, reply) => {
    await requireUser(request, reply);
    if (!can(request.auth!.user!.roles, permission)) throw forbidden('missing_permission', `requires the permission "${permission}"`);
  };
}

/** RFC 6750 §3.1: a valid token without the scope answers 403 insufficient_scope. */
export function requireScope(scope: string): Guard {
  return async (request, reply) => {
    if (!request.auth) await authenticate(request, reply);
    if (!request.auth!.scopes.has(scope)) throw insufficientScope(scope);
  };
}
