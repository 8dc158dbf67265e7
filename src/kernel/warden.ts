import type { Clock } from './clock.js';
import type { Config } from './config/load.js';
import type { Database } from './storage/database.js';
import type { StateStore } from './storage/state/store.js';

/**
 * Every service of one Warden instance, built once by the composition root (src/app/warden.ts) and shared
 * by routes, CLI and tests. The kernel declares what it owns; each feature adds its own services where it
 * defines them, by declaration merging (`declare module '…/kernel/warden.js'`), as a Fastify plugin declares
 * its decorators: a feature reaches another's service through this type without importing the app.
 */
export interface Warden {
  readonly config: Config;
  readonly clock: Clock;
  readonly database: Database;
  readonly db: Database['db'];
  readonly state: StateStore;
  /** Run last-in first-out by close(), before the state store and database close. */
  readonly closers: Array<() => Promise<void>>;
  close(): Promise<void>;
}
