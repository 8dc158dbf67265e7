import { readFileSync } from 'node:fs';
import pg from 'pg';
import { sql } from 'drizzle-orm';
import { ManualClock, type Clock } from '../../src/kernel/clock.js';
import { parseConfig } from '../../src/app/config.js';
import type { Config } from '../../src/kernel/config/load.js';
import { buildApp, type App } from '../../src/app/app.js';
import { openDatabase, type Database } from '../../src/kernel/storage/database.js';
import { createWarden, type Warden } from '../../src/app/warden.js';
import type { StateStore } from '../../src/kernel/storage/state/store.js';
import { testPostgresUrl, withDatabase } from './template.js';
import { TEST_HASH_COST } from './process.js';
import { atProcessEnd, betweenFiles } from './teardown.js';

/** Settings for tests: quiet logs, rate limits off unless a test turns them on, cheap hashing (TEST_HASH_COST). */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return parseConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.WARDEN_TEST_LOG_LEVEL ?? 'silent',
    ISSUER: 'http://localhost:8000',
    RATE_LIMIT_ENABLED: 'false',
    DATA_DIR: process.env.WARDEN_TEST_TMP ?? '/tmp/warden-test',
    ...TEST_HASH_COST,
    ...overrides,
  });
}

let shared: Promise<Database> | undefined;

// Closed when the process's last test file is done (PGlite keeps a timer alive, and the process must
// exit); emptied between files, as between apps.
let dispose: (() => Promise<void>) | undefined;
atProcessEnd(async () => {
  if (shared) await (await shared).close();
  await dispose?.();
});
betweenFiles(async () => {
  if (shared) await resetDatabase(await shared);
});

/**
 * One database per test process, copied from the run's migrated template (PGlite dump or PostgreSQL
 * template database). Tests in a file run one after another and reset it between apps.
 */
export function testDatabase(): Promise<Database> {
  shared ??= (async () => {
    const pgUrl = testPostgresUrl();
    if (pgUrl) {
      const template = process.env.WARDEN_TEST_PG_TEMPLATE;
      const name = `warden_t_${process.env.WARDEN_TEST_RUN ?? 'x'}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
      const admin = new pg.Client({ connectionString: pgUrl });
      await admin.connect();
      await admin.query(`create database ${name}${template ? ` template ${template}` : ''}`);
      await admin.end();
      const db = await openDatabase({ databaseUrl: withDatabase(pgUrl, name), poolSize: 5, allowExitOnIdle: true });
      if (!template) await db.migrate();
      dispose = async () => {
        const a = new pg.Client({ connectionString: pgUrl });
        await a.connect();
        await a.query(`drop database if exists ${name} with (force)`);
        await a.end();
      };
      return db;
    }
    const file = process.env.WARDEN_TEST_PGLITE_TEMPLATE;
    const db = await openDatabase(file ? { loadDataDir: new Blob([readFileSync(file)]) } : {});
    if (!file) await db.migrate();
    return db;
  })();
  return shared;
}

const TABLES = [
  'user_identities',
  'identity_providers',
  'audit_events',
  'backchannel_logouts',
  'revoked_tokens',
  'console_sessions',
  'mfa_recovery_codes',
  'mfa_totp',
  'account_tokens',
  'consents',
  'authorization_codes',
  'refresh_tokens',
  'oauth_clients',
  'signing_keys',
  'items',
  'user_roles',
  'users',
  'warden_meta',
];

/** APIs and roles back to what migration 0004 seeded: the built-in API and roles, their permissions. */
const RESEED = `
delete from roles where not built_in;
delete from apis where not built_in;
delete from api_scopes where not built_in;
update apis set name = 'Warden', access_token_ttl_seconds = null, allow_offline_access = true where built_in;
delete from role_permissions;
insert into role_permissions (role, api_id, scope)
  select r, (select id from apis where built_in), s from (values
    ('admin', 'admin'), ('admin', 'items:read'), ('admin', 'items:write'),
    ('user', 'items:read'), ('user', 'items:write'), ('guest', 'items:read'), ('guest', 'items:write')) as p(r, s)`;

// One statement that deletes every row: the foreign keys are checked at its end, when the rows on both
// sides are gone, so the order does not matter. Not TRUNCATE: on a handful of rows a DELETE is several
// times cheaper (TRUNCATE makes new files for every table and its indexes), and it takes no lock that
// waits for, or times out behind, a reader.
const EMPTY = `with ${TABLES.map((t, i) => `d${i} as (delete from ${t})`).join(', ')} select setval('audit_events_id_seq', 1, false)`;

export async function resetDatabase(db: Database) {
  await db.db.execute(sql.raw(EMPTY));
  for (const statement of RESEED.split(';')) await db.db.execute(sql.raw(statement));
}

export interface TestApp {
  app: App;
  warden: Warden;
  clock: ManualClock;
  config: Config;
  close(): Promise<void>;
}

/** A fresh app on the shared test database (emptied first), with a manual clock. */
export async function createTestApp(
  opts: { env?: Record<string, string>; clock?: ManualClock; state?: StateStore; logStream?: NodeJS.WritableStream } = {},
): Promise<TestApp> {
  const database = await testDatabase();
  await resetDatabase(database);
  const clock = opts.clock ?? new ManualClock(Date.now());
  const config = testConfig(opts.env);
  const warden = await createWarden(config, { database, clock: clock as Clock, state: opts.state, migrate: false });
  const app = await buildApp(config, { warden, logStream: opts.logStream });
  await app.ready();
  return {
    app,
    warden,
    clock,
    config,
    async close() {
      await app.close();
      await warden.close();
    },
  };
}

export const STRONG_PASSWORD = 'correct horse battery staple';

export async function registerUser(app: App, username: string, password = STRONG_PASSWORD, extra: Record<string, unknown> = {}) {
  const res = await app.inject({
    method: 'POST',
    url: '/users',
    payload: { username, email: `${username}@example.com`, password, ...extra },
  });
  if (res.statusCode !== 201) throw new Error(`register ${username}: ${res.statusCode} ${res.body}`);
  return res.json() as { id: string; username: string; email: string; roles: string[] };
}

export async function passwordLogin(app: App, username: string, password = STRONG_PASSWORD, extra: Record<string, string> = {}) {
  const res = await app.inject({
    method: 'POST',
    url: '/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ grant_type: 'password', username, password, ...extra }).toString(),
  });
  return res;
}

export async function tokensFor(app: App, username: string, password = STRONG_PASSWORD) {
  const res = await passwordLogin(app, username, password);
  if (res.statusCode !== 200) throw new Error(`login ${username}: ${res.statusCode} ${res.body}`);
  return res.json() as { access_token: string; refresh_token: string; expires_in: number; scope: string };
}

/** A registered user made admin through the service layer (as `warden user set-roles` would). */
export async function createAdmin(t: TestApp, username = 'root') {
  const u = await registerUser(t.app, username);
  await t.warden.users.adminUpdate('test', u.id, { roles: ['admin', 'user'] }, {});
  const tokens = await tokensFor(t.app, username);
  return { ...u, ...tokens };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export function form(params: Record<string, string>) {
  return {
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(params).toString(),
  };
}

/** A test that needs a service (PostgreSQL, Redis, chromium): skipped with a reason locally, failed under CI. */
export function requireService(available: boolean, what: string): { skip: string | false } {
  if (available) return { skip: false };
  if (process.env.CI === 'true') throw new Error(`${what} is required under CI=true but not reachable`);
  return { skip: `${what} not reachable` };
}
