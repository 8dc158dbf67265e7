import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { invalidClient } from '../../kernel/errors.js';
import { uuidv7Time } from '../tokens/jti.js';
import { verifyForAnyApi } from '../apis/verify.js';
import { inspectRefreshToken } from '../tokens/refresh-token.js';
import type { Warden } from '../../kernel/warden.js';
import { authenticateClient } from './client-auth.js';
import { looksLikeJwt, OAuthErrorBody, requireForm, TokenActionBody } from './endpoint-body.js';
import type { TokenClient, TokenParams } from './grant.js';

const Introspection = Type.Object({
  active: Type.Boolean(),
  scope: Type.Optional(Type.String()),
  client_id: Type.Optional(Type.String()),
  username: Type.Optional(Type.String()),
  token_type: Type.Optional(Type.String()),
  exp: Type.Optional(Type.Integer()),
  iat: Type.Optional(Type.Integer()),
  sub: Type.Optional(Type.String()),
  aud: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
  iss: Type.Optional(Type.String()),
  jti: Type.Optional(Type.String()),
});
type Introspection = Static<typeof Introspection>;

const INACTIVE: Introspection = { active: false };

/**
 * Everything the bearer guard checks, without a database write: signature (cached per token),
 * revocation list (memory: the jti, and the session of its `sid`), the user (short cache), the client still registered (short cache).
 */
async function introspectAccess(w: Warden, token: string): Promise<Introspection> {
  const claims = await verifyForAnyApi(w, token);
  if (!claims) return INACTIVE;
  if (w.revocations.isRevoked(claims.jti)) return INACTIVE;
  if (claims.sid && w.revocations.isSessionEnded(claims.sid)) return INACTIVE;
  if (!(await w.clients.exists(claims.client_id))) return INACTIVE;
  let username: string | undefined;
  if (claims.gty !== 'client_credentials') {
    const user = await w.userCache.get(claims.sub, w.config.JWT_SUBJECT);
    if (!user || user.disabled) return INACTIVE;
    if ((uuidv7Time(claims.jti) ?? claims.iat * 1000) < user.tokensValidAfter.getTime()) return INACTIVE;
    username = user.username;
  }
  return {
    active: true,
    scope: claims.scope,
    ...(claims.client_id ? { client_id: claims.client_id } : {}),
    ...(username ? { username } : {}),
    token_type: 'Bearer',
    exp: claims.exp,
    iat: claims.iat,
    sub: claims.sub,
    ...(claims.aud !== undefined ? { aud: claims.aud } : {}),
    iss: claims.iss!,
    jti: claims.jti,
  };
}

/**
 * A refresh token is only ever the business of the client holding it. Active is what the refresh grant
 * would rotate now (the rules are the rotation's own: a used, revoked or expired token, one of an ended
 * session, another client's or a disabled user's is inactive).
 */
async function introspectRefresh(w: Warden, token: string, client: TokenClient): Promise<Introspection> {
  const row = await inspectRefreshToken(w.db, token, client.clientId, new Date(w.clock.now()));
  if (row?.state !== 'live') return INACTIVE;
  const user = await w.userCache.get(row.userId);
  if (!user || user.disabled) return INACTIVE;
  return {
    active: true,
    scope: row.scope,
    client_id: client.clientId,
    username: user.username,
    token_type: 'refresh_token',
    ...((row.resource ?? w.config.audience) !== undefined ? { aud: row.resource ?? w.config.audience! } : {}),
    exp: Math.floor(row.expiresAt.getTime() / 1000),
    iat: Math.floor(row.createdAt.getTime() / 1000),
    sub: w.config.JWT_SUBJECT === 'username' ? user.username : user.id,
    iss: w.config.issuer,
  };
}

/** RFC 7662 token introspection, for authenticated (confidential) clients and resource servers. */
export async function introspectRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const w = app.warden;
  app.post(
    '/introspect',
    {
      config: { access: { kind: 'client', reason: 'authenticates the client itself (RFC 6749 §2.3)' }, oauth: true },
      schema: {
        tags: ['oauth'],
        summary: 'RFC 7662 token introspection (form-encoded; client authentication required)',
        consumes: ['application/x-www-form-urlencoded'],
        body: TokenActionBody,
        response: { 200: Introspection, 400: OAuthErrorBody, 401: OAuthErrorBody },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      requireForm(request);
      const client = await authenticateClient(request, request.body as TokenParams, w);
      // §2.1: the endpoint must be protected; otherwise it is a token-scanning oracle.
      if (!client?.authenticated) throw invalidClient('introspection needs an authenticated (confidential) client');
      const token = request.body.token;
      // The form tells the kinds apart, so token_type_hint is not needed (§2.1 allows ignoring it).
      return looksLikeJwt(token) ? introspectAccess(w, token) : introspectRefresh(w, token, client);
    },
  );
}
