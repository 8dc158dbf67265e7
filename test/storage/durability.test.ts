import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pg from 'pg';
import { testPostgresUrl, withDatabase } from '../support/template.js';
import { startServerProcess } from '../support/process.js';

const PASSWORD = 'correct horse battery staple';

/**
 * "Nothing acknowledged is lost": every registration that answered 201 before a kill -9 must be there
 * after a restart, on the embedded database and on PostgreSQL.
 */
async function killNineAfterWrites(env: Record<string, string>) {
  const first = await startServerProcess(env);
  const acknowledged: string[] = [];
  try {
    for (let i = 0; i < 5; i++) {
      const username = `durable${i}`;
      const res = await fetch(`${first.url}/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, email: `${username}@example.com`, password: PASSWORD }),
      });
      assert.equal(res.status, 201);
      acknowledged.push(username);
    }
    // An item too: a second table, written right before the crash.
    const token = await (
      await fetch(`${first.url}/token`, { method: 'POST', body: new URLSearchParams({ username: 'durable0', password: PASSWORD }) })
    ).json();
    const item = await fetch(`${first.url}/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token.access_token}` },
      body: JSON.stringify({ title: 'written just before the crash' }),
    });
    assert.equal(item.status, 201);
  } finally {
    // No graceful shutdown, no flush: the process dies right after the last 2xx.
    await first.stop('SIGKILL');
  }
  const second = await startServerProcess(env);
  try {
    for (const username of acknowledged) {
      const res = await fetch(`${second.url}/token`, { method: 'POST', body: new URLSearchParams({ username, password: PASSWORD }) });
      assert.equal(res.status, 200, `${username} was acknowledged but lost`);
      if (username === 'durable0') {
        const { access_token } = (await res.json()) as { access_token: string };
        const items = (await (await fetch(`${second.url}/items`, { headers: { authorization: `Bearer ${access_token}` } })).json()) as {
          items: { title: string }[];
        };
        assert.deepEqual(
          items.items.map((i) => i.title),
          ['written just before the crash'],
        );
      }
    }
  } finally {
    await second.stop();
  }
}

describe('durability: kill -9 right after a 2xx loses nothing', () => {
  it('on embedded PGlite', { timeout: 180_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-durable-'));
    try {
      await killNineAfterWrites({ DATA_DIR: dir });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const pgUrl = testPostgresUrl();
  it('on PostgreSQL', { timeout: 120_000, skip: pgUrl ? false : 'WARDEN_TEST_DATABASE_URL not set (the CI PostgreSQL pass sets it)' }, async () => {
    const name = `warden_t_durable_${process.pid}`;
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    await admin.query(`drop database if exists ${name}`);
    await admin.query(`create database ${name}`);
    try {
      await killNineAfterWrites({ DATABASE_URL: withDatabase(pgUrl!, name) });
    } finally {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });
});
