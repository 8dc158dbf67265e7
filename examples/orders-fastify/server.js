// The "orders" API, protected by Warden: a route per scope, an admin-only route, a per-object check, and
// the seeds' other practices in their simplest right form (security headers, CORS allowlist, rate limit,
// request id in every log line). Run: WARDEN_ISSUER=http://127.0.0.1:8420 node server.js
import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import Fastify from 'fastify';
import { wardenAuth } from '@warden/resource-server/fastify';

const env = process.env;
const READ = env.ORDERS_READ_SCOPE ?? 'orders:read';
const WRITE = env.ORDERS_WRITE_SCOPE ?? 'orders:write';
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

const app = Fastify({
  // The request id: the caller's X-Request-Id when it is sane, else a new one; pino puts it on every line.
  genReqId: (req) => {
    const given = req.headers['x-request-id'];
    return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
  },
  logger: {
    level: env.LOG_LEVEL ?? 'info',
    // The path without its query string, and no headers: no token or other secret reaches the log.
    serializers: { req: (req) => ({ method: req.method, path: req.url.split('?')[0] }) },
  },
});

await app.register(wardenAuth, {
  issuer: env.WARDEN_ISSUER,
  audience: env.ORDERS_AUDIENCE ?? 'https://orders.example',
  // RFC 7662 introspection sees a revocation at the next request, at one call to Warden per request.
  ...(env.INTROSPECTION_CLIENT_ID
    ? { introspection: { clientId: env.INTROSPECTION_CLIENT_ID, clientSecret: env.INTROSPECTION_CLIENT_SECRET, cacheSeconds: Number(env.INTROSPECTION_CACHE_SECONDS ?? 0) } }
    : {}),
});
// An allowlist; never "*" for an API that takes credentials.
await app.register(cors, {
  origin: (env.CORS_ORIGINS ?? '').split(',').filter(Boolean),
  methods: ['GET', 'POST', 'DELETE'],
  allowedHeaders: ['Authorization', 'Content-Type'],
  exposedHeaders: ['WWW-Authenticate', 'X-Request-Id', 'Retry-After'],
});
await app.register(rateLimit, { max: Number(env.RATE_LIMIT_PER_MINUTE ?? 600), timeWindow: '1 minute' });
app.addHook('onSend', async (request, reply) => {
  reply.header('x-content-type-options', 'nosniff');
  reply.header('x-frame-options', 'DENY');
  reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
  reply.header('referrer-policy', 'no-referrer');
  reply.header('cache-control', 'no-store');
  reply.header('x-request-id', request.id);
});

const orders = new Map();
let nextId = 1;
const isAdmin = (principal) => principal.roles.includes('admin');
const Order = {
  type: 'object',
  properties: { id: { type: 'integer' }, item: { type: 'string' }, quantity: { type: 'integer' }, owner: { type: 'string' } },
};

/** A clerk sees their own orders; an admin sees all. */
function visibleOrders(principal) {
  return [...orders.values()].filter((o) => isAdmin(principal) || o.owner === principal.sub);
}

app.get('/orders', { preHandler: app.requireScope(READ), schema: { response: { 200: { type: 'array', items: Order } } } }, async (request) =>
  visibleOrders(request.principal),
);

app.get('/orders/:id', { preHandler: app.requireScope(READ), schema: { response: { 200: Order } } }, async (request, reply) => {
  const order = orders.get(Number(request.params.id));
  // Someone else's order answers 404, like a missing one: its existence is not the caller's business.
  if (!order || (order.owner !== request.principal.sub && !isAdmin(request.principal))) return reply.code(404).send({ detail: 'order not found' });
  return order;
});

app.post(
  '/orders',
  {
    preHandler: app.requireScope(WRITE),
    schema: {
      body: {
        type: 'object',
        required: ['item', 'quantity'],
        additionalProperties: false,
        properties: { item: { type: 'string', minLength: 1, maxLength: 200 }, quantity: { type: 'integer', minimum: 1, maximum: 1000 } },
      },
      response: { 201: Order },
    },
  },
  async (request, reply) => {
    const order = { id: nextId++, ...request.body, owner: request.principal.sub };
    orders.set(order.id, order);
    return reply.code(201).send(order);
  },
);

app.delete('/orders/:id', { preHandler: app.requireRole('admin') }, async (request, reply) => {
  if (!orders.delete(Number(request.params.id))) return reply.code(404).send({ detail: 'order not found' });
  return reply.code(204).send();
});

app.get('/healthz', async () => ({ status: 'ok' }));

await app.listen({ port: Number(env.PORT ?? 8002), host: env.HOST ?? '127.0.0.1' });
