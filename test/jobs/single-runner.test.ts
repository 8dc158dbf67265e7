import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { sql } from 'drizzle-orm';
import { ManualClock, type Clock } from '../../src/kernel/clock.js';
import { buildApp, type App } from '../../src/app/app.js';
import { openDatabase, type Database } from '../../src/kernel/storage/database.js';
import { createWarden, type Warden } from '../../src/app/warden.js';
import { testConfig } from '../support/app.js';
import { testPostgresUrl, withDatabase } from '../support/template.js';

const pgUrl = testPostgresUrl();

/**
 * Two instances (each its own pool) on one PostgreSQL database: a single-runner job runs on one of them
 * at a time; the other skips its turn while the lock is held, and runs once it is free.
 */
describe('single-runner jobs on PostgreSQL', { skip: pgUrl ? false : 'WARDEN_TEST_DATABASE_URL not set (the PostgreSQL pass sets it)' }, () => {
  const name = `warden_t_jobs_${process.env.WARDEN_TEST_RUN ?? 'x'}_${process.pid}`;
  const instances: Array<{ database: Database; warden: Warden; app: App }> = [];

  before(async () => {
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    const template = process.env.WARDEN_TEST_PG_TEMPLATE;
    await admin.query(`create database ${name}${template ? ` template ${template}` : ''}`);
    await admin.end();
    const clock = new ManualClock(Date.now());
    for (let i = 0; i < 2; i++) {
      // A pool of one: the lock's connection is its own, so the job may still use the pool.
      const database = await openDatabase({ databaseUrl: withDatabase(pgUrl!, name), poolSize: 1, allowExitOnIdle: true });
      if (!template && i === 0) await database.migrate();
      const config = testConfig();
      const warden = await createWarden(config, { database, clock: clock as Clock, migrate: false });
      const app = await buildApp(config, { warden });
      await app.ready();
      instances.push({ database, warden, app });
    }
  });

  after(async () => {
    for (const i of instances) {
      await i.app.close();
      await i.warden.close();
      await i.database.close();
    }
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  });

  it('runs on one instance at a time; the other skips, then runs once the lock is free', async () => {
    const [a, b] = instances as [(typeof instances)[0], (typeof instances)[0]];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    let runsOnB = 0;
    a.app.jobs.register({
      name: 'test.exclusive',
      everyMs: 3_600_000,
      singleRunner: true,
      run: async ({ db }) => {
        started();
        // The pool's one connection is free for the work while the lock is held.
        await db.execute(sql`select 1`);
        await gate;
      },
    });
    b.app.jobs.register({
      name: 'test.exclusive',
      everyMs: 3_600_000,
      singleRunner: true,
      run: async () => {
        runsOnB++;
      },
    });
    const onA = a.app.jobs.runNow('test.exclusive');
    await running;
    try {
      assert.equal(await b.app.jobs.runNow('test.exclusive'), 'skipped');
      assert.equal(runsOnB, 0);
    } finally {
      release();
    }
    assert.equal(await onA, 'ok');
    assert.equal(await b.app.jobs.runNow('test.exclusive'), 'ok');
    assert.equal(runsOnB, 1);
    const metrics = await b.warden.metrics.registry.metrics();
    assert.match(metrics, /warden_job_runs_total\{job="test\.exclusive",outcome="skipped"\} 1\n/);
  });

  it('a job that is not single-runner runs on both at once', async () => {
    const [a, b] = instances as [(typeof instances)[0], (typeof instances)[0]];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    a.app.jobs.register({ name: 'test.everywhere', everyMs: 3_600_000, run: () => gate });
    b.app.jobs.register({ name: 'test.everywhere', everyMs: 3_600_000, run: async () => {} });
    const onA = a.app.jobs.runNow('test.everywhere');
    assert.equal(await b.app.jobs.runNow('test.everywhere'), 'ok');
    release();
    assert.equal(await onA, 'ok');
  });
});
