import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DataDirInUseError, lockDataDir, openDatabase, tryLockDataDir } from '../../src/kernel/storage/database.js';
import { ROOT } from '../support/process.js';

const HOLDER = join(ROOT, 'test/support/hold-data-dir.ts');
const work = mkdtempSync(join(process.env.WARDEN_TEST_TMP ?? tmpdir(), 'data-dir-lock-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

/** Start the holder script; resolves with the child and its first line of output. */
function holder(args: string[]): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', HOLDER, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    child.stdout!.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl !== -1) resolve({ child, line: out.slice(0, nl) });
    });
    child.on('exit', (code) => reject(new Error(`holder exited (${code}) before a line: ${err}`)));
  });
}

async function killed(child: ChildProcess) {
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await gone;
}

const LOCK = 'warden.lock';
/** As if its holder had not refreshed it for a minute. */
const age = (dir: string) => {
  const past = new Date(Date.now() - 60_000);
  utimesSync(join(dir, LOCK), past, past);
};

// Each test has its own directory; run side by side, the two that wait for a lock to go stale (20 s) wait together.
describe('the PGlite data dir lock', { concurrency: true }, () => {
  it('refuses a second process while one holds the data dir, naming the admin API; a kill -9 leaves a lock that is taken over once stale', { timeout: 180_000 }, async () => {
    const dir = join(work, 'two');
    const { child, line } = await holder(['open', dir]);
    assert.equal(line, 'held');
    await assert.rejects(openDatabase({ dataDir: dir }), (e: Error) => {
      assert.ok(e instanceof DataDirInUseError);
      assert.match(e.message, /held by a running Warden \(lock .*warden\.lock\); use the admin API/);
      return true;
    });
    await killed(child);
    // The holder died without releasing: its lock is left, no longer refreshed.
    assert.ok(statSync(join(dir, LOCK)).isDirectory());
    age(dir);
    const db = await openDatabase({ dataDir: dir });
    await db.migrate();
    await db.close();
  });

  it('after a kill -9, a new start waits for the dead holder\'s lock to go stale and takes it over (no manual clean-up)', { timeout: 120_000 }, async () => {
    const dir = join(work, 'wait');
    mkdirSync(dir, { recursive: true });
    const { child, line } = await holder(['lock', dir, '0']);
    assert.equal(line, 'got');
    await killed(child);
    const lines: string[] = [];
    const started = Date.now();
    const release = await lockDataDir(dir, (l) => lines.push(l));
    assert.ok(Date.now() - started < 25_000);
    assert.match(lines.join('\n'), /stopped without releasing it; taking the lock over/);
    await release();
  });

  it('of several processes racing for a stale lock, exactly one takes it', { timeout: 120_000 }, async () => {
    const dir = join(work, 'race');
    mkdirSync(dir, { recursive: true });
    const first = await holder(['lock', dir, '0']);
    assert.equal(first.line, 'got');
    await killed(first.child);
    age(dir);
    const startAt = Date.now() + 4000;
    const results = await Promise.all(Array.from({ length: 4 }, () => holder(['lock', dir, String(startAt)])));
    assert.deepEqual(results.map((r) => r.line).sort(), ['got', 'refused', 'refused', 'refused']);
  });

  it('of several takers racing for a stale lock at the same moment, exactly one takes it (thirty rounds)', { timeout: 120_000 }, async () => {
    // proper-lockfile alone: two takers that both saw the stale lock may each remove it and make their own.
    for (let round = 0; round < 30; round++) {
      const dir = join(work, `round-${round}`);
      mkdirSync(join(dir, LOCK), { recursive: true });
      age(dir);
      const taken = (await Promise.all(Array.from({ length: 8 }, () => tryLockDataDir(dir)))).filter((r) => r !== undefined);
      assert.equal(taken.length, 1, `round ${round}: ${taken.length} takers hold the lock`);
      await taken[0]!();
    }
  });
});
