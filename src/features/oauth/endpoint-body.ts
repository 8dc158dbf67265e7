import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { invalidRequest } from '../../kernel/errors.js';

/** The body of /revoke and /introspect (form-encoded, like /token). */
export const TokenActionBody = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 4096 }),
    token_type_hint: Type.Optional(Type.String({ maxLength: 100 })),
    client_id: Type.Optional(Type.String({ maxLength: 200 })),
    client_secret: Type.Optional(Type.String({ maxLength: 512 })),
  },
  // RFC 6749 §3.2 spirit: unknown parameters are ignored, not refused.
  { additionalProperties: Type.String({ maxLength: 4096 }) },
);

export const OAuthErrorBody = Type.Object(
  { error: Type.String(), error_description: Type.Optional(Type.String()) },
  { additionalProperties: true, description: 'RFC 6749 §5.2' },
);

export function requireForm(request: FastifyRequest) {
  if (!(request.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    throw invalidRequest('this endpoint takes application/x-www-form-urlencoded');
  }
}

/** An access token is a JWS compact serialisation; refresh tokens are opaque. */
export const looksLikeJwt = (token: string) => token.split('.').length === 3;
