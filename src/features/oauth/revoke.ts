import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requestContext } from '../audit/request-context.js';
import { endSession } from '../sessions/end-session.js';
import { verifyForAnyApi } from '../apis/verify.js';
import { findRefreshToken } from '../tokens/refresh-token.js';
import type { Warden } from '../../kernel/warden.js';
import { authenticateClient } from './client-auth.js';
import { looksLikeJwt, OAuthErrorBody, requireForm, TokenActionBody } from './endpoint-body.js';
import type { TokenClient, TokenParams } from './grant.js';
import { BUILT_IN_CLIENT_ID } from './scopes.js';
import type { RequestContext } from '../audit/audit-log.js';

/** A token may be revoked by the client it was issued to (RFC 7009 §2.1); anonymous first-party tokens by anyone holding them. */
const sameClient = (tokenClient: string | null | undefined, client: TokenClient | undefined) =>
  (tokenClient === BUILT_IN_CLIENT_ID ? null : (tokenClient ?? null)) === (client?.clientId ?? null);

async function revokeRefresh(w: Warden, token: string, client: TokenClient | undefined, ctx: RequestContext): Promise<boolean> {
  const row = await findRefreshToken(w.db, token);
  if (!row) return false;
  if (!sameClient(row.clientId, client)) return true;
  // A refresh token stands for its session (§2.1: revoking it should also invalidate the access tokens
  // of the same grant): the session ends — its refresh families, its pending codes, and every access
  // token carrying its sid, on every instance. An app's logout is exactly this request.
  await endSession(
    w,
    { sid: row.sessionId, familyId: row.familyId },
    'revoked',
    (n) => ({ type: 'token.revoked', subjectId: row.userId, details: { token_type: 'refresh_token', client_id: row.clientId, refresh_tokens_revoked: n } }),
    ctx,
  );
  return true;
}

async function revokeAccess(w: Warden, token: string, client: TokenClient | undefined, ctx: RequestContext): Promise<boolean> {
  const claims = await verifyForAnyApi(w, token);
  if (!claims) return false;
  if (!sameClient(claims.client_id, client)) return true;
  await w.revocations.revoke(claims.jti, claims.exp * 1000);
  await w.audit.record(w.db, { type: 'token.revoked', subjectId: claims.sub, details: { token_type: 'access_token', client_id: claims.client_id ?? null } }, ctx);
  return true;
}

/**
 * RFC 7009 token revocation. Always 200 for a token that is unknown, expired or another client's
 * (§2.2: the answer must not tell a caller which tokens exist). The hint only chooses what to try first.
 */
export async function revokeRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const w = app.warden;
  app.post(
    '/revoke',
    {
      config: { access: { kind: 'client', reason: 'authenticates the client itself (RFC 6749 §2.3)' }, oauth: true, rateLimitGroup: 'token' },
      schema: {
        tags: ['oauth'],
        summary: 'RFC 7009 token revocation (form-encoded)',
        consumes: ['application/x-www-form-urlencoded'],
        body: TokenActionBody,
        response: { 200: Type.Null(), 400: OAuthErrorBody, 401: OAuthErrorBody },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      requireForm(request);
      const params = request.body as TokenParams;
      const client = await authenticateClient(request, params, w);
      const ctx = requestContext(request);
      const token = request.body.token;
      const refreshFirst = request.body.token_type_hint === 'refresh_token' || !looksLikeJwt(token);
      const order = refreshFirst ? [revokeRefresh, revokeAccess] : [revokeAccess, revokeRefresh];
      for (const attempt of order) {
        if (await attempt(w, token, client, ctx)) break;
      }
      return reply.code(200).send(null);
    },
  );
}
