import { Redis, ReplyError } from 'ioredis';
import { StateUnavailableError, type StateLogger, type StateStore } from './store.js';

export interface RedisStateOptions {
  /** Prepended to every key and channel, so several deployments can share one Redis. */
  prefix?: string;
  /** A command that gets no answer within this fails (a hung Redis must not hang requests). */
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Longest pause between reconnection attempts. */
  maxReconnectDelayMs?: number;
  /** Announcements made while Redis is away are kept (up to this many) and sent when it is back. */
  /** CLIENT SETNAME of both connections (`<name>` and `<name>-sub`), so CLIENT LIST tells them apart. */
  connectionName?: string;
  outboxLimit?: number;
  log?: StateLogger;
}

/**
 * INCRBY, then give the key its TTL if it has none (new key, or one that somehow lost it): one script,
 * so concurrent callers on any instance see one consistent counter and no key can live forever
 * (a counter without a TTL is how rate-limit stores fill up: better-auth #4472).
 */
const INCREMENT = `
local v = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {v, ttl}
`;

/** A log line to stderr in pino's shape until the server hands us its logger. */
const stderrLogger: StateLogger = {
  error: (obj, msg) => process.stderr.write(`${JSON.stringify({ level: 50, time: Date.now(), ...obj, msg })}\n`),
  warn: (obj, msg) => process.stderr.write(`${JSON.stringify({ level: 40, time: Date.now(), ...obj, msg })}\n`),
  info: (obj, msg) => process.stderr.write(`${JSON.stringify({ level: 30, time: Date.now(), ...obj, msg })}\n`),
};

const ttl = (ms: number) => Math.max(1, Math.ceil(ms));

/**
 * The state store shared by every instance: counters, lockouts and single-use markers as Redis keys
 * (each with a TTL), announcements over pub/sub on a second connection (a subscribed connection can
 * run no other command).
 *
 * Redis going away must not take requests with it: commands are not queued while disconnected
 * (they fail at once) and time out when Redis hangs, so each caller decides quickly whether to fail
 * open (rate limits) or closed (lockouts). `healthy()` is false meanwhile and /readyz says degraded.
 * ioredis reconnects forever and resubscribes; announcements made during the outage are delivered
 * locally at once and to the other instances when Redis is back.
 */
export class RedisStateStore implements StateStore {
  readonly kind = 'redis' as const;
  private readonly client: Redis;
  private readonly subscriber: Redis;
  private readonly prefix: string;
  private readonly handlers = new Map<string, Set<(m: string) => void>>();
  private readonly outbox: Array<[string, string]> = [];
  private readonly reconnectHandlers: Array<() => void> = [];
  private readonly outboxLimit: number;
  private log: StateLogger;
  private downSince: number | undefined;
  private lastError: string | undefined;
  private closed = false;

  constructor(url: string, opts: RedisStateOptions = {}) {
    this.prefix = opts.prefix ?? 'warden:';
    this.outboxLimit = opts.outboxLimit ?? 10_000;
    this.log = opts.log ?? stderrLogger;
    const maxDelay = opts.maxReconnectDelayMs ?? 1000;
    const name = opts.connectionName ?? 'warden';
    const common = {
      connectTimeout: opts.connectTimeoutMs ?? 2000,
      retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 10), maxDelay),
      // Never give up reconnecting: Redis coming back must heal the instance without a restart.
      maxRetriesPerRequest: 0,
      lazyConnect: false,
    };
    this.client = new Redis(url, {
      ...common,
      connectionName: name,
      enableOfflineQueue: false,
      commandTimeout: opts.commandTimeoutMs ?? 500,
    });
    // SUBSCRIBE is not on any request's path, so it may wait in the queue for the connection.
    this.subscriber = new Redis(url, { ...common, connectionName: `${name}-sub`, enableOfflineQueue: true, autoResubscribe: true, maxRetriesPerRequest: null });
    this.subscriber.on('message', (channel: string, message: string) => this.dispatch(channel.slice(this.prefix.length), message));
    for (const conn of [this.client, this.subscriber]) {
      conn.on('ready', () => this.recovered());
      conn.on('close', () => this.lost());
      conn.on('end', () => this.lost());
      // Without a listener ioredis prints every failed reconnection; the outage is logged once instead.
      conn.on('error', (err: Error) => this.lost(err));
    }
  }

  /** Use the server's logger (one log format for everything). */
  attachLogger(log: StateLogger) {
    this.log = log;
  }

  /** Resolves when both connections are up, or after timeoutMs (the server then starts degraded). */
  async connected(timeoutMs = 3000): Promise<boolean> {
    if (this.healthy()) return true;
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.client.off('ready', check);
        this.subscriber.off('ready', check);
        resolve(ok);
      };
      const check = () => {
        if (this.healthy()) done(true);
      };
      const timer = setTimeout(() => done(this.healthy()), timeoutMs);
      this.client.on('ready', check);
      this.subscriber.on('ready', check);
    });
  }

  private recovered() {
    if (this.closed || !this.healthy() || this.downSince === undefined) return;
    this.log.info({ state: 'redis', downMs: Date.now() - this.downSince, queued: this.outbox.length }, 'Redis is reachable again');
    this.downSince = undefined;
    this.lastError = undefined;
    void this.flushOutbox();
    for (const h of this.reconnectHandlers) {
      try {
        h();
      } catch (err) {
        this.log.warn({ state: 'redis', err: { message: (err as Error).message } }, 'state reconnect handler failed');
      }
    }
  }

  onReconnect(handler: () => void) {
    this.reconnectHandlers.push(handler);
  }

  /** Logged at error once per outage (not per attempt or per refused login). */
  private lost(err?: Error) {
    if (err && !this.closed) this.lastError = err.message.split('\n')[0]?.slice(0, 200);
    if (this.closed || this.healthy() || this.downSince !== undefined) return;
    this.downSince = Date.now();
    const log = this.log.error?.bind(this.log) ?? this.log.warn.bind(this.log);
    log(
      { state: 'redis', err: err ? { message: err.message, code: (err as NodeJS.ErrnoException).code } : undefined },
      'Redis is unreachable: serving degraded (logins answer 503 temporarily_unavailable, rate limits fail open); reconnecting',
    );
  }

  unhealthyReason() {
    if (this.healthy()) return undefined;
    return this.lastError ?? 'not connected';
  }

  /** A command that could not reach Redis becomes StateUnavailableError; an answer from Redis (ReplyError) stays as it is. */
  private async run<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (e) {
      if (e instanceof ReplyError) throw e;
      throw new StateUnavailableError(e);
    }
  }

  private k(key: string) {
    return this.prefix + key;
  }

  async increment(key: string, ttlMs: number, by = 1) {
    const [value, resetInMs] = (await this.run(() => this.client.eval(INCREMENT, 1, this.k(key), by, ttl(ttlMs)))) as [number, number];
    return { value: Number(value), resetInMs: Number(resetInMs) };
  }

  async get(key: string) {
    return this.run(() => this.client.get(this.k(key)));
  }

  async set(key: string, value: string, ttlMs: number) {
    await this.run(() => this.client.set(this.k(key), value, 'PX', ttl(ttlMs)));
  }

  async setIfAbsent(key: string, value: string, ttlMs: number) {
    return (await this.run(() => this.client.set(this.k(key), value, 'PX', ttl(ttlMs), 'NX'))) === 'OK';
  }

  async delete(...keys: string[]) {
    if (keys.length) await this.run(() => this.client.del(...keys.map((key) => this.k(key))));
  }

  /** Milliseconds until key expires (-1: no TTL, -2: absent). For tests that check nothing lives forever. */
  async ttlOf(key: string): Promise<number> {
    return this.client.pttl(this.k(key));
  }

  /**
   * Never throws: the change it announces is already stored (database), so failing the request would
   * only lie to the caller. While Redis is away this instance's handlers get the message at once and
   * the others get it on reconnection (messages are idempotent: "jti revoked", "user changed").
   */
  async publish(channel: string, message: string) {
    if (this.healthy()) {
      try {
        await this.client.publish(this.k(channel), message);
        return;
      } catch {
        // Fall through: lost connection between the check and the command.
      }
    }
    this.dispatch(channel, message);
    if (this.outbox.length >= this.outboxLimit) this.outbox.shift();
    this.outbox.push([channel, message]);
  }

  private async flushOutbox() {
    while (this.outbox.length && this.healthy()) {
      const [channel, message] = this.outbox[0]!;
      try {
        await this.client.publish(this.k(channel), message);
        this.outbox.shift();
      } catch {
        return;
      }
    }
  }

  subscribe(channel: string, handler: (message: string) => void) {
    let set = this.handlers.get(channel);
    if (!set) {
      this.handlers.set(channel, (set = new Set()));
      this.subscriber.subscribe(this.k(channel)).catch(() => {
        // Reconnection resubscribes (autoResubscribe); the outage itself is logged by statusChanged.
      });
    }
    set.add(handler);
  }

  private dispatch(channel: string, message: string) {
    for (const h of this.handlers.get(channel) ?? []) {
      try {
        h(message);
      } catch (err) {
        this.log.warn({ state: 'redis', channel, err: { message: (err as Error).message } }, 'state subscriber failed');
      }
    }
  }

  healthy() {
    return this.client.status === 'ready' && this.subscriber.status === 'ready';
  }

  async close() {
    this.closed = true;
    // QUIT only on a live connection: on a reconnecting one it would wait for a Redis that may not come back.
    await Promise.all(
      [this.client, this.subscriber].map((c) => (c.status === 'ready' ? c.quit().then(() => undefined, () => c.disconnect()) : c.disconnect())),
    );
  }
}
