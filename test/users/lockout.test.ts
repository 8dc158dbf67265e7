import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { ManualClock } from '../../src/kernel/clock.js';
import { MemoryStateStore } from '../../src/kernel/storage/state/memory.js';
import { auditEvents } from '../../src/features/audit/tables.js';
import { MAX_ATTEMPTS_PER_HOUR } from '../../src/features/users/lockout.js';
import { bearer, createAdmin, createTestApp, passwordLogin, registerUser, resetDatabase, STRONG_PASSWORD, testDatabase, type TestApp } from '../support/app.js';

const WRONG = 'not the password at all';
const MIN = 60_000;

async function events(t: TestApp, type: string, subjectId?: string) {
  const rows = await t.warden.db
    .select()
    .from(auditEvents)
    .where(subjectId ? and(eq(auditEvents.type, type), eq(auditEvents.subjectId, subjectId)) : eq(auditEvents.type, type))
    .orderBy(auditEvents.id);
  return rows;
}

/** The exact answer of a wrong password: status and body, which a locked account must reproduce. */
async function wrongPasswordAnswer(t: TestApp) {
  const res = await passwordLogin(t.app, 'nobody-at-all', WRONG);
  return { status: res.statusCode, body: res.body };
}

describe('account lockout (LOCKOUT_THRESHOLD=4, LOCKOUT_MINUTES=15)', () => {
  let t: TestApp;
  let reference: { status: number; body: string };
  let alice: { id: string };
  before(async () => {
    t = await createTestApp({ env: { LOCKOUT_THRESHOLD: '4', LOCKOUT_MINUTES: '15', ARGON2_MEMORY_KIB: '8192', ARGON2_ITERATIONS: '1' } });
  });
  after(() => t.close());
  beforeEach(async () => {
    await resetDatabase(await testDatabase());
    await t.warden.keys.init();
    (t.warden.state as MemoryStateStore).sweep();
    t.clock.advance(48 * 3600_000); // forget every counter of the previous test
    alice = await registerUser(t.app, 'alice');
    reference = await wrongPasswordAnswer(t);
  });

  /** Fail `n` times, letting each pause (the slowdown) pass first so every attempt is really checked. */
  async function fail(n: number, login = 'alice') {
    for (let i = 0; i < n; i++) {
      const res = await passwordLogin(t.app, login, WRONG);
      assert.equal(res.statusCode, 400);
      t.clock.advance(MIN);
    }
  }

  it('locks after the threshold: the right password then gets exactly the wrong-password answer', async () => {
    await fail(4);
    const locked = await passwordLogin(t.app, 'alice', STRONG_PASSWORD);
    assert.deepEqual({ status: locked.statusCode, body: locked.body }, reference);
    const audited = await events(t, 'account.locked', alice.id);
    assert.equal(audited.length, 1);
    assert.equal(audited[0]!.flagged, true);
    assert.equal((audited[0]!.details as { minutes: number }).minutes, 15);
    assert.equal(await t.warden.lockout.isLocked({ id: alice.id, username: 'alice', email: 'alice@example.com' }), true);
  });

  it('does not lock one failure short of the threshold', async () => {
    await fail(3);
    const ok = await passwordLogin(t.app, 'alice', STRONG_PASSWORD);
    assert.equal(ok.statusCode, 200);
  });

  it('slows attempts from half the threshold on: a retry inside the pause is refused like a wrong password', async () => {
    await passwordLogin(t.app, 'alice', WRONG);
    t.clock.advance(MIN);
    await passwordLogin(t.app, 'alice', WRONG); // 2nd failure = half of 4: 1 s pause
    const early = await passwordLogin(t.app, 'alice', STRONG_PASSWORD);
    assert.deepEqual({ status: early.statusCode, body: early.body }, reference);
    t.clock.advance(1001);
    assert.equal((await passwordLogin(t.app, 'alice', STRONG_PASSWORD)).statusCode, 200);
  });

  it('the lock ends after LOCKOUT_MINUTES; a further failure locks again for twice as long', async () => {
    await fail(4); // the lock started one minute ago
    t.clock.advance(13 * MIN);
    assert.equal((await passwordLogin(t.app, 'alice', STRONG_PASSWORD)).statusCode, 400, 'still locked at 14 minutes');
    t.clock.advance(2 * MIN);
    // The lock is over: one more wrong guess locks for 30 minutes.
    assert.equal((await passwordLogin(t.app, 'alice', WRONG)).statusCode, 400);
    const second = await events(t, 'account.locked', alice.id);
    assert.equal(second.length, 2);
    assert.equal((second[1]!.details as { minutes: number }).minutes, 30);
    t.clock.advance(29 * MIN);
    assert.equal((await passwordLogin(t.app, 'alice', STRONG_PASSWORD)).statusCode, 400, 'locked for 30 minutes');
    t.clock.advance(2 * MIN);
    assert.equal((await passwordLogin(t.app, 'alice', STRONG_PASSWORD)).statusCode, 200, 'the right password after the lock');
  });

  it('a successful login resets the count', async () => {
    await fail(3);
    assert.equal((await passwordLogin(t.app, 'alice', STRONG_PASSWORD)).statusCode, 200);
    await fail(3);
    assert.equal((await passwordLogin(t.app, 'alice', STRONG_PASSWORD)).statusCode, 200);
  });

  it('counts the account, not the spelling: username, e-mail and case variants share one budget', async () => {
    for (const login of ['alice', 'alice@example.com', 'ALICE', 'Alice@Example.com']) await fail(1, login);
    const res = await passwordLogin(t.app, 'alice@example.com', STRONG_PASSWORD);
    assert.deepEqual({ status: res.statusCode, body: res.body }, reference);
  });

  it('locks unknown logins the same way, so a lock reveals nothing about existence', async () => {
    await fail(4, 'ghost');
    const audited = await events(t, 'account.locked');
    assert.equal(audited.length, 1);
    assert.equal(audited[0]!.subjectId, null);
    const res = await passwordLogin(t.app, 'ghost', WRONG);
    assert.deepEqual({ status: res.statusCode, body: res.body }, reference);
  });

  it('an admin unlocks the account (audited); a non-admin may not', async () => {
    const admin = await createAdmin(t);
    const bob = await registerUser(t.app, 'bob');
    const bobTokens = await passwordLogin(t.app, 'bob');
    await fail(4);
    const refused = await t.app.inject({ method: 'POST', url: `/admin/users/${alice.id}/unlock`, headers: bearer(bobTokens.json().access_token) });
    assert.equal(refused.statusCode, 403);
    const res = await t.app.inject({ method: 'POST', url: `/admin/users/${alice.id}/unlock`, headers: bearer(admin.access_token) });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { was_locked: true });
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal((await passwordLogin(t.app, 'alice', STRONG_PASSWORD)).statusCode, 200);
    const audited = await events(t, 'account.unlocked', alice.id);
    assert.equal(audited.length, 1);
    assert.equal(audited[0]!.actorId, admin.id);
    assert.ok(bob.id);
    const missing = await t.app.inject({ method: 'POST', url: '/admin/users/00000000-0000-4000-8000-000000000000/unlock', headers: bearer(admin.access_token) });
    assert.equal(missing.statusCode, 404);
  });

  it('counts in the metrics', async () => {
    await fail(4);
    await passwordLogin(t.app, 'alice', STRONG_PASSWORD);
    const m = t.warden.metrics;
    assert.ok(((await m.accountsLocked.get()).values[0]?.value ?? 0) >= 1);
    assert.ok(((await m.lockedOut.get()).values[0]?.value ?? 0) >= 1);
  });
});

describe('account lockout under concurrency', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ env: { LOCKOUT_THRESHOLD: '10', ARGON2_MEMORY_KIB: '8192', ARGON2_ITERATIONS: '1' } });
  });
  after(() => t.close());

  it('100 concurrent wrong guesses: at most LOCKOUT_THRESHOLD reach the password check', async () => {
    const carol = await registerUser(t.app, 'carol');
    const answers = await Promise.all(Array.from({ length: 100 }, () => passwordLogin(t.app, 'carol', WRONG)));
    assert.ok(answers.every((r) => r.statusCode === 400));
    assert.equal(new Set(answers.map((r) => r.body)).size, 1, 'every answer is identical');
    // login.failed is written only for attempts whose password was checked. Not always exactly 10:
    // once half the threshold has failed, the slow-down pause refuses the attempts still arriving
    // (regression: on PostgreSQL under CI load only 6 arrived in time, and "exactly 10" failed).
    const checked = await events(t, 'login.failed', carol.id);
    assert.ok(checked.length >= 1 && checked.length <= 10, `${checked.length} passwords were checked`);
    // All ten reservations checked and failed: the account locks (once). Fewer: the slow-down pause holds
    // it instead. Either way the right password is refused now.
    assert.equal((await events(t, 'account.locked', carol.id)).length, checked.length === 10 ? 1 : 0);
    assert.equal((await passwordLogin(t.app, 'carol', STRONG_PASSWORD)).statusCode, 400);
  });
});

describe(`ASVS: at most ${MAX_ATTEMPTS_PER_HOUR} attempts per hour per account, whatever the threshold`, () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ env: { LOCKOUT_THRESHOLD: '1000', ARGON2_MEMORY_KIB: '8192', ARGON2_ITERATIONS: '1' } });
  });
  after(() => t.close());

  it('refuses the attempt after the hundredth in the hour, then allows again the next hour', async () => {
    await registerUser(t.app, 'dave');
    for (let i = 0; i < MAX_ATTEMPTS_PER_HOUR; i++) {
      await passwordLogin(t.app, 'dave', WRONG);
      t.clock.advance(1000);
    }
    assert.equal((await passwordLogin(t.app, 'dave', STRONG_PASSWORD)).statusCode, 400);
    t.clock.advance(3600_000);
    assert.equal((await passwordLogin(t.app, 'dave', STRONG_PASSWORD)).statusCode, 200);
  });
});

describe('account lockout fails closed', () => {
  class FlakyStore extends MemoryStateStore {
    up = true;
    override healthy() {
      return this.up;
    }
  }
  let t: TestApp;
  let state: FlakyStore;
  before(async () => {
    const clock = new ManualClock(Date.now());
    state = new FlakyStore(clock);
    t = await createTestApp({ clock, state, env: { ARGON2_MEMORY_KIB: '8192', ARGON2_ITERATIONS: '1' } });
  });
  after(async () => {
    await t.close();
    await state.close();
  });

  // Issue 17 item 1: refused as an outage (503), not as a wrong password.
  it('refuses even the right password while the state store is unhealthy, with 503 temporarily_unavailable', async () => {
    await registerUser(t.app, 'erin');
    state.up = false;
    const res = await passwordLogin(t.app, 'erin', STRONG_PASSWORD);
    assert.equal(res.statusCode, 503);
    assert.equal(res.json().error, 'temporarily_unavailable');
    state.up = true;
    assert.equal((await passwordLogin(t.app, 'erin', STRONG_PASSWORD)).statusCode, 200);
  });
});
