import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { openDatabase } from '../../src/kernel/storage/database.js';
import { testPostgresUrl, withDatabase } from '../support/template.js';

const pgUrl = testPostgresUrl();

describe('migrations on PostgreSQL', { skip: pgUrl ? false : 'WARDEN_TEST_DATABASE_URL not set (the PostgreSQL pass sets it)' }, () => {
  it('run safely from several instances starting at once (advisory lock): one migrates, the others find nothing to do', async () => {
    const name = `warden_t_mig_${process.pid}_${Date.now()}`;
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const url = withDatabase(pgUrl!, name);
    const instances = await Promise.all(Array.from({ length: 4 }, () => openDatabase({ databaseUrl: url, poolSize: 2, allowExitOnIdle: true })));
    try {
      // Without the lock, these race on CREATE TABLE / the migrations journal and all but one fail.
      const results = await Promise.allSettled(instances.map((d) => d.migrate()));
      assert.deepEqual(
        results.map((r) => (r.status === 'rejected' ? String((r.reason as Error).message) : 'ok')),
        ['ok', 'ok', 'ok', 'ok'],
      );
      for (const d of instances) assert.deepEqual(await d.ready(), { ok: true });
      const check = new pg.Client({ connectionString: url });
      await check.connect();
      const applied = await check.query('select hash, count(*)::int as n from drizzle.__drizzle_migrations group by hash');
      await check.end();
      assert.ok(applied.rows.length > 0);
      assert.ok(
        applied.rows.every((r: { n: number }) => r.n === 1),
        'each migration recorded exactly once',
      );
    } finally {
      await Promise.all(instances.map((d) => d.close()));
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });
});
