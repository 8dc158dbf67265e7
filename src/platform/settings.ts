import { Type, type Static } from 'typebox';
import { Bool, Int, Str } from '../kernel/config/settings.js';

/** The HTTP platform's settings: CORS, proxies and networks, rate limits, body size, timeouts, logs, API docs. */
export const PlatformSettings = Type.Object({
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
  BODY_LIMIT: Int(65536, 1024, 10485760, 'largest request body in bytes'),
  REQUEST_TIMEOUT_MS: Int(30000, 1000, 600000, 'a request must arrive whole within this'),
  KEEP_ALIVE_TIMEOUT_MS: Int(5000, 100, 600000, 'idle keep-alive connections close after this'),
  SHUTDOWN_TIMEOUT_MS: Int(10000, 100, 600000, 'in-flight requests get this long after SIGTERM'),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info', description: 'pino log level' },
  ),
  LOG_FLUSH_MS: Int(100, 0, 10000, 'info and debug lines are written in batches at most this far apart (warn and above at once); 0 = every line at once'),
  DOCS: Type.Union([Type.Literal('enabled'), Type.Literal('disabled')], { default: 'enabled', description: '/docs and /openapi.json' }),
});

declare module '../kernel/config/settings.js' {
  interface Settings extends Static<typeof PlatformSettings> {}
}
