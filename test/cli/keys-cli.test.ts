import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { decodeProtectedHeader } from 'jose';
import { freePort, freshBackend, runCli, startServerProcess, type ServerProcess } from '../support/process.js';
import { testPostgresUrl } from '../support/template.js';

const K1 = Buffer.alloc(32, 0x11).toString('base64');
const K2 = Buffer.alloc(32, 0x22).toString('hex');
const PASSWORD = 'correct horse battery staple';

const stderrLines = (s: string) =>
  s
    .trim()
    .split('\n')
    .filter((l) => l && !/ExperimentalWarning|FSTDEP|trace-warnings|nodedir/.test(l));

describe('warden keys and ENCRYPTION_KEY from the command line', () => {
  let env: Record<string, string>;
  let dispose: () => Promise<void> = async () => {};
  before(async () => {
    const backend = await freshBackend('keyscli', { migrated: true });
    env = { ...backend.env, ENCRYPTION_KEY: K1 };
    dispose = backend.dispose;
    const r = await runCli(['migrate'], env);
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => dispose());

  it('the server refuses to start with the wrong key, or none, in one line naming ENCRYPTION_KEY', { timeout: 120_000 }, async () => {
    for (const key of [K2, '']) {
      const r = await runCli(['serve'], { ...env, ENCRYPTION_KEY: key, PORT: String(await freePort()), LOG_LEVEL: 'silent' });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const lines = stderrLines(r.stderr);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /^warden: ENCRYPTION_KEY: secrets in the database are encrypted with key [\w-]{8}, which neither ENCRYPTION_KEY nor SECRET_KEY provides; start with the key they were encrypted with$/);
    }
    const ok = await runCli(['keys', 'reencrypt'], { ...env, ENCRYPTION_KEY: `${K2},${K1}` });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /encrypted with key [\w-]{8}; older ENCRYPTION_KEY entries may be removed/);
    const list = await runCli(['keys', 'list'], { ...env, ENCRYPTION_KEY: K2 });
    assert.equal(list.code, 0, list.stderr);
  });

  const redis = process.env.WARDEN_TEST_REDIS_URL;
  // PGlite belongs to one process: a command cannot run beside a server on it.
  const skip = testPostgresUrl() ? false : 'needs PostgreSQL (two processes on one database)';
  it(`warden keys rotate reaches a running server at once (${redis ? 'Redis' : 'LISTEN/NOTIFY'}), audited with its reason`, { skip, timeout: 180_000 }, async () => {
    const shared = { ...env, ENCRYPTION_KEY: K2, ...(redis ? { REDIS_URL: redis, REDIS_PREFIX: `warden-test-keyscli-${process.pid}:` } : {}) };
    let server: ServerProcess | undefined;
    try {
      server = await startServerProcess({ ...shared, LOG_LEVEL: 'warn' });
      const reg = await fetch(`${server.url}/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'kim', email: 'kim@example.com', password: PASSWORD }) });
      assert.equal(reg.status, 201);
      const kidOfNewToken = async () => {
        const res = await fetch(`${server!.url}/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'password', username: 'kim', password: PASSWORD }) });
        assert.equal(res.status, 200);
        return decodeProtectedHeader(((await res.json()) as { access_token: string }).access_token).kid;
      };
      const before = await kidOfNewToken();
      const r = await runCli(['keys', 'rotate'], shared);
      assert.equal(r.code, 0, r.stderr);
      const kid = /new signing key (\S+)/.exec(r.stdout)?.[1];
      assert.ok(kid && kid !== before, r.stdout);
      const started = performance.now();
      let published = false;
      while (!published && performance.now() - started < 1000) {
        const jwks = (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
        published = jwks.keys.some((k) => k.kid === kid);
        if (!published) await sleep(20);
      }
      assert.ok(published, 'the running server publishes the new key within a second');
      assert.equal(await kidOfNewToken(), kid, 'and signs with it');
      const db = new pg.Client({ connectionString: env.DATABASE_URL });
      await db.connect();
      const { rows } = await db.query(`select actor_id, details from audit_events where type = 'key.rotated'`);
      await db.end();
      assert.deepEqual(
        rows.map((row: { actor_id: string; details: Record<string, unknown> }) => [row.actor_id, row.details.kid, row.details.reason]),
        [['cli', kid, 'manual']],
      );
    } finally {
      await server?.stop();
    }
  });
});
