import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { generateDrizzleJson, generateMigration, type DrizzleSnapshotJSON } from 'drizzle-kit/api';
import pg from 'pg';
import { MIGRATIONS_FOLDER, queryRows } from '../../src/kernel/storage/database.js';
import { PACKAGE_ROOT } from '../../src/kernel/paths.js';
import * as kernelSchema from '../../src/kernel/storage/schema.js';
import { testDatabase } from '../support/app.js';
import { testPostgresUrl, withDatabase } from '../support/template.js';

/**
 * The tables declared in TypeScript (src/kernel/storage/schema.ts and src/features/<name>/tables.ts,
 * what drizzle.config.ts gathers) and the migrations in drizzle/ (what deployed databases have) describe
 * the same schema. Were they to drift, `drizzle-kit generate` would write a migration that renames or
 * recreates what the hand-written migrations made (as it did before drizzle/meta/0008_snapshot.json).
 */

/**
 * Every export of the files drizzle.config.ts lists as its schema: the kernel's, and each feature's
 * tables.ts (found in the sources, imported beside this file: the run transpiles both trees alike).
 */
async function declaredSchema(): Promise<Record<string, unknown>> {
  const imports: Record<string, unknown> = { ...kernelSchema };
  const features = join(PACKAGE_ROOT, 'src/features');
  for (const name of readdirSync(features).sort()) {
    if (!existsSync(join(features, name, 'tables.ts'))) continue;
    Object.assign(imports, (await import(new URL(`../../src/features/${name}/tables.js`, import.meta.url).href)) as Record<string, unknown>);
  }
  return imports;
}

/** A database's public schema as PostgreSQL itself prints it: columns, constraints and indexes, one line each. */
const CATALOG = `
select c.relname || '.' || a.attname || ': ' || format_type(a.atttypid, a.atttypmod)
    || case when a.attnotnull then ' not null' else '' end
    || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '') as line
  from pg_attribute a
  join pg_class c on c.oid = a.attrelid
  join pg_namespace n on n.oid = c.relnamespace
  left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
  where n.nspname = 'public' and c.relkind = 'r' and a.attnum > 0 and not a.attisdropped
union all
select c.relname || ' constraint ' || con.conname || ': ' || pg_get_constraintdef(con.oid)
  from pg_constraint con
  join pg_class c on c.oid = con.conrelid
  join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = 'public'
union all
select tablename || ' index ' || indexname || ': ' || indexdef from pg_indexes where schemaname = 'public'
union all
select 'sequence ' || sequencename from pg_sequences where schemaname = 'public'`;

const catalogLines = (rows: { line: string }[]) => rows.map((r) => r.line).sort();

/**
 * A new, empty database of the kind the test database is (PGlite in memory, or a database of its own on
 * the PostgreSQL server), for running SQL in and reading back its catalog.
 */
async function scratchDatabase(): Promise<{ run(statement: string): Promise<void>; catalog(): Promise<string[]>; close(): Promise<void> }> {
  const pgUrl = testPostgresUrl();
  if (!pgUrl) {
    const lite = new PGlite();
    return {
      run: async (statement) => void (await lite.exec(statement)),
      catalog: async () => catalogLines((await lite.query<{ line: string }>(CATALOG)).rows),
      close: () => lite.close(),
    };
  }
  // Named like the test databases (warden_t_<run>_...), so the run drops it even if this process dies.
  const name = `warden_t_${process.env.WARDEN_TEST_RUN ?? 'x'}_declared_${process.pid}`;
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${name}`);
  await admin.query(`create database ${name}`);
  const client = new pg.Client({ connectionString: withDatabase(pgUrl, name) });
  await client.connect();
  return {
    run: async (statement) => void (await client.query(statement)),
    catalog: async () => catalogLines((await client.query<{ line: string }>(CATALOG)).rows),
    close: async () => {
      await client.end();
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

describe('tables.ts and the migrations in drizzle/ describe the same schema', () => {
  let scratch: Awaited<ReturnType<typeof scratchDatabase>> | undefined;
  after(async () => scratch?.close());

  it('a database migrated from drizzle/ has exactly the columns, constraints and indexes tables.ts declares', async () => {
    // drizzle-kit's pushSchema (drizzle-kit/api) would answer the statements that bring a live database to
    // the tables, but in drizzle-kit 0.31 it fails on composite primary keys (drizzle-orm issue 5557: the
    // introspection's query parameters are dropped) and reads their columns in no set order. So the
    // tables are created by the SQL drizzle-kit generates from tables.ts, in a new database, and both
    // databases' catalogs are compared as PostgreSQL prints them (a check or an index predicate written
    // differently but meaning the same compares equal).
    const migrated = await testDatabase();
    const fromMigrations = catalogLines(await queryRows<{ line: string }>(migrated.db, sql.raw(CATALOG)));

    const statements = await generateMigration(generateDrizzleJson({}), generateDrizzleJson(await declaredSchema()));
    scratch = await scratchDatabase();
    for (const statement of statements) await scratch.run(statement);
    const fromTables = await scratch.catalog();

    assert.ok(fromMigrations.some((l) => l.startsWith('users.id: uuid')), 'the test database is migrated');
    const only = (a: string[], b: string[]) => a.filter((line) => !b.includes(line));
    assert.deepEqual(
      { onlyFromMigrations: only(fromMigrations, fromTables), onlyFromTables: only(fromTables, fromMigrations) },
      { onlyFromMigrations: [], onlyFromTables: [] },
      'tables.ts and drizzle/ make different schemas: declare in tables.ts what the migrations make',
    );
  });

  it('the latest snapshot in drizzle/meta is tables.ts: drizzle-kit generate has nothing to write', async () => {
    const meta = join(MIGRATIONS_FOLDER, 'meta');
    // drizzle-kit diffs tables.ts against the last snapshot in file-name order.
    const snapshots = readdirSync(meta)
      .filter((f) => f.endsWith('_snapshot.json'))
      .sort();
    const latest = snapshots.at(-1);
    assert.ok(latest, 'drizzle/meta holds a snapshot');
    const journal = JSON.parse(readFileSync(join(meta, '_journal.json'), 'utf8')) as { entries: { idx: number; tag: string }[] };
    const last = journal.entries.at(-1);
    // A migration written without drizzle-kit leaves no snapshot; the next `generate` would then write it again.
    assert.equal(Number.parseInt(latest, 10), last?.idx, `the last migration (${last?.tag}) has its snapshot (latest: ${latest})`);

    const prev = JSON.parse(readFileSync(join(meta, latest), 'utf8')) as DrizzleSnapshotJSON;
    const cur = generateDrizzleJson(await declaredSchema(), prev.id);
    assert.deepEqual(await generateMigration(prev, cur), [], `npx drizzle-kit generate would write a migration: tables.ts differs from ${latest}`);
  });
});
