import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { auditUnavailable, forbidden } from '../../kernel/errors.js';
import { Networks } from '../../platform/networks.js';
import type { Warden } from '../../kernel/warden.js';
import { alertPayload, WebhookAlertSink, type AlertLogger } from './alerts.js';
import type { AuditEvent, RequestContext } from './audit-log.js';
import { requestContext } from './request-context.js';

type Recorded = AuditEvent & { at: Date; ctx: RequestContext };

const short = (s: string) => createHash('sha256').update(s).digest('base64url').slice(0, 22);

/**
 * Security monitoring rules that watch the audit stream:
 * - every flagged event is logged at warn and sent to ALERT_WEBHOOK_URL;
 * - failed logins for many accounts from one IP (credential stuffing) and from many IPs on one
 *   account (a distributed attack that per-IP rate limits miss) are flagged.
 * Counters live in warden.state, so with Redis every instance sees the same bursts.
 */
export class Monitor {
  readonly sink: WebhookAlertSink | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private detach: (() => void) | undefined;

  constructor(
    private readonly w: Warden,
    private readonly log: AlertLogger,
  ) {
    const c = w.config;
    this.sink = c.ALERT_WEBHOOK_URL
      ? new WebhookAlertSink({
          url: c.ALERT_WEBHOOK_URL,
          queueLimit: c.ALERT_WEBHOOK_QUEUE,
          attempts: c.ALERT_WEBHOOK_ATTEMPTS,
          backoffMs: 1000,
          timeoutMs: 5000,
          log,
        })
      : undefined;
  }

  start() {
    this.detach ??= this.w.audit.onEvent((e) => this.observe(e));
  }

  stop() {
    this.detach?.();
    this.detach = undefined;
    this.sink?.close();
  }

  /** Resolves once the rules triggered so far have run (tests; never awaited on a request). */
  async settled(): Promise<void> {
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
  }

  private observe(e: Recorded) {
    if (e.flagged) {
      this.log.warn(
        { audit: { type: e.type, actor_id: e.actorId ?? e.ctx.actorId ?? null, subject_id: e.subjectId ?? null, ip: e.ctx.ip, details: e.details } },
        `security alert: ${e.type}`,
      );
      this.sink?.send(alertPayload(this.w.config.issuer, e));
    }
    if (e.type === 'login.failed') this.track(this.failedLogin(e));
  }

  private track(p: Promise<void>) {
    const guarded = p.catch((err: unknown) => this.log.warn({ err }, 'monitoring rule failed'));
    this.inFlight.add(guarded);
    void guarded.finally(() => this.inFlight.delete(guarded));
  }

  private async failedLogin(e: Recorded) {
    const ip = e.ctx.ip;
    const given = e.details?.login ?? e.details?.login_sha256;
    const login = typeof given === 'string' ? given.toLowerCase() : undefined;
    const account = e.subjectId ?? (login !== undefined ? `login:${login}` : undefined);
    if (!ip || !account) return;
    const c = this.w.config;
    const windowMs = c.MONITOR_WINDOW_SECONDS * 1000;

    const accounts = await this.distinctInWindow(`ip:${short(ip)}`, short(account), windowMs);
    if (accounts >= c.MONITOR_STUFFING_ACCOUNTS && (await this.firstAlert(`stuffing:${short(ip)}`, windowMs))) {
      await this.w.audit.record(
        this.w.db,
        {
          type: 'monitor.credential_stuffing',
          flagged: true,
          subjectId: null,
          details: { ip, distinct_accounts: accounts, window_seconds: c.MONITOR_WINDOW_SECONDS, threshold: c.MONITOR_STUFFING_ACCOUNTS },
        },
        e.ctx,
      );
    }

    const ips = await this.distinctInWindow(`acct:${short(account)}`, short(ip), windowMs);
    if (ips >= c.MONITOR_DISTRIBUTED_IPS && (await this.firstAlert(`distributed:${short(account)}`, windowMs))) {
      await this.w.audit.record(
        this.w.db,
        {
          type: 'monitor.distributed_attack',
          flagged: true,
          subjectId: e.subjectId ?? null,
          details: {
            ...(e.subjectId ? {} : { login }),
            distinct_ips: ips,
            window_seconds: c.MONITOR_WINDOW_SECONDS,
            threshold: c.MONITOR_DISTRIBUTED_IPS,
          },
        },
        e.ctx,
      );
    }
  }

  /**
   * Distinct members of a set within a sliding window, approximated with two fixed buckets (the
   * current one, and the previous one weighted by how much of it still overlaps the window). A member
   * already seen in the previous bucket is not counted again, so one account retried across a bucket
   * boundary stays one.
   */
  private async distinctInWindow(scope: string, member: string, windowMs: number): Promise<number> {
    const { state, clock } = this.w;
    const now = clock.now();
    const bucket = Math.floor(now / windowMs);
    const overlap = 1 - (now % windowMs) / windowMs;
    const cur = `mon:${scope}:${bucket}`;
    const prev = `mon:${scope}:${bucket - 1}`;
    const ttl = windowMs * 2;
    let count: number;
    const isNew = await state.setIfAbsent(`${cur}:m:${member}`, '1', ttl);
    if (isNew && (await state.get(`${prev}:m:${member}`)) === null) count = (await state.increment(`${cur}:n`, ttl)).value;
    else count = (await state.increment(`${cur}:n`, ttl, 0)).value;
    const previous = Number((await state.get(`${prev}:n`)) ?? 0);
    return Math.floor(count + previous * overlap);
  }

  /** One alert per rule and key per window, not one per further failed login. */
  private firstAlert(key: string, windowMs: number) {
    return this.w.state.setIfAbsent(`mon:alerted:${key}`, '1', windowMs);
  }
}

/**
 * Admin routes (route config `admin: true`) from outside ADMIN_ALLOWED_NETWORKS are refused before
 * anything else runs — even before the bearer token is looked at — and audited as flagged.
 * Empty ADMIN_ALLOWED_NETWORKS: admin routes are reachable from anywhere (guards still apply).
 */
export function installAdminNetworkGuard(app: FastifyInstance) {
  const allowed = new Networks(app.warden.config.adminAllowedNetworks);
  if (allowed.empty) return;
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config?.admin !== true) return;
    if (allowed.has(request.ip)) return;
    const w = request.server.warden;
    await w.audit.record(
      w.db,
      {
        type: 'admin.access_refused',
        flagged: true,
        details: { method: request.method, path: request.url.split('?')[0]!.slice(0, 200), reason: 'network_not_allowed' },
      },
      requestContext(request),
    );
    throw forbidden('network_not_allowed', 'admin access is not allowed from this network');
  });
}

/**
 * Routes with config `sensitive: true` (e.g. GET /secure-data): each authenticated access is audited
 * before the answer leaves (onSend), so a client that has the data means the access is on record. If
 * the event cannot be written, a successful answer is withheld: 503, and the data is not sent.
 */
export function installSensitiveAccessAudit(app: FastifyInstance) {
  // Once per request: an answer replaced by the 503 below goes through onSend again.
  const attempted = new WeakSet<FastifyRequest>();
  // A route-level hook on the sensitive routes only (attached as each is declared, after this plugin),
  // so every other request does not pay a global hook and a route-config lookup.
  const audit = async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    if (!request.auth || attempted.has(request)) return payload;
    attempted.add(request);
    const w = request.server.warden;
    try {
      await w.audit.record(
        w.db,
        {
          type: 'sensitive.accessed',
          subjectId: request.auth.user?.id ?? null,
          details: { method: request.method, route: request.routeOptions.url ?? null, status: reply.statusCode },
        },
        requestContext(request),
      );
    } catch (err) {
      request.log.error({ err }, 'could not audit a sensitive access');
      if (reply.statusCode < 400) throw auditUnavailable();
    }
    return payload;
  };
  app.addHook('onRoute', (route) => {
    if (route.config?.sensitive !== true) return;
    const existing = route.onSend;
    route.onSend = existing === undefined ? [audit] : [...(Array.isArray(existing) ? existing : [existing]), audit];
  });
}
