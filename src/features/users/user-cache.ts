import { LruMap } from 'toad-cache';
import type { Clock } from '../../kernel/clock.js';
import type { Db, Executor } from '../../kernel/storage/database.js';
import type { StateStore } from '../../kernel/storage/state/store.js';
import { findUserById, findUserByUsername, type UserRecord } from './repository.js';

const CHANNEL = 'warden:user-changed';

/**
 * Users looked up for bearer tokens, trusted for USER_CACHE_SECONDS. Any change to a user (disable,
 * roles, password, logout) calls `invalidate`, which is published so every instance drops it at once.
 * Bounded at `maxEntries`, least recently used first out, so a flood of distinct users costs memory
 * only up to the bound and the users in active use stay cached.
 */
export class UserCache {
  private readonly entries: LruMap<{ user: UserRecord | undefined; at: number }>;
  private readonly inflight = new Map<string, Promise<UserRecord | undefined>>();

  constructor(
    private readonly db: Db,
    private readonly state: StateStore,
    private readonly clock: Clock,
    private readonly ttlMs: number,
    maxEntries = 50_000,
  ) {
    this.entries = new LruMap(maxEntries);
    state.subscribe(CHANNEL, (id) => this.drop(id));
    // Changes announced while this instance was cut off from the state store were missed: forget everything.
    state.onReconnect?.(() => this.entries.clear());
  }

  /**
   * By id (or by username when tokens carry it as `sub`). Inside a transaction pass it as `ex`: a miss
   * must read through that transaction (PGlite has one connection; a query beside it would wait forever).
   */
  async get(key: string, by: 'id' | 'username' = 'id', ex?: Executor): Promise<UserRecord | undefined> {
    const hit = this.peek(key, by);
    if (hit) return hit.user;
    const cacheKey = by === 'id' ? key : `u:${key.toLowerCase()}`;
    let p = ex ? undefined : this.inflight.get(cacheKey);
    if (!p) {
      const source = ex ?? this.db;
      p = (by === 'id' ? findUserById(source, key) : findUserByUsername(source, key)).finally(() => this.inflight.delete(cacheKey));
      // A read inside a transaction is not shared with other callers (they may not wait on that transaction).
      if (!ex) this.inflight.set(cacheKey, p);
    }
    const user = await p;
    if (this.ttlMs > 0) {
      this.entries.set(cacheKey, { user, at: this.clock.now() });
    }
    return user;
  }

  /** A fresh cache entry (`user` undefined: known not to exist), or undefined on a miss. No await: the hot path. */
  peek(key: string, by: 'id' | 'username' = 'id'): { user: UserRecord | undefined } | undefined {
    const hit = this.entries.get(by === 'id' ? key : `u:${key.toLowerCase()}`);
    return hit && this.clock.now() - hit.at < this.ttlMs ? hit : undefined;
  }

  private drop(id: string) {
    const e = this.entries.get(id);
    this.entries.delete(id);
    if (e?.user) this.entries.delete(`u:${e.user.username.toLowerCase()}`);
    else for (const [k, v] of this.entries.items) if (v.value.user?.id === id) this.entries.delete(k);
  }

  async invalidate(id: string) {
    this.drop(id);
    await this.state.publish(CHANNEL, id);
  }
}

declare module '../../kernel/warden.js' {
  interface Warden {
    readonly userCache: UserCache;
  }
}
