import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sql, type SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { packageFile } from '../paths.js';

/**
 * Built without a schema: every query names its tables (each feature's tables.ts), none uses the
 * relational `db.query` API, so the kernel needs to know no feature's tables.
 */
export type Db = PgDatabase<PgQueryResultHKT>;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** A repository function accepts either the database or an open transaction. */
export type Executor = Db | Tx;

export interface Database {
  readonly db: Db;
  readonly kind: 'pglite' | 'postgres';
  /** Apply pending migrations (idempotent, safe from several instances at once on PostgreSQL). */
  migrate(): Promise<void>;
  /** Reachable and fully migrated. */
  ready(): Promise<{ ok: boolean; reason?: string }>;
  /**
   * PostgreSQL only: LISTEN on a channel over a connection of its own (NOTIFY reaches every instance
   * at once, without Redis). `onReconnect` runs when the connection comes back after a loss, as
   * notifications sent meanwhile are gone. Answers the function that stops listening.
   */
  listen?(channel: string, onMessage: (payload: string) => void, onReconnect: () => void): Promise<() => Promise<void>>;
  /**
   * PostgreSQL only: run `work` while holding the advisory lock `key` (pg_try_advisory_xact_lock), or
   * not at all when another session holds it. The lock lives in a transaction on a connection of its
   * own, outside the pool, so `work` may use the whole pool (even a pool of one) and the lock goes with
   * that connection if the process dies.
   */
  exclusive?<T>(key: readonly [number, number], work: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }>;
  close(): Promise<void>;
}

/** The rows of a hand-written statement (node-postgres and PGlite both answer `{ rows }`). */
export async function queryRows<T>(ex: Executor, query: SQL): Promise<T[]> {
  const result = (await ex.execute(query)) as unknown as { rows?: T[] };
  return result.rows ?? [];
}

export const MIGRATIONS_FOLDER = packageFile('drizzle');
/** pg_advisory_lock key: "warden migrations". */
const MIGRATION_LOCK_KEY = 0x77617264;

function expectedMigrationCount(): number {
  const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] };
  return journal.entries.length;
}

async function migrationState(db: Db): Promise<{ ok: boolean; reason?: string }> {
  try {
    const rows = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
    const n = Number(rows[0]?.n ?? 0);
    const expected = expectedMigrationCount();
    return n >= expected ? { ok: true } : { ok: false, reason: `migrations pending (${n}/${expected} applied)` };
  } catch {
    return { ok: false, reason: 'database unreachable or not migrated' };
  }
}

/** The lock of a PGlite data dir, inside it (see lockDataDir). */
const LOCK_FILE = 'warden.lock';

export class DataDirInUseError extends Error {
  constructor(readonly dataDir: string) {
    super(
      `the embedded database in ${dataDir} is held by a running Warden (lock ${join(dataDir, LOCK_FILE)}); use the admin API (/admin/...) while it runs, or stop it first`,
    );
    this.name = 'DataDirInUseError';
  }
}

/**
 * The PGlite data dir's lock (proper-lockfile): a directory made atomically (mkdir) whose mtime its
 * holder refreshes every LOCK_UPDATE_MS. A lock not refreshed for LOCK_STALE_MS is stale (its holder was
 * killed) and is taken over. Only the mtime counts, so it holds across containers sharing a volume,
 * where a pid means nothing. The stale threshold is far above any pause of the holder's event loop
 * (the first start's initdb, a migration), so a live holder is never taken for a dead one.
 */
const LOCK_STALE_MS = 20_000;
const LOCK_UPDATE_MS = 2_000;

/**
 * Take the data dir's lock, or a stale one over; undefined when it is held. Under a second, short lock
 * (the guard): proper-lockfile alone lets two takers that both saw a stale lock each remove it and make
 * their own, so both would hold it.
 */
export async function tryLockDataDir(dataDir: string): Promise<(() => Promise<void>) | undefined> {
  // CommonJS: its exports are the default import's, in node and in the bundle alike.
  const lockfile = (await import('proper-lockfile')).default;
  const path = join(dataDir, LOCK_FILE);
  const guardPath = join(dataDir, `${LOCK_FILE}-guard`);
  const releaseGuard = await lockfile.lock(guardPath, {
    realpath: false,
    lockfilePath: guardPath,
    // Held for a few milliseconds; one left by a process killed in them goes stale in 5 s.
    stale: 5_000,
    retries: { retries: 40, minTimeout: 25, maxTimeout: 250 },
  });
  try {
    return await lockfile.lock(path, {
      realpath: false,
      lockfilePath: path,
      stale: LOCK_STALE_MS,
      update: LOCK_UPDATE_MS,
      onCompromised: (err) => {
        // Another process took the data dir (or it was deleted): writing on would corrupt it.
        throw new Error(`the lock on the embedded database in ${dataDir} was lost (${err.message}); stopping so that two processes never write it`);
      },
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOCKED') return undefined;
    throw e;
  } finally {
    await releaseGuard().catch(() => {});
  }
}

/**
 * One writer per PGlite data dir (tryLockDataDir). A lock found held is watched for one refresh:
 * refreshed, its holder is alive and this start is refused at once; not refreshed, its holder is gone
 * (kill -9, a lost container), and the lock is taken over once it is stale, without a manual clean-up.
 */
export async function lockDataDir(dataDir: string, progress?: (line: string) => void): Promise<() => Promise<void>> {
  const path = join(dataDir, LOCK_FILE);
  const take = () => tryLockDataDir(dataDir);
  const first = await take();
  if (first) return first;
  const seen = lockMtime(path);
  let gone = seen === undefined;
  const watchUntil = Date.now() + LOCK_UPDATE_MS * 1.5;
  while (!gone && Date.now() < watchUntil) {
    await new Promise((r) => setTimeout(r, 100));
    const now = lockMtime(path);
    if (now === undefined) gone = true;
    else if (now !== seen) throw new DataDirInUseError(dataDir);
  }
  const age = gone ? LOCK_STALE_MS : Date.now() - seen!;
  if (age < LOCK_STALE_MS) {
    const wait = LOCK_STALE_MS - age + 250;
    progress?.(`${dataDir} is locked by a Warden that stopped without releasing it; taking the lock over in ${Math.ceil(wait / 1000)} s`);
    await new Promise((r) => setTimeout(r, wait));
  }
  const second = await take();
  if (second) return second;
  throw new DataDirInUseError(dataDir);
}

function lockMtime(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

export interface OpenOptions {
  databaseUrl?: string;
  dataDir?: string;
  /** PGlite only: load this dumped data dir instead of the one on disk (tests). */
  loadDataDir?: Blob;
  sharedBuffersMb?: number;
  poolSize?: number;
  statementTimeoutMs?: number;
  /** PostgreSQL: idle connections do not keep the process alive (tests, CLI). */
  allowExitOnIdle?: boolean;
  /** PostgreSQL: keep retrying an unreachable or not yet created database this long at open; 0 = fail at once. */
  connectTimeoutSeconds?: number;
  /** Start-up progress for a human (creating the embedded database, waiting for PostgreSQL). */
  progress?: ((line: string) => void) | undefined;
  /** Injected for tests of the wait (defaults to real time). */
  sleep?: (ms: number) => Promise<void>;
}

export async function openDatabase(opts: OpenOptions): Promise<Database> {
  if (opts.databaseUrl) {
    const database = await openPostgres(opts.databaseUrl, opts.poolSize ?? 10, opts.statementTimeoutMs ?? 5000, opts.allowExitOnIdle ?? false);
    try {
      await waitForPostgres(database.db, opts.databaseUrl, opts);
    } catch (e) {
      await database.close().catch(() => {});
      throw e;
    }
    return database;
  }
  return openPglite(opts);
}

/** The start cannot reach its PostgreSQL: one line naming DATABASE_URL (and the fix, when there is one). */
export class DatabaseUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatabaseUnavailableError';
  }
}

/** Where a URL points, without its credentials. */
function target(databaseUrl: string) {
  try {
    const u = new URL(databaseUrl);
    return { where: `${u.hostname}:${u.port || '5432'}`, database: decodeURIComponent(u.pathname.slice(1)) || u.username || 'postgres' };
  } catch {
    return { where: 'the server', database: 'postgres' };
  }
}

/**
 * What a connection error means for the person starting Warden, and whether waiting can help:
 * PostgreSQL often comes up after Warden (compose, Kubernetes), and a database may be created meanwhile;
 * a wrong password or a refused role will not fix itself.
 */
export function explainConnectError(e: unknown, databaseUrl: string): { message: string; retry: boolean } {
  // Drizzle wraps the driver's error ("Failed query: …"); the driver's own carries the code.
  let err = e as { code?: string; message?: string; cause?: unknown };
  while (!err.code && err.cause && typeof err.cause === 'object') err = err.cause as typeof err;
  const { where, database } = target(databaseUrl);
  switch (err.code) {
    case 'ECONNREFUSED':
      return { message: `DATABASE_URL: nothing accepts connections at ${where} (is PostgreSQL running there?)`, retry: true };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { message: `DATABASE_URL: the host of ${where} is unknown (check the host name)`, retry: true };
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return { message: `DATABASE_URL: ${where} does not answer (firewall, or wrong address?)`, retry: true };
    case '57P03': // cannot_connect_now: starting up or shutting down
      return { message: `DATABASE_URL: PostgreSQL at ${where} is starting up`, retry: true };
    case '3D000': // invalid_catalog_name
      return { message: `DATABASE_URL: database "${database}" does not exist on ${where}; create it: createdb ${database}`, retry: true };
    case '28P01': // invalid_password
    case '28000': // invalid_authorization_specification (no pg_hba entry, unknown role)
      return { message: `DATABASE_URL: PostgreSQL at ${where} refused the login (${(err.message ?? '').split('\n')[0]}); check the user and password`, retry: false };
    default:
      if (/timeout/i.test(err.message ?? '')) return { message: `DATABASE_URL: ${where} does not answer (connection timeout)`, retry: true };
      return { message: `DATABASE_URL: cannot use PostgreSQL at ${where}: ${(err.message ?? String(e)).split('\n')[0]}`, retry: false };
  }
}

/** At open: one query, retried with backoff for up to connectTimeoutSeconds while waiting can help. */
async function waitForPostgres(db: Db, databaseUrl: string, opts: OpenOptions): Promise<void> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const budgetMs = (opts.connectTimeoutSeconds ?? 0) * 1000;
  const started = Date.now();
  let delay = 250;
  let said: string | undefined;
  for (;;) {
    try {
      await db.execute(sql`select 1`);
      if (said) opts.progress?.(`PostgreSQL at ${target(databaseUrl).where} is reachable`);
      return;
    } catch (e) {
      const { message, retry } = explainConnectError(e, databaseUrl);
      const left = budgetMs - (Date.now() - started);
      if (!retry || left <= 0) {
        const waited = budgetMs > 0 && retry ? `; waited ${Math.round((Date.now() - started) / 1000)} s (DATABASE_CONNECT_TIMEOUT_SECONDS=${budgetMs / 1000})` : '';
        throw new DatabaseUnavailableError(`${message}${waited}`);
      }
      if (message !== said) {
        opts.progress?.(`${message}: waiting up to ${Math.ceil(left / 1000)} s more (DATABASE_CONNECT_TIMEOUT_SECONDS)`);
        said = message;
      }
      await sleep(Math.min(delay, left));
      delay = Math.min(delay * 2, 2000);
    }
  }
}

async function openPglite(opts: OpenOptions): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  let unlock = async () => {};
  let dataDir: string | undefined;
  let creating = false;
  if (opts.dataDir && !opts.loadDataDir) {
    mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
    unlock = await lockDataDir(opts.dataDir, opts.progress);
    dataDir = join(opts.dataDir, 'pgdata');
    creating = !existsSync(join(dataDir, 'PG_VERSION'));
  }
  const started = Date.now();
  // The first start runs initdb inside PGlite: seconds of silence otherwise.
  if (creating) opts.progress?.(`creating the embedded database in ${dataDir} (first start only; a few seconds)…`);
  let client: InstanceType<typeof PGlite>;
  try {
    client = new PGlite({
      dataDir,
      loadDataDir: opts.loadDataDir,
      // Every acknowledged commit is flushed before the answer (kill -9 loses nothing).
      relaxedDurability: false,
      postgresqlconf: `shared_buffers=${opts.sharedBuffersMb ?? 16}MB`,
    });
    await client.waitReady;
    if (creating) opts.progress?.(`embedded database created in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (e) {
    await unlock().catch(() => {});
    throw e;
  }
  const db = drizzle(client) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    migrate: () => migrate(db as never, { migrationsFolder: MIGRATIONS_FOLDER }),
    ready: () => migrationState(db),
    async close() {
      try {
        if (!client.closed) await client.close();
      } finally {
        await unlock().catch(() => {});
      }
    },
  };
}

async function openPostgres(url: string, poolSize: number, statementTimeoutMs: number, allowExitOnIdle: boolean): Promise<Database> {
  const pg = (await import('pg')).default;
  const { drizzle } = await import('drizzle-orm/node-postgres');
  const { migrate } = await import('drizzle-orm/node-postgres/migrator');
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    statement_timeout: statementTimeoutMs,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30000,
    allowExitOnIdle,
  });
  // A dropped idle connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  const db = drizzle(pool) as unknown as Db;
  return {
    db,
    kind: 'postgres',
    async migrate() {
      const client = await pool.connect();
      try {
        // Several instances starting together: one migrates, the others wait and then find nothing to do.
        await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
        try {
          await migrate(drizzle(client) as never, { migrationsFolder: MIGRATIONS_FOLDER });
        } finally {
          await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
        }
      } finally {
        client.release();
      }
    },
    ready: () => migrationState(db),
    listen: (channel, onMessage, onReconnect) => listenPostgres(pg, url, channel, onMessage, onReconnect),
    exclusive: (key, work) => exclusivePostgres(pg, url, key, work),
    close: () => pool.end(),
  };
}

async function exclusivePostgres<T>(
  pg: typeof import('pg').default,
  url: string,
  key: readonly [number, number],
  work: () => Promise<T>,
): Promise<{ ran: true; value: T } | { ran: false }> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  // A connection lost while the work runs is reported by the COMMIT below; it must not crash the process.
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query('begin');
    const { rows } = await client.query<{ got: boolean }>('select pg_try_advisory_xact_lock($1::int, $2::int) as got', [key[0], key[1]]);
    if (!rows[0]?.got) {
      await client.query('rollback');
      return { ran: false };
    }
    try {
      return { ran: true, value: await work() };
    } finally {
      // Ends the transaction and so releases the lock, whether the work succeeded or not.
      await client.query('commit').catch(() => {});
    }
  } finally {
    await client.end().catch(() => {});
  }
}

/** A dedicated client (a pooled one would be handed back and lose its LISTEN), reconnected after a loss. */
async function listenPostgres(
  pg: typeof import('pg').default,
  url: string,
  channel: string,
  onMessage: (payload: string) => void,
  onReconnect: () => void,
): Promise<() => Promise<void>> {
  let client: InstanceType<typeof pg.Client> | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  const connect = async (again: boolean): Promise<void> => {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    c.on('notification', (n) => {
      if (n.channel === channel) onMessage(n.payload ?? '');
    });
    const lost = () => {
      if (stopped || client !== c) return;
      client = undefined;
      c.end().catch(() => {});
      retry = setTimeout(() => void connect(true).catch(() => {}), 1000);
      retry.unref();
    };
    c.on('error', lost);
    c.on('end', lost);
    client = c;
    try {
      await c.connect();
      await c.query(`LISTEN "${channel.replace(/"/g, '""')}"`);
      if (again) onReconnect();
    } catch {
      // Not fatal: the key timer still reloads, and the next connection reloads at once.
      lost();
    }
  };
  await connect(false);
  return async () => {
    stopped = true;
    clearTimeout(retry);
    await client?.end().catch(() => {});
  };
}
