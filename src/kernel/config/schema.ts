import { Type, type Static } from 'typebox';

/**
 * Every setting Warden reads, with its default. The environment variable name is the key.
 * This schema is the single source of the Config type; README's settings table mirrors it.
 */
const Int = (def: number, min: number, max: number, description: string) =>
  Type.Integer({ default: def, minimum: min, maximum: max, description });
const Bool = (def: boolean, description: string) => Type.Boolean({ default: def, description });
const Str = (def: string, description: string) => Type.String({ default: def, description });
const OptStr = (description: string) => Type.Optional(Type.String({ minLength: 1, description }));

export const SettingsSchema = Type.Object({
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
  WEBAUTHN_RP_ID: OptStr('passkeys: the WebAuthn relying-party ID, a domain (default: the host of PUBLIC_URL); docs/passkeys.md'),
  WEBAUTHN_ORIGINS: OptStr('passkeys: comma list of origins a passkey may be used from (default: the origins of PUBLIC_URL and ISSUER)'),
  JWT_AUDIENCE: Str('warden', 'aud of access tokens; empty for none'),
  JWT_SUBJECT: Type.Union([Type.Literal('id'), Type.Literal('username')], { default: 'id', description: 'what sub carries' }),
  JWT_ALGORITHM: Type.Union([Type.Literal('EdDSA'), Type.Literal('ES256'), Type.Literal('HS256')], {
    default: 'EdDSA',
    description: 'signing algorithm; HS256 uses SECRET_KEY',
  }),
  SECRET_KEY: OptStr('shared HS256 secret (at least 32 characters in production)'),
  ENCRYPTION_KEY: OptStr(
    'comma list of 32-byte keys (base64 or hex) encrypting signing keys and TOTP secrets at rest; the first encrypts, all decrypt; unset: derived from SECRET_KEY',
  ),
  ACCESS_TOKEN_EXPIRE_MINUTES: Int(15, 1, 1440, 'access token lifetime'),
  REFRESH_TOKEN_EXPIRE_DAYS: Int(30, 1, 365, 'refresh token lifetime'),
  REFRESH_REUSE_GRACE_SECONDS: Int(5, 0, 60, 'a just-rotated refresh token may be retried this long; 0 = none'),
  KEY_ROTATION_DAYS: Int(0, 0, 3650, 'rotate the signing key automatically after this many days; 0 = only on demand'),
  TOKEN_CACHE_SIZE: Int(10000, 0, 1000000, 'verified access tokens remembered until they expire'),
  USER_CACHE_SECONDS: Int(5, 0, 300, 'how long a user looked up for a bearer token is trusted; disables and logouts clear it at once'),
  REGISTRATION: Type.Union([Type.Literal('open'), Type.Literal('closed')], { default: 'open', description: 'POST /users open to the public' }),
  PASSWORD_GRANT: Type.Union([Type.Literal('enabled'), Type.Literal('disabled')], { default: 'enabled', description: 'first-party password grant' }),
  PASSWORD_MIN_LENGTH: Int(12, 8, 128, 'minimum password length (NIST 800-63B)'),
  PASSWORD_POLICY: Type.Union([Type.Literal('nist'), Type.Literal('classic')], {
    default: 'nist',
    description: 'classic also requires a digit and an uppercase letter',
  }),
  BREACHED_PASSWORDS_FILE: OptStr('sorted file of SHA-1 hashes of breached passwords (HASH:COUNT a line, Pwned Passwords single-file form): a password found there is refused (docs/passkeys.md)'),
  HASH_CONCURRENCY: Int(0, 0, 64, 'password hashes at once; 0 = every core where hashing threads run at low priority (Linux), else cores - 1'),
  HASH_QUEUE: Int(64, 0, 10000, 'password hashes waiting; beyond it logins get 503 + Retry-After'),
  ARGON2_MEMORY_KIB: Int(19456, 8192, 1048576, 'argon2id memory cost'),
  ARGON2_ITERATIONS: Int(2, 1, 10, 'argon2id time cost'),
  CORS_ORIGINS: Str('', 'comma list of allowed origins; none by default'),
  CORS_CREDENTIALS: Bool(false, 'allow credentials for listed origins'),
  TRUSTED_PROXIES: Str('', 'comma list of proxy addresses/CIDRs whose X-Forwarded-* is believed'),
  ADMIN_ALLOWED_NETWORKS: Str('', 'comma list of CIDRs allowed to reach admin routes; empty = anywhere'),
  METRICS_ALLOWED_NETWORKS: Str('127.0.0.0/8,::1/128', 'comma list of CIDRs allowed to read /metrics'),
  RATE_LIMIT_ENABLED: Bool(true, 'turn every rate limit on or off'),
  RATE_LIMIT_GLOBAL: Int(600, 1, 1000000, 'requests per window per IP, every route'),
  RATE_LIMIT_TOKEN: Int(30, 1, 1000000, 'POST /token per window per IP'),
  RATE_LIMIT_REGISTER: Int(10, 1, 1000000, 'POST /users per window per IP'),
  RATE_LIMIT_ACCOUNT: Int(10, 1, 1000000, 'password and e-mail endpoints per window per IP'),
  RATE_LIMIT_WINDOW_SECONDS: Int(60, 1, 86400, 'rate limit window'),
  LOCKOUT_THRESHOLD: Int(10, 1, 1000, 'failed logins for one account before it locks'),
  LOCKOUT_MINUTES: Int(15, 1, 1440, 'first lock window; doubles at each further lock'),
  BODY_LIMIT: Int(65536, 1024, 10485760, 'largest request body in bytes'),
  REQUEST_TIMEOUT_MS: Int(30000, 1000, 600000, 'a request must arrive whole within this'),
  KEEP_ALIVE_TIMEOUT_MS: Int(5000, 100, 600000, 'idle keep-alive connections close after this'),
  SHUTDOWN_TIMEOUT_MS: Int(10000, 100, 600000, 'in-flight requests get this long after SIGTERM'),
  SMTP_URL: OptStr('smtp(s)://user:pass@host:port; without it mails go to DATA_DIR/outbox'),
  MAIL_FROM: Str('Warden <no-reply@localhost>', 'From: of mails'),
  EMAIL_VERIFY_TOKEN_HOURS: Int(24, 1, 720, 'e-mail verification link lifetime'),
  PASSWORD_RESET_TOKEN_MINUTES: Int(30, 1, 1440, 'password reset link lifetime'),
  REQUIRE_VERIFIED_EMAIL: Bool(false, 'refuse login until the e-mail is verified'),
  REQUIRE_ADMIN_MFA: Bool(false, 'admins must have TOTP enrolled to log in'),
  NEW_DEVICE_MAIL: Bool(true, 'mail the user when they sign in from a device not seen before, with a link that ends that session (docs/sessions.md)'),
  TLS_CERT_FILE: OptStr('PEM certificate: serve HTTPS'),
  TLS_KEY_FILE: OptStr('PEM private key for TLS_CERT_FILE'),
  HTTP_REDIRECT_PORT: Int(0, 0, 65535, 'with TLS, a plain port that only redirects to HTTPS; 0 = none'),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info', description: 'pino log level' },
  ),
  LOG_FLUSH_MS: Int(100, 0, 10000, 'info and debug lines are written in batches at most this far apart (warn and above at once); 0 = every line at once'),
  V8_STARTUP_TUNING: Type.Union([Type.Literal('enabled'), Type.Literal('disabled')], {
    default: 'enabled',
    description: '`warden serve` keeps the young generation small until ready and one nextTick object alive (idle memory, per-request speed; docs/decisions/0003-v8-startup-tuning.md)',
  }),
  AUDIT_RETENTION_DAYS: Int(90, 1, 3650, 'audit events older than this are pruned'),
  ALERT_WEBHOOK_URL: OptStr('flagged security events are POSTed here as JSON'),
  ALERT_WEBHOOK_QUEUE: Int(1000, 1, 100000, 'flagged events waiting for the webhook; beyond it new ones are dropped with a warning'),
  ALERT_WEBHOOK_ATTEMPTS: Int(5, 1, 20, 'deliveries tried per alert (exponential backoff between them)'),
  MONITOR_WINDOW_SECONDS: Int(300, 10, 86400, 'sliding window of the failed-login burst rules'),
  MONITOR_STUFFING_ACCOUNTS: Int(10, 2, 100000, 'distinct accounts failing from one IP within the window: credential stuffing'),
  MONITOR_DISTRIBUTED_IPS: Int(10, 2, 100000, 'distinct IPs failing on one account within the window: distributed attack'),
  BOOTSTRAP_ADMIN_USERNAME: OptStr('with _EMAIL and _PASSWORD: the first admin, created at start only while no admin exists'),
  BOOTSTRAP_ADMIN_EMAIL: OptStr('e-mail address of BOOTSTRAP_ADMIN_USERNAME'),
  BOOTSTRAP_ADMIN_PASSWORD: OptStr('password of BOOTSTRAP_ADMIN_USERNAME (never logged); remove it once the admin exists'),
  CONSOLE_SESSION_MINUTES: Int(480, 5, 10080, 'admin console session lifetime'),
  DOCS: Type.Union([Type.Literal('enabled'), Type.Literal('disabled')], { default: 'enabled', description: '/docs and /openapi.json' }),
  EXAMPLES: Type.Union([Type.Literal('enabled'), Type.Literal('disabled')], {
    default: 'enabled',
    description: "the seeds' demo routes /secure-data, /admin-only and /items with their scopes items:read and items:write",
  }),
});

export type Settings = Static<typeof SettingsSchema>;
