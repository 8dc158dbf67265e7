import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import pg from 'pg';
import { DatabaseUnavailableError, openDatabase } from '../../src/kernel/storage/database.js';
import { requireService } from '../support/app.js';
import { withDatabase } from '../support/template.js';

const PG_URL = process.env.WARDEN_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

async function pgReachable(url: string) {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    return false;
  }
}

const available = await pgReachable(PG_URL);

// Issue 17 item 4: raw driver text ("connect ECONNREFUSED") at start, and no wait for a PostgreSQL that
// comes up a few seconds after Warden.
describe('opening PostgreSQL at start', () => {
  it('fails at once with DATABASE_CONNECT_TIMEOUT_SECONDS=0, in one line naming DATABASE_URL', async () => {
    const progress: string[] = [];
    await assert.rejects(
      openDatabase({ databaseUrl: 'postgres://warden:secret@127.0.0.1:1/warden', connectTimeoutSeconds: 0, progress: (l) => progress.push(l), allowExitOnIdle: true }),
      (e: unknown) => {
        assert.ok(e instanceof DatabaseUnavailableError);
        assert.equal(e.message, 'DATABASE_URL: nothing accepts connections at 127.0.0.1:1 (is PostgreSQL running there?)');
        return true;
      },
    );
    assert.deepEqual(progress, []);
  });

  it('waits for a closed port with backoff, saying what it waits for, then fails naming the setting', async () => {
    const progress: string[] = [];
    const started = Date.now();
    await assert.rejects(
      openDatabase({ databaseUrl: 'postgres://warden:secret@127.0.0.1:1/warden', connectTimeoutSeconds: 1, progress: (l) => progress.push(l), allowExitOnIdle: true }),
      (e: unknown) => {
        assert.ok(e instanceof DatabaseUnavailableError);
        assert.equal(
          e.message,
          'DATABASE_URL: nothing accepts connections at 127.0.0.1:1 (is PostgreSQL running there?); waited 1 s (DATABASE_CONNECT_TIMEOUT_SECONDS=1)',
        );
        assert.doesNotMatch(e.message, /secret/);
        return true;
      },
    );
    assert.ok(Date.now() - started >= 1000, 'it waited');
    assert.deepEqual(progress, ['DATABASE_URL: nothing accepts connections at 127.0.0.1:1 (is PostgreSQL running there?): waiting up to 1 s more (DATABASE_CONNECT_TIMEOUT_SECONDS)']);
  });

  it('waits for a database created during the wait, and says createdb meanwhile', requireService(available, `PostgreSQL at ${PG_URL}`), async () => {
    const name = `warden_appear_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    const progress: string[] = [];
    const where = `${new URL(PG_URL).hostname}:${new URL(PG_URL).port || '5432'}`;
    try {
      const creating = new Promise<void>((resolve, reject) => {
        const check = setInterval(() => {
          if (!progress.length) return;
          clearInterval(check);
          admin.query(`create database ${name}`).then(() => resolve(), reject);
        }, 50);
      });
      const db = await openDatabase({ databaseUrl: withDatabase(PG_URL, name), connectTimeoutSeconds: 30, progress: (l) => progress.push(l), allowExitOnIdle: true, poolSize: 1 });
      await creating;
      await db.close();
      assert.deepEqual(progress, [
        `DATABASE_URL: database "${name}" does not exist on ${where}; create it: createdb ${name}: waiting up to 30 s more (DATABASE_CONNECT_TIMEOUT_SECONDS)`,
        `PostgreSQL at ${where} is reachable`,
      ]);
    } finally {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });
});
