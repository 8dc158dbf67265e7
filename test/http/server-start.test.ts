import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { ManualClock, type Clock } from '../../src/kernel/clock.js';
import { wardenVersion } from '../../src/kernel/config/version.js';
import { startServer, type RunningServer } from '../../src/app/server.js';
import { findUserByUsername } from '../../src/features/users/repository.js';
import { createWarden, type Warden } from '../../src/app/warden.js';
import { registerUser, resetDatabase, STRONG_PASSWORD, testConfig, testDatabase } from '../support/app.js';
import { runCli } from '../support/process.js';

/** Start the server in this process on a fresh copy of the test database; the banner lines are kept. */
async function start(env: Record<string, string> = {}, clock = new ManualClock(Date.now())) {
  const database = await testDatabase();
  const config = testConfig({ PORT: '0', ISSUER: '', ...env });
  const warden = await createWarden(config, { database, clock: clock as Clock, migrate: false });
  const lines: string[] = [];
  const server = await startServer(config, { build: { warden }, print: (l) => lines.push(l) });
  return { server, warden, lines, clock, config };
}

async function stop(s: { server: RunningServer; warden: Warden }) {
  await s.server.close();
  await s.warden.close();
}

function post(url: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString(), redirect: 'manual' });
}

// Issue 17 item 3: a port clash came 7 s in, after DATA_DIR was created, as "listen EADDRINUSE".
describe('an occupied PORT', () => {
  it('stops the start at once with one line naming PORT, before DATA_DIR is created', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    const dir = mkdtempSync(join(tmpdir(), 'warden-port-'));
    try {
      const r = await runCli(['serve'], { PORT: String(port), HOST: '127.0.0.1', DATA_DIR: join(dir, 'data'), DATABASE_URL: '' });
      assert.equal(r.code, 1);
      assert.equal(
        r.stderr.trim(),
        `warden: PORT: port ${port} on 127.0.0.1 is already in use by another program; stop it or choose another port (PORT=${port + 1})`,
      );
      assert.equal(existsSync(join(dir, 'data')), false, 'no data directory was created');
    } finally {
      blocker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Issue 17 item 11: what is served where, on which database, and whether an admin exists.
describe('the start banner', () => {
  before(async () => resetDatabase(await testDatabase()));

  it('says what is served where, the database, and how to make the first admin', async () => {
    const s = await start();
    try {
      const url = s.server.url;
      const port = new URL(url).port;
      assert.equal(url, `http://127.0.0.1:${port}`);
      const setup = s.lines.find((l) => l.includes('/setup?token='))!;
      const token = /token=([\w-]+)$/.exec(setup)![1]!;
      assert.equal(token.length, 43, '32 random bytes');
      assert.deepEqual(s.lines, [
        `Warden ${wardenVersion()} is listening on ${url}`,
        `  API            ${url}  (tokens: POST /token; discovery: /.well-known/openid-configuration)`,
        `  docs           ${url}/docs`,
        `  admin console  ${url}/admin`,
        `  account page   ${url}/account`,
        `  issuer         http://127.0.0.1:0`,
        `  database       embedded (PGlite) in ${s.config.dataDir}`,
        '  shared state   in this process (one instance; set REDIS_URL for several)',
        '  admin          none yet. To create the first one:',
        `    open (on this machine, once, within 15 minutes): ${url}/setup?token=${token}`,
        '    or set BOOTSTRAP_ADMIN_USERNAME, BOOTSTRAP_ADMIN_EMAIL, BOOTSTRAP_ADMIN_PASSWORD and restart',
        '    or stop Warden and run: npx warden user create --username U --email E --role admin',
      ]);
    } finally {
      await stop(s);
    }
  });

  it('names PostgreSQL by host and database, never with its credentials, and names the admins', async () => {
    const { startBanner } = await import('../../src/app/start-banner.js');
    const lines = startBanner({
      version: '1.2.3',
      url: 'http://127.0.0.1:8420',
      config: {
        issuer: 'https://id.example.com',
        DOCS: 'disabled',
        DATABASE_URL: 'postgres://warden:s3cret@db.internal:5433/identity',
        dataDir: '/srv/data',
        REDIS_URL: 'redis://:pw@redis.internal:6379/2',
        REDIS_PREFIX: 'staging:',
      },
      accountPage: true,
      admins: { count: 4, names: ['alice', 'bob', 'carol'] },
    });
    assert.deepEqual(lines, [
      'Warden 1.2.3 is listening on http://127.0.0.1:8420',
      '  API            http://127.0.0.1:8420  (tokens: POST /token; discovery: /.well-known/openid-configuration)',
      '  docs           off (DOCS=disabled)',
      '  admin console  http://127.0.0.1:8420/admin',
      '  account page   http://127.0.0.1:8420/account',
      '  issuer         https://id.example.com',
      '  database       PostgreSQL on db.internal:5433, database identity',
      '  shared state   Redis on redis.internal:6379, database 2, prefix staging:',
      '  admin          alice, bob, carol and 1 more',
    ]);
    assert.doesNotMatch(lines.join('\n'), /s3cret|pw@/);
  });
});

// Issue 17 item 9: no first admin could be made while the server ran.
describe('the first admin', () => {
  before(async () => resetDatabase(await testDatabase()));

  it('comes from a one-time setup link: this machine only, passwords twice, single use', async () => {
    const s = await start();
    try {
      const link = s.lines.find((l) => l.includes('/setup?token='))!.split(': ').pop()!;
      const token = new URL(link).searchParams.get('token')!;
      const setup = `${s.server.url}/setup`;
      assert.equal((await fetch(link)).status, 200);
      assert.equal((await fetch(`${setup}?token=${'x'.repeat(43)}`)).status, 404, 'a wrong token opens nothing');
      assert.equal((await fetch(link, { headers: { 'x-forwarded-for': '203.0.113.7' } })).status, 403, 'relayed by a proxy: not this machine');
      const fields = { token, username: 'root', email: 'root@example.com', password: STRONG_PASSWORD, password_confirm: STRONG_PASSWORD };
      const mismatch = await post(setup, { ...fields, password_confirm: `${STRONG_PASSWORD}!` });
      assert.equal(mismatch.status, 422);
      assert.match(await mismatch.text(), /The two passwords differ/);
      const weak = await post(setup, { ...fields, password: 'short', password_confirm: 'short' });
      assert.equal(weak.status, 422, 'a refused password leaves the link usable');
      const created = await post(setup, fields);
      assert.equal(created.status, 201);
      const root = await findUserByUsername(s.warden.db, 'root');
      assert.deepEqual(root?.roles.slice().sort(), ['admin', 'user']);
      assert.ok(root?.passwordHash.startsWith('$argon2id$'));
      assert.equal((await post(setup, { ...fields, username: 'root2', email: 'root2@example.com' })).status, 410, 'used once');
      assert.equal((await fetch(link)).status, 410);
    } finally {
      await stop(s);
    }
  });

  it('expires the setup link after 15 minutes', async () => {
    await resetDatabase(await testDatabase());
    const s = await start();
    try {
      const link = s.lines.find((l) => l.includes('/setup?token='))!.split(': ').pop()!;
      s.clock.advance(15 * 60_000 - 1);
      assert.equal((await fetch(link)).status, 200);
      s.clock.advance(1);
      assert.equal((await fetch(link)).status, 404);
    } finally {
      await stop(s);
    }
  });

  it('comes from BOOTSTRAP_ADMIN_* while no admin exists, and never changes an existing user', async () => {
    await resetDatabase(await testDatabase());
    const env = { BOOTSTRAP_ADMIN_USERNAME: 'boot', BOOTSTRAP_ADMIN_EMAIL: 'boot@example.com', BOOTSTRAP_ADMIN_PASSWORD: STRONG_PASSWORD };
    const first = await start(env);
    try {
      assert.ok(first.lines.includes('  admin          boot created from BOOTSTRAP_ADMIN_* (remove BOOTSTRAP_ADMIN_PASSWORD now)'), first.lines.join('\n'));
      assert.equal(first.lines.some((l) => l.includes('/setup?token=')), false, 'no setup link once an admin exists');
      assert.doesNotMatch(first.lines.join('\n'), /correct horse/);
      assert.deepEqual((await findUserByUsername(first.warden.db, 'boot'))?.roles.slice().sort(), ['admin', 'user']);
    } finally {
      await stop(first);
    }
    // Restarted with the variables still set: the admin exists, nothing is touched.
    const hashBefore = (await findUserByUsername((await testDatabase()).db, 'boot'))!.passwordHash;
    const second = await start({ ...env, BOOTSTRAP_ADMIN_PASSWORD: 'another password entirely' });
    try {
      assert.ok(second.lines.includes('  admin          boot'));
      assert.equal((await findUserByUsername(second.warden.db, 'boot'))!.passwordHash, hashBefore);
    } finally {
      await stop(second);
    }
  });

  it('leaves an existing non-admin user of the bootstrap name as it is', async () => {
    await resetDatabase(await testDatabase());
    const s0 = await start();
    const plain = await registerUser(s0.server.app, 'boot');
    await stop(s0);
    const s = await start({ BOOTSTRAP_ADMIN_USERNAME: 'boot', BOOTSTRAP_ADMIN_EMAIL: 'other@example.com', BOOTSTRAP_ADMIN_PASSWORD: STRONG_PASSWORD });
    try {
      assert.ok(s.lines.includes('    BOOTSTRAP_ADMIN_USERNAME: a user "boot" already exists and was left unchanged'), s.lines.join('\n'));
      assert.deepEqual((await findUserByUsername(s.warden.db, 'boot'))?.roles, plain.roles);
    } finally {
      await stop(s);
    }
  });
});
