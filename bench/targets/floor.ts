/**
 * The floor under Warden's GET /users/me: the bare Fastify route plus only what every answer of the
 * production server carries — Warden's own security-headers hook (OWASP REST set, X-Request-Id) and its
 * request-log line (pino, batched to standard output, LOG_LEVEL=info) — answering a fixed user through
 * the same response schema. No token, no user lookup, no metrics. Listens on PORT; ready at GET /.
 *
 * It shows how much of the distance between bare Fastify and /users/me is the price of headers and an
 * access log, which no authentication work can remove.
 */
import { randomBytes } from 'node:crypto';
import Fastify, { LogController } from 'fastify';
import { parseConfig } from '../../src/app/config.js';
import { installRequestLogging, loggerOptions, requestIdGenerator } from '../../src/platform/logging.js';
import { securityHeadersPlugin } from '../../src/platform/security-headers.js';
import { UserOut } from '../../src/features/users/schemas.js';

const config = parseConfig({ NODE_ENV: 'production', LOG_LEVEL: 'info', ISSUER: 'https://bench.invalid', ENCRYPTION_KEY: randomBytes(32).toString('base64') });
const app = Fastify({
  logger: loggerOptions(config),
  requestIdHeader: false,
  genReqId: requestIdGenerator(config),
  logController: new LogController({ disableRequestLogging: true }),
});
installRequestLogging(app);
await app.register(securityHeadersPlugin);
const user = {
  id: '0193b2a4-6f1e-7c3d-9a2b-4c5d6e7f8091',
  username: 'bench',
  email: 'bench@example.com',
  full_name: null,
  roles: ['user'],
  disabled: false,
  email_verified: false,
  created_at: new Date().toISOString(),
};
app.get('/', { schema: { response: { 200: UserOut } } }, async (_request, reply) => {
  reply.header('cache-control', 'no-store');
  return user;
});
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
