import fp from 'fastify-plugin';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { Networks } from './networks.js';

/**
 * Prometheus metrics of one Warden instance. Each instance owns its Registry (never prom-client's
 * global one), so several apps in one process — tests, the CLI — do not collide or double count.
 * Other capabilities count through the typed fields (`warden.metrics.tokensIssued.inc({ grant })`).
 */
export class Metrics {
  readonly registry = new Registry();
  /** Per (method, route pattern, status): a bounded label set (routes are fixed, 404s are "unmatched"). */
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpRequestDuration: Histogram<'method' | 'route' | 'status'>;
  readonly logins: Counter<'result' | 'reason'>;
  readonly tokensIssued: Counter<'grant'>;
  readonly rateLimited: Counter<'group'>;
  readonly accountsLocked: Counter;
  readonly lockedOut: Counter;
  /** Background jobs (src/platform/jobs.ts): runs by outcome (ok, failed, skipped) and how long they took. */
  readonly jobRuns: Counter<'job' | 'outcome'>;
  readonly jobDuration: Histogram<'job'>;

  /** `hasher`: the password hashing threads, whose running and queued hashes are gauges. */
  constructor(hasher: { readonly load: { readonly running: number; readonly waiting: number } }, opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.httpRequests = new Counter({
      name: 'warden_http_requests_total',
      help: 'HTTP requests by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.httpRequestDuration = new Histogram({
      name: 'warden_http_request_duration_seconds',
      help: 'HTTP request latency by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.logins = new Counter({
      name: 'warden_logins_total',
      help: 'password checks by result (ok, failed) and failure reason',
      labelNames: ['result', 'reason'],
      registers,
    });
    this.tokensIssued = new Counter({
      name: 'warden_tokens_issued_total',
      help: 'successful token endpoint answers by grant type',
      labelNames: ['grant'],
      registers,
    });
    this.rateLimited = new Counter({
      name: 'warden_rate_limited_total',
      help: 'requests refused with 429 by limit group (global, token, register, account)',
      labelNames: ['group'],
      registers,
    });
    this.accountsLocked = new Counter({ name: 'warden_accounts_locked_total', help: 'account lockouts started', registers });
    this.lockedOut = new Counter({ name: 'warden_login_locked_out_total', help: 'login attempts refused because the account was locked or throttled', registers });
    this.jobRuns = new Counter({
      name: 'warden_job_runs_total',
      help: 'background job runs by job and outcome (ok, failed, skipped: running already or held by another instance)',
      labelNames: ['job', 'outcome'],
      registers,
    });
    this.jobDuration = new Histogram({
      name: 'warden_job_duration_seconds',
      help: 'background job run time by job (runs that were skipped are not timed)',
      labelNames: ['job'],
      buckets: [0.01, 0.05, 0.25, 1, 5, 30, 120],
      registers,
    });
    new Gauge({
      name: 'warden_password_hash_running',
      help: 'password hashes running now',
      registers,
      collect() {
        this.set(hasher.load.running);
      },
    });
    new Gauge({
      name: 'warden_password_hash_waiting',
      help: 'password hashes queued (beyond HASH_QUEUE logins get 503)',
      registers,
      collect() {
        this.set(hasher.load.waiting);
      },
    });
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** One answered request: counted, and its latency observed. */
  recordRequest(method: string, route: string, status: number, seconds: number) {
    const labels = { method, route, status: String(status) };
    this.httpRequests.inc(labels);
    this.httpRequestDuration.observe(labels, seconds);
  }
}

/**
 * Request counts and latency for every response (404s under route "unmatched", so scanners cannot
 * blow up the label set), tokens issued by grant, and GET /metrics for METRICS_ALLOWED_NETWORKS only.
 */
async function metricsPlugin(app: FastifyInstance) {
  const metrics = app.warden.metrics;
  const allowed = new Networks(app.warden.config.metricsAllowedNetworks);

  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.recordRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    if (route === '/token' && request.method === 'POST' && reply.statusCode === 200) {
      const body = (request.body ?? {}) as Record<string, unknown>;
      // The token endpoint treats a missing grant_type with a username as password (FastAPI's form).
      const grant = typeof body.grant_type === 'string' && body.grant_type ? body.grant_type : 'password';
      metrics.tokensIssued.inc({ grant: grant.slice(0, 64) });
    }
    done();
  });

  // Hidden from the OpenAPI document (the cast: @fastify/swagger adds `hide` to FastifySchema).
  const access = { kind: 'public', reason: 'METRICS_ALLOWED_NETWORKS, checked in the handler' } as const;
  app.get('/metrics', { config: { access }, schema: { hide: true } as FastifySchema }, async (request, reply) => {
    // request.ip is the client behind a trusted proxy, so a public proxy in front does not open this up.
    // Elsewhere the route does not exist, as far as the caller can tell.
    if (!allowed.has(request.ip)) return reply.callNotFound();
    reply.header('cache-control', 'no-store').type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}

export const metricsRoutes = fp(metricsPlugin, { name: 'warden-metrics', fastify: '5.x', decorators: { fastify: ['warden'] }, dependencies: ['warden-route-access'] });

declare module '../kernel/warden.js' {
  interface Warden {
    /** Prometheus counters of this instance (GET /metrics); capabilities count through it. */
    readonly metrics: Metrics;
  }
}
