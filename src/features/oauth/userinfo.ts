import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { subjectOf, userClaims } from './claims.js';

const UserInfo = Type.Object(
  {
    sub: Type.String(),
    name: Type.Optional(Type.String()),
    preferred_username: Type.Optional(Type.String()),
    updated_at: Type.Optional(Type.Integer()),
    email: Type.Optional(Type.String()),
    email_verified: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** OIDC Core §5.3 UserInfo: needs a user's token with `openid`; claims per granted scope. */
export async function userinfoRoutes(app: FastifyInstance) {
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const auth = request.auth!;
    reply.header('cache-control', 'no-store');
    return { sub: subjectOf(auth.user!, app.warden.config.JWT_SUBJECT), ...userClaims(auth.user!, [...auth.scopes]) };
  };
  const opts = {
    // A user's token with `openid`; the claims follow the other scopes (profile, email).
    config: { access: { kind: 'bearer', scopes: ['openid'] } as const },
    schema: { tags: ['oauth'], summary: 'OpenID Connect UserInfo', response: { 200: UserInfo } },
  };
  app.get('/userinfo', opts, handler);
  app.post('/userinfo', opts, handler);
}
