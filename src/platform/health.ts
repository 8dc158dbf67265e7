import { Type } from 'typebox';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { needsWarden, ROUTE_PIPELINE } from './pipeline.js';

const Health = Type.Object({ status: Type.String(), checks: Type.Optional(Type.Record(Type.String(), Type.String())) });

const PUBLIC = { kind: 'public', reason: 'probes of load balancers and orchestrators' } as const;

async function health(app: FastifyInstance) {
  app.get('/healthz', { config: { access: PUBLIC }, schema: { tags: ['health'], response: { 200: Health } } }, async () => ({ status: 'ok' }));

  /** Ready: database reachable and fully migrated (503 otherwise); a lost Redis is reported as degraded. */
  app.get('/readyz', { config: { access: PUBLIC }, schema: { tags: ['health'], response: { 200: Health, 503: Health } } }, async (_request, reply) => {
    const w = app.warden;
    const db = await w.database.ready();
    const checks: Record<string, string> = { database: db.ok ? 'ok' : (db.reason ?? 'unavailable') };
    if (w.state.kind === 'redis') {
      checks.redis = w.state.healthy()
        ? 'ok'
        : `unreachable (${w.state.unhealthyReason?.() ?? 'not connected'}): logins answer 503 until it is back`;
    }
    if (!db.ok) return reply.code(503).send({ status: 'unavailable', checks });
    return { status: checks.redis && checks.redis !== 'ok' ? 'degraded' : 'ok', checks };
  });
}

export const healthRoutes = fp(health, { name: 'warden-health', fastify: '5.x', encapsulate: true, decorators: needsWarden(), dependencies: [...ROUTE_PIPELINE] });
