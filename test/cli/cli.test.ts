import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { verify as argon2Verify } from '@node-rs/argon2';
import { promptNewPassword, UsageError } from '../../src/cli/command.js';
import { openDatabase } from '../../src/kernel/storage/database.js';
import { findUserByUsername } from '../../src/features/users/repository.js';
import { freshBackend, runCli, startServerProcess, ROOT } from '../support/process.js';

const PASSWORD = 'correct horse battery staple';

/** The CLI against the backend under test: a fresh PGlite data dir, or a fresh PostgreSQL database. */
describe('warden CLI', () => {
  let env: Record<string, string>;
  let dir: string;
  let dispose: () => Promise<void> = async () => {};
  before(async () => {
    ({ env, dir, dispose } = await freshBackend('cli'));
  });
  after(() => dispose());

  it('migrate applies migrations', { timeout: 60_000 }, async () => {
    const r = await runCli(['migrate'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /migrations applied/);
  });

  it('user create --password-stdin makes an admin who can log in', { timeout: 60_000 }, async () => {
    const r = await runCli(['user', 'create', '--username', 'root', '--email', 'root@example.com', '--role', 'admin', '--password-stdin'], env, `${PASSWORD}\n`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /created user root .* with roles admin/);
  });

  it('exits non-zero with one line on bad input', { timeout: 60_000 }, async () => {
    const cases: [string[], RegExp, string?][] = [
      [['user', 'create', '--email', 'x@example.com', '--password-stdin'], /--username is required/],
      [['user', 'create', '--username', 'xone', '--email', 'nope', '--password-stdin'], /--email/],
      [['user', 'create', '--username', 'weak', '--email', 'w@example.com', '--password-stdin'], /password/, 'short\n'],
      [['user', 'create', '--username', 'rrr', '--email', 'r@example.com', '--role', 'god', '--password-stdin'], /unknown role "god"/],
      [['user', 'create', '--username', 'root', '--email', 'other@example.com', '--password-stdin'], /username/, `${PASSWORD}\n`],
      [['user', 'set-roles', 'nobody', '--role', 'admin'], /no user "nobody"/],
      [['user', 'create', '--bogus'], /Unknown option/],
      [['frobnicate'], /unknown command/],
    ];
    for (const [args, message, input] of cases) {
      const r = await runCli(args, env, input);
      assert.notEqual(r.code, 0, args.join(' '));
      const lines = r.stderr.trim().split('\n').filter((l) => !/ExperimentalWarning|FSTDEP|trace-warnings|nodedir/.test(l));
      assert.equal(lines.length, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(lines[0]!, message, args.join(' '));
      assert.match(lines[0]!, /^warden: /);
    }
  });

  it('user import is all-or-nothing, names a bad line, and imported bcrypt users log in (rehashed)', { timeout: 120_000 }, async () => {
    const bcrypt = await bcryptHash('imported password 1', 4);
    const good = (n: number) => JSON.stringify({ username: `imp${n}`, email: `imp${n}@example.com`, full_name: `Imported ${n}`, hashed_password: bcrypt, disabled: false, roles: ['user'] });
    const badFile = join(dir, 'bad.jsonl');
    writeFileSync(badFile, [good(1), good(2), JSON.stringify({ username: 'imp3', email: 'not-an-email', hashed_password: bcrypt })].join('\n'));
    const bad = await runCli(['user', 'import', '--file', badFile], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /line 3: email/);

    const dupFile = join(dir, 'dup.jsonl');
    writeFileSync(dupFile, [good(1), good(2), good(1)].join('\n'));
    assert.match((await runCli(['user', 'import', '--file', dupFile], env)).stderr, /line 3: username repeats line 1/);

    const clashFile = join(dir, 'clash.jsonl');
    writeFileSync(clashFile, [good(1), JSON.stringify({ username: 'root', email: 'root2@example.com', hashed_password: bcrypt })].join('\n'));
    const clash = await runCli(['user', 'import', '--file', clashFile], env);
    assert.notEqual(clash.code, 0);
    assert.match(clash.stderr, /line 2: .*nothing was imported/);

    const okFile = join(dir, 'ok.jsonl');
    writeFileSync(okFile, [good(1), '', good(2)].join('\n'));
    const ok = await runCli(['user', 'import', '--file', okFile], env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /imported 2 users/);

    const server = await startServerProcess(env);
    try {
      const res = await fetch(`${server.url}/token`, { method: 'POST', body: new URLSearchParams({ username: 'imp1', password: 'imported password 1' }) });
      assert.equal(res.status, 200);
      // imp1 from the failed all-or-nothing imports must not exist twice; imp3 must not exist at all.
      const none = await fetch(`${server.url}/token`, { method: 'POST', body: new URLSearchParams({ username: 'imp3', password: 'imported password 1' }) });
      assert.equal(none.status, 400);
      if (!env.DATABASE_URL) {
        // While the server holds the embedded database, a command says so and points to the admin API.
        const busy = await runCli(['user', 'disable', 'imp2'], env);
        assert.equal(busy.code, 1);
        assert.match(busy.stderr, /held by a running Warden .*admin API/);
      }
    } finally {
      await server.stop();
    }
  });

  it('user set-roles, disable and enable', { timeout: 60_000 }, async () => {
    const roles = await runCli(['user', 'set-roles', 'imp2', '--role', 'admin,user'], env);
    assert.equal(roles.code, 0, roles.stderr);
    assert.match(roles.stdout, /imp2: roles admin,user/);
    assert.equal((await runCli(['user', 'disable', 'imp2'], env)).code, 0);
    assert.equal((await runCli(['user', 'enable', 'imp2@example.com'], env)).code, 0);
  });

  it('keys rotate makes a new signing key', { timeout: 60_000 }, async () => {
    const r = await runCli(['keys', 'rotate'], env);
    assert.equal(r.code, 0, r.stderr);
    const list = await runCli(['keys', 'list'], env);
    assert.match(list.stdout, /active/);
    assert.match(list.stdout, /retiring/);
  });
});

// Issue 17 item 10: `warden user create --help` was an error; no --version; no list, set-password, delete.
describe('warden help, version and the user commands', () => {
  it('--help works for every command, and --version prints the version', { timeout: 180_000 }, async () => {
    const top = await runCli(['--help'], {});
    assert.equal(top.code, 0, top.stderr);
    const names = top.stdout
      .split('\n')
      .filter((l) => /^ {2}\S/.test(l))
      .map((l) => l.trim().split(/\s{2,}/)[0]!);
    for (const expected of ['user list', 'user set-password', 'user delete', 'user create', 'serve']) assert.ok(names.includes(expected), expected);
    for (const name of names) {
      const r = await runCli([...name.split(' '), '--help'], {});
      assert.equal(r.code, 0, `${name} --help: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^usage: warden ${name}`), name);
    }
    const version = await runCli(['--version'], {});
    assert.equal(version.code, 0);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(version.stdout.trim(), pkg.version);
  });

  it('the password prompt asks twice and refuses a mismatch', async () => {
    const answers = (...a: string[]) => {
      const asked: string[] = [];
      return { asked, ask: async (q: string) => (asked.push(q), a.shift()!) };
    };
    const same = answers('correct horse', 'correct horse');
    assert.equal(await promptNewPassword(same.ask), 'correct horse');
    assert.deepEqual(same.asked, ['Password: ', 'Password again: ']);
    await assert.rejects(promptNewPassword(answers('correct horse', 'correct hoarse').ask), (e: unknown) => e instanceof UsageError && e.message === 'the two passwords differ; nothing was changed');
  });

  describe('user list, set-password and delete', () => {
    let env: Record<string, string>;
    let dispose: () => Promise<void> = async () => {};
    before(async () => {
      ({ env, dispose } = await freshBackend('cliusers', { migrated: true }));
    });
    after(() => dispose());

    it('lists, sets a password and deletes', { timeout: 240_000 }, async () => {
      const created = await runCli(['user', 'create', '--username', 'carol', '--email', 'carol@example.com', '--role', 'admin,user', '--password-stdin'], env, `${PASSWORD}\n`);
      assert.equal(created.code, 0, created.stderr);
      const list = await runCli(['user', 'list'], env);
      assert.equal(list.code, 0, list.stderr);
      const [head, row] = list.stdout.trim().split('\n');
      assert.match(head!, /^USERNAME +EMAIL +ROLES +STATE +CREATED$/);
      assert.match(row!, /^carol +carol@example\.com +admin,user +active +\d{4}-\d\d-\d\d$/);

      const weak = await runCli(['user', 'set-password', 'carol', '--password-stdin'], env, 'short\n');
      assert.equal(weak.code, 2);
      assert.match(weak.stderr, /^warden: password /);
      const set = await runCli(['user', 'set-password', 'carol@example.com', '--password-stdin'], env, 'a brand new passphrase\n');
      assert.equal(set.code, 0, set.stderr);
      assert.equal(set.stdout.trim(), 'carol: password set; their sessions were ended');
      const database = await openDatabase({ databaseUrl: env.DATABASE_URL, dataDir: env.DATA_DIR, allowExitOnIdle: true });
      try {
        const carol = await findUserByUsername(database.db, 'carol');
        assert.equal(await argon2Verify(carol!.passwordHash, 'a brand new passphrase'), true, 'the new password is stored');
      } finally {
        await database.close();
      }

      const unconfirmed = await runCli(['user', 'delete', 'carol'], env);
      assert.equal(unconfirmed.code, 2);
      assert.equal(unconfirmed.stderr.trim(), 'warden: deleting cannot be undone: add --yes to confirm (usage: warden user delete <username|email> --yes)');
      const deleted = await runCli(['user', 'delete', 'carol', '--yes'], env);
      assert.equal(deleted.code, 0, deleted.stderr);
      assert.equal(deleted.stdout.trim(), 'carol deleted');
      assert.equal((await runCli(['user', 'list'], env)).stdout.trim(), 'USERNAME  EMAIL  ROLES  STATE  CREATED');
      assert.match((await runCli(['user', 'delete', 'carol', '--yes'], env)).stderr, /no user "carol"/);
    });
  });
});
