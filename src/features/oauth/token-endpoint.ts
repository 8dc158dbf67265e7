import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requestContext } from '../audit/request-context.js';
import { invalidRequest, unauthorizedClient, unsupportedGrantType } from '../../kernel/errors.js';
import type { TokenParams } from './grant.js';
import { passwordGrant } from './grants/password.js';
import { refreshTokenGrant } from './grants/refresh-token.js';
import { publicTokenResponse } from './issue.js';
import fp from 'fastify-plugin';
import { needsWarden, ROUTE_PIPELINE } from '../../platform/pipeline.js';

const TokenBody = Type.Object(
  {
    grant_type: Type.Optional(Type.String({ maxLength: 200 })),
    username: Type.Optional(Type.String({ maxLength: 254 })),
    password: Type.Optional(Type.String({ maxLength: 1024 })),
    scope: Type.Optional(Type.String({ maxLength: 1000 })),
    refresh_token: Type.Optional(Type.String({ maxLength: 2048 })),
    code: Type.Optional(Type.String({ maxLength: 2048 })),
    redirect_uri: Type.Optional(Type.String({ maxLength: 2048 })),
    code_verifier: Type.Optional(Type.String({ maxLength: 256 })),
    client_id: Type.Optional(Type.String({ maxLength: 200 })),
    client_secret: Type.Optional(Type.String({ maxLength: 512 })),
    mfa_token: Type.Optional(Type.String({ maxLength: 4096 })),
  },
  // RFC 6749 §3.2: unrecognised request parameters are ignored.
  { additionalProperties: Type.String({ maxLength: 4096 }) },
);

const TokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
  refresh_token: Type.Optional(Type.String()),
  scope: Type.Optional(Type.String()),
  id_token: Type.Optional(Type.String()),
});
const OAuthErrorBody = Type.Object(
  { error: Type.String(), error_description: Type.Optional(Type.String()) },
  { additionalProperties: true, description: 'RFC 6749 §5.2' },
);

/** POST /token, with the grants every app has (password, refresh_token); features register more into app.oauth. */
async function tokenEndpoint(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const oauth = app.oauth;
  oauth.registerGrantType('password', passwordGrant);
  oauth.registerGrantType('refresh_token', refreshTokenGrant);
  app.post(
    '/token',
    {
      config: { access: { kind: 'client', reason: 'authenticates the client itself (RFC 6749 §2.3)' }, oauth: true, rateLimitGroup: 'token' },
      schema: {
        tags: ['oauth'],
        summary: 'OAuth 2.0 token endpoint (form-encoded)',
        consumes: ['application/x-www-form-urlencoded'],
        body: TokenBody,
        response: { 200: TokenResponse, 400: OAuthErrorBody, 401: OAuthErrorBody, 503: OAuthErrorBody },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
      if (!(request.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')) {
        throw invalidRequest('the token endpoint takes application/x-www-form-urlencoded');
      }
      const params = request.body as TokenParams;
      // FastAPI's OAuth2PasswordRequestForm allows a missing grant_type: it means password.
      const grantType = params.grant_type || (params.username !== undefined ? 'password' : '');
      const handler = oauth.grantType(grantType);
      if (!grantType) throw invalidRequest('grant_type is required');
      if (!handler) throw unsupportedGrantType(`unsupported grant_type: ${grantType.slice(0, 100)}`);
      const client = await oauth.authenticateClient(request, params, app.warden);
      // The password grant checks the client itself; urn:warden:mfa only completes a password grant of the same client.
      if (client && grantType !== 'password' && grantType !== 'urn:warden:mfa' && !client.grantTypes.includes(grantType)) {
        throw unauthorizedClient('this client is not allowed that grant type');
      }
      const res = await handler({ params, client, ctx: requestContext(request), request, warden: app.warden, oauth });
      return publicTokenResponse(res);
    },
  );
}

export const tokenRoutes = fp(tokenEndpoint, { name: 'warden-token-endpoint', fastify: '5.x', encapsulate: true, decorators: needsWarden(), dependencies: [...ROUTE_PIPELINE, 'warden-audit', '@fastify/formbody', 'warden-oauth-registry'] });
