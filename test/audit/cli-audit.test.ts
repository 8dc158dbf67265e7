import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { freshBackend, ROOT, runCli, wardenCommand } from '../support/process.js';
import { testPostgresUrl } from '../support/template.js';

const PASSWORD = 'correct horse battery staple';

describe('warden audit tail', () => {
  let env: Record<string, string>;
  let dispose: () => Promise<void> = async () => {};
  const postgres = Boolean(testPostgresUrl());
  before(async () => {
    ({ env, dispose } = await freshBackend('audit-cli', { migrated: true }));
    for (const u of ['alpha', 'beta']) {
      const r = await runCli(['user', 'create', '--username', u, '--email', `${u}@example.com`, '--password-stdin'], env, `${PASSWORD}\n`);
      assert.equal(r.code, 0, r.stderr);
    }
    assert.equal((await runCli(['user', 'disable', 'beta'], env)).code, 0);
  });
  after(() => dispose());

  it('prints the latest events oldest first, filtered by --type and cut by --limit', { timeout: 60_000 }, async () => {
    const all = await runCli(['audit', 'tail'], env);
    assert.equal(all.code, 0, all.stderr);
    const lines = all.stdout.trim().split('\n');
    assert.ok(lines.length >= 3);
    assert.match(lines.at(-1)!, /user\.disabled .*actor=cli .*ip=cli/);
    const created = await runCli(['audit', 'tail', '--type', 'user.*', '--limit', '2'], env);
    assert.equal(created.code, 0, created.stderr);
    const l2 = created.stdout.trim().split('\n');
    assert.equal(l2.length, 2);
    assert.match(l2[0]!, /user\.created .*"username":"beta"/);
    assert.match(l2[1]!, /user\.disabled/);
    assert.doesNotMatch(all.stdout, /argon2|correct horse/);
  });

  it('exits 2 with one line on bad input', { timeout: 60_000 }, async () => {
    for (const args of [['--limit', '0'], ['--limit', 'lots'], ['--type', 'DROP TABLE'], ['--surprise']]) {
      const r = await runCli(['audit', 'tail', ...args], env);
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(r.stderr.trim().split('\n').length, 1);
    }
  });

  it('--follow prints new events as they are written and stops cleanly on SIGINT', { timeout: 90_000 }, async () => {
    const child = spawn(process.execPath, wardenCommand('audit', 'tail', '--follow', '--limit', '1'), {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', NODE_ENV: 'test', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const seen = (re: RegExp) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not seen: ${re} in ${out} ${err}`)), 30_000);
        const check = () => {
          if (re.test(out)) {
            clearTimeout(timer);
            resolve();
          }
        };
        child.stdout.on('data', (d) => {
          out += d;
          check();
        });
        check();
      });
    child.stderr.on('data', (d) => (err += d));
    await seen(/user\.disabled/);
    if (postgres) {
      // Another process writes while tail follows (PostgreSQL: many processes share the database).
      assert.equal((await runCli(['user', 'enable', 'beta'], env)).code, 0);
      await seen(/user\.enabled/);
    } else {
      // PGlite belongs to one process: a second command is told so instead of corrupting it.
      const r = await runCli(['user', 'enable', 'beta'], env);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /held by a running Warden/);
    }
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    assert.equal(code, 0, err);
  });
});
