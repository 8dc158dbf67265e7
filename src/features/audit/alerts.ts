import type { AuditEvent, RequestContext } from './audit-log.js';

/** What ALERT_WEBHOOK_URL receives: one flagged event per POST, as JSON. */
export interface AlertPayload {
  source: 'warden';
  issuer: string;
  type: string;
  at: string;
  flagged: true;
  actor_id: string | null;
  subject_id: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
}

export function alertPayload(issuer: string, event: AuditEvent & { at: Date; ctx: RequestContext }): AlertPayload {
  return {
    source: 'warden',
    issuer,
    type: event.type,
    at: event.at.toISOString(),
    flagged: true,
    actor_id: event.actorId ?? event.ctx.actorId ?? null,
    subject_id: event.subjectId ?? null,
    ip: event.ctx.ip ?? null,
    user_agent: event.ctx.userAgent ?? null,
    request_id: event.ctx.requestId ?? null,
    details: event.details ?? {},
  };
}

export interface AlertLogger {
  warn(obj: object, msg: string): void;
}

export interface WebhookOptions {
  url: string;
  /** Alerts waiting; beyond it new ones are dropped (with a warning) instead of growing memory. */
  queueLimit: number;
  /** Attempts per alert, the first included. */
  attempts: number;
  /** First retry after this; doubles each time (with jitter). */
  backoffMs: number;
  timeoutMs: number;
  log: AlertLogger;
}

/**
 * Delivers alerts to a webhook from a bounded in-memory queue, one at a time, off the request path:
 * `send` only enqueues. Failed deliveries (network error, timeout, 5xx, 408, 429) are retried with
 * exponential backoff; other 4xx are the receiver refusing the payload and are not retried.
 */
export class WebhookAlertSink {
  private readonly queue: AlertPayload[] = [];
  private running = false;
  private closed = false;
  private idle: Array<() => void> = [];
  private readonly pending = new Set<NodeJS.Timeout>();
  delivered = 0;
  dropped = 0;
  failed = 0;

  constructor(private readonly opts: WebhookOptions) {}

  send(payload: AlertPayload) {
    if (this.closed) return;
    if (this.queue.length >= this.opts.queueLimit) {
      this.dropped++;
      this.opts.log.warn({ alert: payload.type, queue_limit: this.opts.queueLimit }, 'alert webhook queue full: alert dropped');
      return;
    }
    this.queue.push(payload);
    if (!this.running) void this.run();
  }

  /** Resolves when every queued alert has been delivered or given up on (tests, shutdown). */
  drained(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  close() {
    this.closed = true;
    this.queue.length = 0;
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
    for (const r of this.idle.splice(0)) r();
  }

  private async run() {
    this.running = true;
    try {
      while (this.queue.length && !this.closed) {
        const payload = this.queue.shift()!;
        await this.deliver(payload);
      }
    } finally {
      this.running = false;
      for (const r of this.idle.splice(0)) r();
    }
  }

  private sleep(ms: number) {
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.pending.delete(t);
        resolve();
      }, ms);
      // A pending retry must not keep the process alive at shutdown.
      t.unref();
      this.pending.add(t);
    });
  }

  private async deliver(payload: AlertPayload) {
    const body = JSON.stringify(payload);
    for (let attempt = 1; attempt <= this.opts.attempts && !this.closed; attempt++) {
      let status: number | undefined;
      let error: string | undefined;
      try {
        const res = await fetch(this.opts.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'warden-alerts' },
          body,
          redirect: 'error',
          signal: AbortSignal.timeout(this.opts.timeoutMs),
        });
        status = res.status;
        await res.body?.cancel().catch(() => {});
        if (res.ok) {
          this.delivered++;
          return;
        }
      } catch (e) {
        error = (e as Error).name === 'TimeoutError' ? 'timeout' : ((e as Error).message ?? 'network error');
      }
      const retryable = status === undefined || status >= 500 || status === 408 || status === 429;
      if (!retryable || attempt === this.opts.attempts) {
        this.failed++;
        this.opts.log.warn({ alert: payload.type, status, error, attempts: attempt }, 'alert webhook delivery failed');
        return;
      }
      const delay = this.opts.backoffMs * 2 ** (attempt - 1);
      await this.sleep(delay / 2 + Math.random() * (delay / 2));
    }
  }
}
