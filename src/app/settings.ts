import { Type, type Static } from 'typebox';
import { composeInOrder } from './compose.js';
import { KernelSettings, type Settings } from '../kernel/config/settings.js';
import { PlatformSettings } from '../platform/settings.js';
import { AccountSettings } from '../features/account/settings.js';
import { AuditSettings } from '../features/audit/settings.js';
import { ConsoleSettings } from '../features/console/settings.js';
import { ExamplesSettings } from '../features/examples/settings.js';
import { MailSettings } from '../features/mail/settings.js';
import { OAuthSettings } from '../features/oauth/settings.js';
import { PasskeysSettings } from '../features/passkeys/settings.js';
import { SessionsSettings } from '../features/sessions/settings.js';
import { TokensSettings } from '../features/tokens/settings.js';
import { UsersSettings } from '../features/users/settings.js';

/** Each layer's and feature's section, by owner, in the order of the layers. */
const SECTIONS = {
  kernel: KernelSettings,
  platform: PlatformSettings,
  tokens: TokensSettings,
  users: UsersSettings,
  oauth: OAuthSettings,
  account: AccountSettings,
  mail: MailSettings,
  sessions: SessionsSettings,
  passkeys: PasskeysSettings,
  audit: AuditSettings,
  console: ConsoleSettings,
  examples: ExamplesSettings,
} as const;

type Intersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;
type Definitions = Intersection<(typeof SECTIONS)[keyof typeof SECTIONS]['properties']>;

/**
 * The order settings are listed in: docs/configuration.md's table and the problems of one bad start.
 * Related settings of different owners stay side by side (ISSUER, PUBLIC_URL and the WebAuthn origins).
 */
const ORDER = [
  'NODE_ENV', 'PORT', 'HOST', 'DATA_DIR',
  'DATABASE_URL', 'DATABASE_CONNECT_TIMEOUT_SECONDS', 'DATABASE_POOL_SIZE', 'DATABASE_STATEMENT_TIMEOUT_MS', 'PGLITE_SHARED_BUFFERS_MB',
  'REDIS_URL', 'REDIS_PREFIX',
  'ISSUER', 'PUBLIC_URL', 'WEBAUTHN_RP_ID', 'WEBAUTHN_ORIGINS',
  'JWT_AUDIENCE', 'JWT_SUBJECT', 'JWT_ALGORITHM', 'SECRET_KEY', 'ENCRYPTION_KEY',
  'ACCESS_TOKEN_EXPIRE_MINUTES', 'REFRESH_TOKEN_EXPIRE_DAYS', 'REFRESH_REUSE_GRACE_SECONDS', 'KEY_ROTATION_DAYS', 'TOKEN_CACHE_SIZE',
  'USER_CACHE_SECONDS', 'REGISTRATION', 'PASSWORD_GRANT', 'PASSWORD_MIN_LENGTH', 'PASSWORD_POLICY', 'BREACHED_PASSWORDS_FILE',
  'HASH_CONCURRENCY', 'HASH_QUEUE', 'ARGON2_MEMORY_KIB', 'ARGON2_ITERATIONS',
  'CORS_ORIGINS', 'CORS_CREDENTIALS', 'TRUSTED_PROXIES', 'ADMIN_ALLOWED_NETWORKS', 'METRICS_ALLOWED_NETWORKS',
  'RATE_LIMIT_ENABLED', 'RATE_LIMIT_GLOBAL', 'RATE_LIMIT_TOKEN', 'RATE_LIMIT_REGISTER', 'RATE_LIMIT_ACCOUNT', 'RATE_LIMIT_WINDOW_SECONDS',
  'LOCKOUT_THRESHOLD', 'LOCKOUT_MINUTES',
  'BODY_LIMIT', 'REQUEST_TIMEOUT_MS', 'KEEP_ALIVE_TIMEOUT_MS', 'SHUTDOWN_TIMEOUT_MS',
  'SMTP_URL', 'MAIL_FROM', 'EMAIL_VERIFY_TOKEN_HOURS', 'PASSWORD_RESET_TOKEN_MINUTES',
  'REQUIRE_VERIFIED_EMAIL', 'REQUIRE_ADMIN_MFA', 'NEW_DEVICE_MAIL',
  'TLS_CERT_FILE', 'TLS_KEY_FILE', 'HTTP_REDIRECT_PORT',
  'LOG_LEVEL', 'LOG_FLUSH_MS', 'V8_STARTUP_TUNING',
  'AUDIT_RETENTION_DAYS', 'ALERT_WEBHOOK_URL', 'ALERT_WEBHOOK_QUEUE', 'ALERT_WEBHOOK_ATTEMPTS',
  'MONITOR_WINDOW_SECONDS', 'MONITOR_STUFFING_ACCOUNTS', 'MONITOR_DISTRIBUTED_IPS',
  'BOOTSTRAP_ADMIN_USERNAME', 'BOOTSTRAP_ADMIN_EMAIL', 'BOOTSTRAP_ADMIN_PASSWORD',
  'CONSOLE_SESSION_MINUTES', 'DOCS', 'EXAMPLES',
] as const satisfies ReadonlyArray<keyof Definitions>;

// A setting defined by two sections, left out of ORDER or named twice in it stops the import (and so every test).
const definitions = composeInOrder(
  'setting',
  Object.fromEntries(Object.entries(SECTIONS).map(([owner, section]) => [owner, section.properties])),
  ORDER,
) as unknown as Definitions;

/** Every setting Warden reads, each section's definitions composed in ORDER: what parseConfig reads and checks. */
export const SettingsSchema = Type.Object(definitions);

// The composed schema is exactly the Settings type that code reads: a section not composed here, or one
// composed without its `declare module` merge into Settings, fails the typecheck.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _exact: Same<keyof Static<typeof SettingsSchema>, keyof Settings> & Same<Static<typeof SettingsSchema>, Settings> = true;
