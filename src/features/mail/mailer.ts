/**
 * Outgoing mail. Callers enqueue and return at once: an HTTP answer never waits for SMTP, and a
 * failed send is retried with backoff and logged, never reported to the person who asked (a failure
 * must not tell an attacker whether an account exists). The queue lives in this process; `flush()`
 * drains it (tests, shutdown).
 */

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** What the mail is for (logged; never its content). */
  kind: string;
}

/** Delivers one message or throws; the queue retries. */
export interface MailTransport {
  readonly name: string;
  deliver(from: string, message: MailMessage): Promise<{ messageId?: string | undefined; where?: string | undefined }>;
  close(): Promise<void>;
}

/** The subset of pino used here; the app hands over its logger, the CLI gets JSON lines on stderr. */
export interface MailLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface Mailer {
  /** Queue a message; never throws, never waits for delivery. */
  send(message: MailMessage): void;
  /** Resolves when every queued message was delivered or given up (including retries). */
  flush(): Promise<void>;
  close(): Promise<void>;
  readonly log: MailLog;
}

const stderrLog: MailLog = {
  info: (o, m) => process.stderr.write(`${JSON.stringify({ level: 'info', msg: m, ...o })}\n`),
  warn: (o, m) => process.stderr.write(`${JSON.stringify({ level: 'warn', msg: m, ...o })}\n`),
  error: (o, m) => process.stderr.write(`${JSON.stringify({ level: 'error', msg: m, ...o })}\n`),
};

export interface QueueOptions {
  from: string;
  /** Attempts per message, the first included. */
  attempts?: number;
  /** Delay before the first retry; doubles each time. */
  retryDelayMs?: number;
  /** Most messages waiting; beyond it new ones are dropped and logged (a mail flood must not eat memory). */
  maxQueued?: number;
  /** How long close() waits for the queue before giving up on what is left. */
  closeTimeoutMs?: number;
}

interface Job {
  message: MailMessage;
  attempt: number;
}

/** Delivered or abandoned messages, for tests and metrics. */
export interface MailOutcome {
  message: MailMessage;
  ok: boolean;
  attempts: number;
  messageId?: string | undefined;
  where?: string | undefined;
}

export class QueuedMailer implements Mailer {
  private readonly queue: Job[] = [];
  private readonly waiting = new Set<NodeJS.Timeout>();
  private readonly retrying = new Map<NodeJS.Timeout, Job>();
  private running = 0;
  private idleWaiters: Array<() => void> = [];
  private closed = false;
  private readonly listeners: Array<(o: MailOutcome) => void> = [];
  log: MailLog = stderrLog;
  readonly attempts: number;
  readonly retryDelayMs: number;
  readonly maxQueued: number;
  readonly closeTimeoutMs: number;

  constructor(
    readonly transport: MailTransport,
    private readonly opts: QueueOptions,
  ) {
    this.attempts = opts.attempts ?? 5;
    this.retryDelayMs = opts.retryDelayMs ?? 2000;
    this.maxQueued = opts.maxQueued ?? 10000;
    this.closeTimeoutMs = opts.closeTimeoutMs ?? 10000;
  }

  useLogger(log: MailLog) {
    this.log = log;
  }

  /** Called after each message is delivered or abandoned. */
  onOutcome(listener: (o: MailOutcome) => void) {
    this.listeners.push(listener);
  }

  send(message: MailMessage): void {
    if (this.closed) {
      this.log.error({ mail: message.kind, transport: this.transport.name }, 'mail dropped: mailer is closed');
      return;
    }
    if (this.pending() >= this.maxQueued) {
      this.log.error({ mail: message.kind, queued: this.pending() }, 'mail dropped: queue full');
      return;
    }
    this.queue.push({ message, attempt: 1 });
    // Deliver on a later tick: the caller's response (or transaction) finishes first.
    setImmediate(() => this.pump());
  }

  private pending() {
    return this.queue.length + this.running + this.retrying.size;
  }

  private pump() {
    // One delivery at a time keeps SMTP connections and ordering simple; mail volume here is low.
    while (this.running < 1 && this.queue.length) {
      const job = this.queue.shift()!;
      this.running++;
      void this.deliver(job).finally(() => {
        this.running--;
        this.pump();
        this.checkIdle();
      });
    }
    this.checkIdle();
  }

  private async deliver(job: Job) {
    const { message } = job;
    try {
      const r = await this.transport.deliver(this.opts.from, message);
      this.log.info(
        { mail: message.kind, transport: this.transport.name, attempt: job.attempt, messageId: r.messageId, ...(r.where ? { file: r.where } : {}) },
        r.where ? `mail written to ${r.where}` : 'mail sent',
      );
      this.emit({ message, ok: true, attempts: job.attempt, messageId: r.messageId, where: r.where });
    } catch (e) {
      const err = e instanceof Error ? { name: e.name, message: e.message, code: (e as { code?: unknown }).code } : { message: String(e) };
      if (job.attempt >= this.attempts || this.closed) {
        this.log.error({ mail: message.kind, transport: this.transport.name, attempt: job.attempt, err }, 'mail abandoned after retries');
        this.emit({ message, ok: false, attempts: job.attempt });
        return;
      }
      const delay = this.retryDelayMs * 2 ** (job.attempt - 1);
      this.log.warn({ mail: message.kind, transport: this.transport.name, attempt: job.attempt, retryInMs: delay, err }, 'mail delivery failed; will retry');
      const next: Job = { message, attempt: job.attempt + 1 };
      const timer = setTimeout(() => {
        this.retrying.delete(timer);
        this.queue.push(next);
        this.pump();
      }, delay);
      this.retrying.set(timer, next);
    }
  }

  private emit(o: MailOutcome) {
    for (const l of this.listeners) {
      try {
        l(o);
      } catch {
        // A listener never breaks delivery.
      }
    }
  }

  private checkIdle() {
    if (this.pending() > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  flush(): Promise<void> {
    if (this.pending() === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Deliver what is queued (retries fire at once), then close the transport. What is left after the timeout is logged as lost. */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const [timer, job] of this.retrying) {
      clearTimeout(timer);
      this.queue.push(job);
    }
    this.retrying.clear();
    this.closed = true;
    this.pump();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.flush().then(() => false),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(true), this.closeTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) this.log.error({ lost: this.pending() }, 'mail queue not drained before shutdown');
    await this.transport.close().catch(() => {});
  }
}

declare module '../../kernel/warden.js' {
  interface Warden {
    /** Outgoing mail (SMTP or DATA_DIR/outbox), queued and retried off the request path. */
    readonly mailer: QueuedMailer;
  }
}
