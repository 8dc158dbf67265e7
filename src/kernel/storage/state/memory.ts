import type { Clock } from '../../clock.js';
import type { StateStore } from './store.js';

interface Entry {
  value: string;
  expiresAt: number;
}

/** One process's state store. JavaScript runs one callback at a time, so each method is atomic. */
export class MemoryStateStore implements StateStore {
  readonly kind = 'memory' as const;
  private readonly entries = new Map<string, Entry>();
  private readonly handlers = new Map<string, Set<(m: string) => void>>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly clock: Clock) {
    // Expired entries are removed in the background so nothing piles up.
    this.sweeper = setInterval(() => this.sweep(), 30_000);
    this.sweeper.unref();
  }

  private live(key: string): Entry | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= this.clock.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  sweep() {
    const now = this.clock.now();
    for (const [k, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(k);
  }

  size() {
    return this.entries.size;
  }

  async increment(key: string, ttlMs: number, by = 1) {
    const now = this.clock.now();
    const e = this.live(key);
    if (!e) {
      this.entries.set(key, { value: String(by), expiresAt: now + ttlMs });
      return { value: by, resetInMs: ttlMs };
    }
    const value = Number(e.value) + by;
    e.value = String(value);
    return { value, resetInMs: e.expiresAt - now };
  }

  async get(key: string) {
    return this.live(key)?.value ?? null;
  }

  async set(key: string, value: string, ttlMs: number) {
    this.entries.set(key, { value, expiresAt: this.clock.now() + ttlMs });
  }

  async setIfAbsent(key: string, value: string, ttlMs: number) {
    if (this.live(key)) return false;
    this.entries.set(key, { value, expiresAt: this.clock.now() + ttlMs });
    return true;
  }

  async delete(...keys: string[]) {
    for (const key of keys) this.entries.delete(key);
  }

  async publish(channel: string, message: string) {
    for (const h of this.handlers.get(channel) ?? []) h(message);
  }

  subscribe(channel: string, handler: (message: string) => void) {
    let set = this.handlers.get(channel);
    if (!set) this.handlers.set(channel, (set = new Set()));
    set.add(handler);
  }

  healthy() {
    return true;
  }

  async close() {
    clearInterval(this.sweeper);
    this.entries.clear();
  }
}
