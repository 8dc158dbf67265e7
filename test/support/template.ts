import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { openDatabase } from '../../src/kernel/storage/database.js';

/** The PostgreSQL server tests use when WARDEN_TEST_DATABASE_URL is set (CI sets it for the second pass). */
export const testPostgresUrl = () => process.env.WARDEN_TEST_DATABASE_URL || undefined;

export function withDatabase(url: string, name: string) {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Build a migrated template once per run; every test process copies it. */
export async function prepareTemplate(work: string): Promise<{ env: Record<string, string> }> {
  const pgUrl = testPostgresUrl();
  if (pgUrl) {
    const name = `warden_tpl_${process.pid}_${Date.now()}`;
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const db = await openDatabase({ databaseUrl: withDatabase(pgUrl, name), poolSize: 1 });
    await db.migrate();
    await db.close();
    return { env: { WARDEN_TEST_PG_TEMPLATE: name } };
  }
  const db = await openDatabase({});
  await db.migrate();
  const client = (db.db as unknown as { $client: { dumpDataDir(c?: string): Promise<Blob> } }).$client;
  const dump = await client.dumpDataDir('none');
  const file = join(work, 'pglite-template.tar');
  writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  await db.close();
  return { env: { WARDEN_TEST_PGLITE_TEMPLATE: file } };
}

export async function dropTemplate(): Promise<void> {
  const pgUrl = testPostgresUrl();
  const name = process.env.WARDEN_TEST_PG_TEMPLATE;
  if (!pgUrl || !name) return;
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  // This run's copies left by test processes that crashed are dropped too (never another run's).
  const run = process.env.WARDEN_TEST_RUN ?? 'none';
  const { rows } = await admin.query<{ datname: string }>(`select datname from pg_database where datname like $1 or datname = $2`, [
    `warden_t_${run}_%`,
    name,
  ]);
  for (const r of rows) await admin.query(`drop database if exists "${r.datname}" with (force)`);
  await admin.end();
}
