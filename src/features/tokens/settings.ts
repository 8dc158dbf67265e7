import { Type, type Static } from 'typebox';
import { Int, Str } from '../../kernel/config/settings.js';

/** Access and refresh tokens: their audience, subject, signature, lifetimes, signing-key rotation and cache. */
export const TokensSettings = Type.Object({
  JWT_AUDIENCE: Str('warden', 'aud of access tokens; empty for none'),
  JWT_SUBJECT: Type.Union([Type.Literal('id'), Type.Literal('username')], { default: 'id', description: 'what sub carries' }),
  JWT_ALGORITHM: Type.Union([Type.Literal('EdDSA'), Type.Literal('ES256'), Type.Literal('HS256')], {
    default: 'EdDSA',
    description: 'signing algorithm; HS256 uses SECRET_KEY',
  }),
  ACCESS_TOKEN_EXPIRE_MINUTES: Int(15, 1, 1440, 'access token lifetime'),
  REFRESH_TOKEN_EXPIRE_DAYS: Int(30, 1, 365, 'refresh token lifetime'),
  REFRESH_REUSE_GRACE_SECONDS: Int(5, 0, 60, 'a just-rotated refresh token may be retried this long; 0 = none'),
  KEY_ROTATION_DAYS: Int(0, 0, 3650, 'rotate the signing key automatically after this many days; 0 = only on demand'),
  TOKEN_CACHE_SIZE: Int(10000, 0, 1000000, 'verified access tokens remembered until they expire'),
});

declare module '../../kernel/config/settings.js' {
  interface Settings extends Static<typeof TokensSettings> {}
}
