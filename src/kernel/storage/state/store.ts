/** The part of pino's logger a state store uses (the server hands over its own). */
export interface StateLogger {
  error?(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/**
 * The shared state store cannot be reached (Redis down or hung). Not the caller's fault: whoever cannot
 * do without the store (the login lockout fails closed) lets it through, and it is answered 503
 * `temporarily_unavailable` with Retry-After — never as a wrong password.
 */
export class StateUnavailableError extends Error {
  readonly code = 'ERR_STATE_UNAVAILABLE';
  /** Reconnection is attempted at least every second; a few seconds is an honest retry hint. */
  readonly retryAfterSeconds = 5;
  constructor(cause?: unknown) {
    super('the shared state store is unreachable', cause === undefined ? undefined : { cause });
    this.name = 'StateUnavailableError';
  }
}

/**
 * Shared, short-lived state: rate-limit counters, lockouts, revocation notices, replay guards.
 * In-process by default; Redis when REDIS_URL is set, so every instance sees the same numbers.
 * Every operation is atomic with respect to concurrent callers.
 */
export interface StateStore {
  readonly kind: 'memory' | 'redis';
  /* A remote store's operations reject with StateUnavailableError while it cannot be reached. */
  /** Add `by` to the counter at key (created with ttl when absent); returns the new value and ms until it resets. */
  increment(key: string, ttlMs: number, by?: number): Promise<{ value: number; resetInMs: number }>;
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Set only when absent; true when this call set it (single use, replay guards). */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Remove these keys (one round trip, however many). */
  delete(...keys: string[]): Promise<void>;
  /** Deliver message to every instance's subscribers, this one included. */
  publish(channel: string, message: string): Promise<void>;
  subscribe(channel: string, handler: (message: string) => void): void;
  /** False while a remote store is unreachable (readiness says degraded). */
  healthy(): boolean;
  /** Why a remote store is unhealthy (the last connection error), for /readyz. */
  unhealthyReason?(): string | undefined;
  /**
   * Called each time a remote store is reachable again after an outage: announcements made while this
   * instance was cut off never reached it, so holders of mirrored state re-read it (or drop caches).
   */
  onReconnect?(handler: () => void): void;
  /** Log through the server's logger (remote stores report outages and recoveries). */
  attachLogger?(log: StateLogger): void;
  close(): Promise<void>;
}
