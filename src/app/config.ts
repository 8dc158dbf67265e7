import { accessSync, constants, existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { Static } from 'typebox';
import { Value } from 'typebox/value';
import { ConfigError, processEnvironment, type Config, type ConfigProblem } from '../kernel/config/load.js';
import type { Settings } from '../kernel/config/settings.js';
import { SettingsSchema } from './settings.js';

/** Linux lets a thread lower its own CPU priority (hash-threads.ts finds its id in /proc/thread-self). */
const LOW_PRIORITY_THREADS = process.platform === 'linux' && existsSync('/proc/thread-self');

/** What a setting accepts, from its schema: "must be one of a, b, c", "must be a whole number from 1 to 60". */
function accepted(schema: Record<string, unknown>): string {
  if (Array.isArray(schema.anyOf)) return `must be one of ${(schema.anyOf as Array<{ const: unknown }>).map((x) => String(x.const)).join(', ')}`;
  if (schema.type === 'integer') return `must be a whole number from ${String(schema.minimum)} to ${String(schema.maximum)}`;
  if (schema.type === 'boolean') return 'must be true or false';
  return 'must not be empty';
}

/** The address the server prints: HOST:PORT, with a wildcard HOST shown as localhost (what a local client dials). */
export function serverUrl(s: Pick<Settings, 'HOST'>, port: number, tls: boolean): string {
  const host = s.HOST === '0.0.0.0' || s.HOST === '::' || s.HOST === '' ? 'localhost' : s.HOST.includes(':') ? `[${s.HOST}]` : s.HOST;
  return `${tls ? 'https' : 'http'}://${host}:${port}`;
}

const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

const KNOWN_WEAK_SECRETS = new Set(['your-secret-key', 'secret', 'changeme', 'change-me', 'your_secret_key', 'supersecret']);

/**
 * Build a Config from an environment-like record: every section of SettingsSchema read at once, then the
 * rules across settings and sections, so one ConfigError lists every bad variable (the first is `variable`).
 * Unset and empty values fall back to defaults (except JWT_AUDIENCE, where empty means "no aud").
 */
export function parseConfig(env: Record<string, string | undefined>, cores = 2): Config {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(SettingsSchema.properties)) {
    const value = env[key];
    if (value === undefined) continue;
    if (value === '' && key !== 'JWT_AUDIENCE' && key !== 'CORS_ORIGINS' && key !== 'TRUSTED_PROXIES' && key !== 'ADMIN_ALLOWED_NETWORKS') continue;
    raw[key] = value;
  }
  const converted = Value.Convert(SettingsSchema, Value.Default(SettingsSchema, raw)) as Record<string, unknown>;
  const problems: ConfigProblem[] = [];
  const problem = (variable: string, reason: string) => void problems.push({ variable, reason });
  const badVariables = new Set<string>();
  for (const error of Value.Errors(SettingsSchema, converted)) {
    const variable = error.instancePath.replace(/^\//, '').split('/')[0] || 'settings';
    if (badVariables.has(variable)) continue;
    badVariables.add(variable);
    const schema = (SettingsSchema.properties as unknown as Record<string, Record<string, unknown>>)[variable];
    const shown = variable in raw ? ` (got ${JSON.stringify(String(raw[variable])).slice(0, 60)})` : '';
    problem(variable, `${schema ? accepted(schema) : error.message}${shown}`);
    // Carry on with the default, so that the checks below still report everything else.
    if (schema && 'default' in schema) converted[variable] = schema.default;
    else delete converted[variable];
  }
  const s = converted as Static<typeof SettingsSchema>;

  if (s.BREACHED_PASSWORDS_FILE) {
    try {
      accessSync(s.BREACHED_PASSWORDS_FILE, constants.R_OK);
    } catch {
      problem('BREACHED_PASSWORDS_FILE', 'is not a readable file');
    }
  }
  const tls = Boolean(s.TLS_CERT_FILE && s.TLS_KEY_FILE);
  if (Boolean(s.TLS_CERT_FILE) !== Boolean(s.TLS_KEY_FILE)) {
    problem(s.TLS_CERT_FILE ? 'TLS_KEY_FILE' : 'TLS_CERT_FILE', 'TLS needs both TLS_CERT_FILE and TLS_KEY_FILE');
  }
  // The address printed at start, so a verifier written with it matches the tokens' iss.
  const issuer = (s.ISSUER ?? serverUrl(s, s.PORT, tls)).replace(/\/+$/, '');
  checkUrl('ISSUER', issuer, problem);
  const publicUrl = (s.PUBLIC_URL ?? issuer).replace(/\/+$/, '');
  checkUrl('PUBLIC_URL', publicUrl, problem);
  if (s.DATABASE_URL && !/^postgres(ql)?:\/\//.test(s.DATABASE_URL)) {
    problem('DATABASE_URL', 'must start with postgres:// or postgresql://');
  }
  if (s.REDIS_URL && !/^rediss?:\/\//.test(s.REDIS_URL)) {
    problem('REDIS_URL', 'must start with redis:// or rediss://');
  }
  if (s.ALERT_WEBHOOK_URL) checkUrl('ALERT_WEBHOOK_URL', s.ALERT_WEBHOOK_URL, problem);
  if (s.SMTP_URL && !/^smtps?:\/\//.test(s.SMTP_URL)) problem('SMTP_URL', 'must start with smtp:// or smtps://');
  if (s.JWT_ALGORITHM === 'HS256') {
    if (!s.SECRET_KEY) problem('SECRET_KEY', 'JWT_ALGORITHM=HS256 needs SECRET_KEY (at least 32 random bytes: openssl rand -base64 48)');
    else if (Buffer.byteLength(s.SECRET_KEY) < 32) problem('SECRET_KEY', 'must be at least 32 bytes for HS256 (RFC 7518 §3.2)');
  }
  const encryptionKeys = list(s.ENCRYPTION_KEY ?? '').flatMap((k, i) => decodeEncryptionKey(k, i, problem) ?? []);
  const corsOrigins = list(s.CORS_ORIGINS);
  for (const origin of corsOrigins) {
    if (origin === '*') continue;
    try {
      const u = new URL(origin);
      // Exact match only: a wildcard entry would never match (browsers send real origins) and hides a mistake.
      if (u.origin !== origin || origin.includes('*')) throw new Error('not an origin');
    } catch {
      problem('CORS_ORIGINS', `${JSON.stringify(origin)} is not an origin like https://app.example.com`);
    }
  }
  if (corsOrigins.includes('*') && s.CORS_CREDENTIALS) {
    problem('CORS_ORIGINS', '"*" cannot be combined with CORS_CREDENTIALS=true (any site could act as the user)');
  }
  const trustedProxies = list(s.TRUSTED_PROXIES);
  const adminAllowedNetworks = list(s.ADMIN_ALLOWED_NETWORKS);
  const metricsAllowedNetworks = list(s.METRICS_ALLOWED_NETWORKS);
  for (const [name, nets] of [
    ['TRUSTED_PROXIES', trustedProxies],
    ['ADMIN_ALLOWED_NETWORKS', adminAllowedNetworks],
    ['METRICS_ALLOWED_NETWORKS', metricsAllowedNetworks],
  ] as const) {
    for (const n of nets) if (!isCidrOrAddress(n)) problem(name, `${JSON.stringify(n)} is not an IP address or CIDR`);
  }

  if (s.NODE_ENV === 'production') {
    if (s.SECRET_KEY && (KNOWN_WEAK_SECRETS.has(s.SECRET_KEY.toLowerCase()) || Buffer.byteLength(s.SECRET_KEY) < 32)) {
      problem('SECRET_KEY', 'is short or a well-known default; use at least 32 random bytes (openssl rand -base64 48)');
    }
    if (issuer.startsWith('http://') && !tls && trustedProxies.length === 0) {
      problem(
        'ISSUER',
        'is http:// without TLS_CERT_FILE or TRUSTED_PROXIES: tokens would travel in clear text; set ISSUER=https://… and either TLS_CERT_FILE/TLS_KEY_FILE or TRUSTED_PROXIES=<the proxy address>',
      );
    }
    if (corsOrigins.includes('*')) {
      problem('CORS_ORIGINS', '"*" is refused in production; list the origins (CORS_ORIGINS=https://app.example.com,…)');
    }
    if (!encryptionKeys.length && !s.SECRET_KEY) {
      problem('ENCRYPTION_KEY', 'is needed in production (or SECRET_KEY) to encrypt signing keys and TOTP secrets at rest; generate one with openssl rand -base64 32');
    }
  }
  const bootstrap = [s.BOOTSTRAP_ADMIN_USERNAME, s.BOOTSTRAP_ADMIN_EMAIL, s.BOOTSTRAP_ADMIN_PASSWORD];
  if (bootstrap.some(Boolean) && !bootstrap.every(Boolean)) {
    problem('BOOTSTRAP_ADMIN_USERNAME', 'BOOTSTRAP_ADMIN_USERNAME, BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD go together: set all three or none');
  }
  if (problems.length) throw new ConfigError(problems);

  const config: Config = {
    ...s,
    issuer,
    publicUrl,
    dataDir: resolve(s.DATA_DIR),
    corsOrigins,
    trustedProxies,
    adminAllowedNetworks,
    metricsAllowedNetworks,
    audience: s.JWT_AUDIENCE === '' ? undefined : s.JWT_AUDIENCE,
    accessTokenTtlSeconds: s.ACCESS_TOKEN_EXPIRE_MINUTES * 60,
    refreshTokenTtlSeconds: s.REFRESH_TOKEN_EXPIRE_DAYS * 86400,
    // Niced hashing threads (src/features/users/hash-threads.ts) yield to the event loop, so all cores may hash.
    hashConcurrency: s.HASH_CONCURRENCY > 0 ? s.HASH_CONCURRENCY : LOW_PRIORITY_THREADS ? cores : Math.max(1, cores - 1),
    tls,
    encryptionKeys,
  };
  return Object.freeze(config);
}

/** One keyring entry: 32 bytes as 64 hex digits or base64 (standard or URL-safe), never shown in the error. */
function decodeEncryptionKey(text: string, index: number, problem: (variable: string, reason: string) => void): Buffer | undefined {
  const bytes = /^[0-9a-fA-F]{64}$/.test(text)
    ? Buffer.from(text, 'hex')
    : /^[A-Za-z0-9+/_-]{43}=?$/.test(text)
      ? Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64')
      : undefined;
  if (!bytes || bytes.length !== 32) {
    problem('ENCRYPTION_KEY', `key ${index + 1} is not 32 bytes in base64 or hex (generate one with openssl rand -base64 32)`);
    return undefined;
  }
  return bytes;
}

function checkUrl(variable: string, value: string, problem: (variable: string, reason: string) => void) {
  try {
    const u = new URL(value);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
  } catch {
    problem(variable, `${JSON.stringify(value)} is not an http(s) URL like https://auth.example.com`);
  }
}

function isCidrOrAddress(s: string) {
  const [addr, bits, extra] = s.split('/');
  if (extra !== undefined || !addr) return false;
  const v4 = /^(\d{1,3})(\.\d{1,3}){3}$/.test(addr) && addr.split('.').every((o) => Number(o) <= 255);
  const v6 = !v4 && addr.includes(':') && /^[0-9a-fA-F:.]+$/.test(addr);
  if (!v4 && !v6) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return Number.isInteger(n) && n >= 0 && n <= (v4 ? 32 : 128);
}

/** Read the process environment (and ./.env when present, without overriding the real environment). */
export function loadConfig(env: Record<string, string | undefined> = processEnvironment()): Config {
  return parseConfig(env, availableParallelism());
}
