import { Type, type Static } from 'typebox';

/**
 * The kernel's settings: the process, the server's address and TLS, storage, the public URLs and the keys
 * secrets at rest are sealed with. The environment variable name is the key.
 *
 * Every layer and feature defines its own section next to its code (src/platform/settings.ts,
 * src/features/<name>/settings.ts) and adds it to `Settings` by declaration merging; the app composes the
 * sections into one schema (src/app/settings.ts), read and checked at once by parseConfig (src/app/config.ts).
 */
export const KernelSettings = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('production'), Type.Literal('test')], {
    default: 'development',
    description: 'production refuses insecure settings at start',
  }),
  PORT: Int(8420, 0, 65535, 'port to listen on (8420: clear of the usual development ports 3000, 5000, 8000, 8080)'),
  HOST: Str('127.0.0.1', 'address to listen on'),
  DATA_DIR: Str('./data', 'embedded database, outbox and lock file live here'),
  DATABASE_URL: OptStr('postgres://… to use PostgreSQL instead of the embedded PGlite'),
  DATABASE_CONNECT_TIMEOUT_SECONDS: Int(30, 0, 3600, 'at start, keep retrying an unreachable PostgreSQL this long (it often starts after Warden); 0 = no wait'),
  DATABASE_POOL_SIZE: Int(10, 1, 200, 'PostgreSQL connections per instance'),
  DATABASE_STATEMENT_TIMEOUT_MS: Int(5000, 100, 600000, 'PostgreSQL statement_timeout'),
  PGLITE_SHARED_BUFFERS_MB: Int(16, 1, 1024, 'embedded PGlite shared_buffers (memory)'),
  REDIS_URL: OptStr('redis://… to share rate limits, lockouts and revocations between instances'),
  REDIS_PREFIX: Str('warden:', 'prefix of every Redis key and pub/sub channel: give each deployment sharing one Redis its own (database numbers do not separate pub/sub)'),
  ISSUER: OptStr('public base URL and JWT iss (default: the address the server prints, http://HOST:PORT)'),
  PUBLIC_URL: OptStr('base URL for links in mails (default ISSUER)'),
  SECRET_KEY: OptStr('shared HS256 secret (at least 32 characters in production)'),
  ENCRYPTION_KEY: OptStr(
    'comma list of 32-byte keys (base64 or hex) encrypting signing keys and TOTP secrets at rest; the first encrypts, all decrypt; unset: derived from SECRET_KEY',
  ),
  TLS_CERT_FILE: OptStr('PEM certificate: serve HTTPS'),
  TLS_KEY_FILE: OptStr('PEM private key for TLS_CERT_FILE'),
  HTTP_REDIRECT_PORT: Int(0, 0, 65535, 'with TLS, a plain port that only redirects to HTTPS; 0 = none'),
  V8_STARTUP_TUNING: Type.Union([Type.Literal('enabled'), Type.Literal('disabled')], {
    default: 'enabled',
    description: '`warden serve` keeps the young generation small until ready and one nextTick object alive (idle memory, per-request speed; docs/decisions/0003-v8-startup-tuning.md)',
  }),
});

/**
 * Every setting, typed: the kernel's section here, each other section merged in where it is defined
 * (`declare module '…/kernel/config/settings.js'`), as features add their services to `Warden`.
 */
export interface Settings extends Static<typeof KernelSettings> {}

/** A whole number setting with its default and bounds. */
export function Int(def: number, min: number, max: number, description: string) {
  return Type.Integer({ default: def, minimum: min, maximum: max, description });
}
/** A true/false setting. */
export function Bool(def: boolean, description: string) {
  return Type.Boolean({ default: def, description });
}
/** A text setting with a default. */
export function Str(def: string, description: string) {
  return Type.String({ default: def, description });
}
/** A text setting without a default: unset, or not empty. */
export function OptStr(description: string) {
  return Type.Optional(Type.String({ minLength: 1, description }));
}
