import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import bcrypt from '@node-rs/bcrypt';
import { HashThreads, type HashJob } from '../../src/features/users/hash-threads.js';
import { BCRYPT_MAX_COST, PasswordHasher } from '../../src/features/users/password-hasher.js';
import { users } from '../../src/features/users/tables.js';
import { createTestApp, passwordLogin, registerUser, type TestApp } from '../support/app.js';

const costOf = (stored: string) => (/^\$2[aby]\$(\d\d)\$/.exec(stored) ? `bcrypt:${Number(stored.slice(4, 6))}` : 'argon2');

/** Real hashing threads, with every job written down as "what it checks, then its padding". */
class Recorder extends HashThreads {
  jobs: string[] = [];
  override run(job: HashJob) {
    if (job.op !== 'hash') this.jobs.push([costOf(job.stored), ...(job.pad ?? []).map((p) => costOf(p.stored))].join(' + '));
    return super.run(job);
  }
}

/**
 * Issue 13 item 14: a wrong password costs one argon2id check and one bcrypt check at the highest
 * stored cost, whatever is stored, and a right one is not padded. Asserted on the jobs the hashing
 * threads run (and the padding they report having run), never on wall-clock time.
 */
describe('failed password checks cost what the slowest stored kind costs', () => {
  const threads = new Recorder();
  const hasher = new PasswordHasher({ concurrency: 2, queueLimit: 10, memoryKib: 8192, iterations: 1 }, threads);
  let argon: string;
  const bcrypt5 = bcrypt.hashSync('right password', 5);
  const bcrypt4 = bcrypt.hashSync('right password', 4);
  before(async () => {
    argon = await hasher.hash('right password');
  });
  after(() => hasher.close());

  async function jobsOf(check: () => Promise<unknown>) {
    threads.jobs = [];
    const padded = threads.padded;
    await check();
    return { jobs: threads.jobs, padded: threads.padded - padded };
  }

  it('without bcrypt hashes stored, nothing is padded: argon2id is the slowest kind', async () => {
    assert.equal(hasher.slowestStoredBcryptCost, undefined);
    assert.deepEqual(await jobsOf(() => hasher.verify(undefined, 'guess')), { jobs: ['argon2'], padded: 0 });
    assert.deepEqual(await jobsOf(() => hasher.verify(argon, 'guess')), { jobs: ['argon2'], padded: 0 });
  });

  it('with bcrypt at cost 5 stored: an unknown user and a wrong argon2id password each add a cost-5 bcrypt check', async () => {
    hasher.slowestStoredBcryptCost = 5;
    assert.deepEqual(await jobsOf(() => hasher.verify(undefined, 'guess')), { jobs: ['argon2 + bcrypt:5'], padded: 1 });
    const wrong = await jobsOf(() => hasher.verify(argon, 'guess'));
    assert.deepEqual(wrong, { jobs: ['argon2 + bcrypt:5'], padded: 1 });
    // The bcrypt account itself: its own check, padded with the argon2id one.
    assert.deepEqual(await jobsOf(() => hasher.verify(bcrypt5, 'guess')), { jobs: ['bcrypt:5 + argon2'], padded: 1 });
    // A lower-cost bcrypt account pays the highest cost too (and its own on top).
    assert.deepEqual(await jobsOf(() => hasher.verify(bcrypt4, 'guess')), { jobs: ['bcrypt:4 + argon2 + bcrypt:5'], padded: 2 });
  });

  it('a right password is not padded: the padding runs only after a mismatch', async () => {
    hasher.slowestStoredBcryptCost = 5;
    const ok = await jobsOf(async () => assert.equal((await hasher.verify(argon, 'right password')).ok, true));
    assert.deepEqual(ok, { jobs: ['argon2 + bcrypt:5'], padded: 0 });
    assert.equal((await hasher.verify(bcrypt5, 'right password')).ok, true);
  });

  it('meeting a higher cost raises the padding at once; a cost above BCRYPT_MAX_COST is never checked', async () => {
    hasher.slowestStoredBcryptCost = 4;
    await hasher.verify(bcrypt5, 'guess');
    assert.equal(hasher.slowestStoredBcryptCost, 5);
    const tooDear = `$2b$${BCRYPT_MAX_COST + 1}${bcrypt5.slice(6)}`;
    const res = await jobsOf(async () => assert.equal((await hasher.verify(tooDear, 'right password')).ok, false));
    assert.deepEqual(res, { jobs: ['argon2 + bcrypt:5'], padded: 1 }, 'treated like an unknown user');
    hasher.slowestStoredBcryptCost = 31;
    assert.equal(hasher.slowestStoredBcryptCost, BCRYPT_MAX_COST);
  });
});

describe('the login learns the highest stored bcrypt cost from the database', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ env: { ARGON2_MEMORY_KIB: '8192', ARGON2_ITERATIONS: '1' } });
  });
  after(() => t.close());

  it('an imported cost-6 bcrypt account pads an unknown user\'s login; once rehashed away, the padding goes', async () => {
    await registerUser(t.app, 'plain');
    assert.equal((await passwordLogin(t.app, 'nobody', 'guess')).statusCode, 400);
    assert.equal(t.warden.hasher.slowestStoredBcryptCost, undefined);

    const imported = await registerUser(t.app, 'legacy');
    const { eq } = await import('drizzle-orm');
    await t.warden.db.update(users).set({ passwordHash: bcrypt.hashSync('legacy password', 6) }).where(eq(users.id, imported.id));
    t.clock.advance(5 * 60_000 + 1);
    assert.equal((await passwordLogin(t.app, 'nobody', 'guess')).statusCode, 400);
    assert.equal(t.warden.hasher.slowestStoredBcryptCost, 6);

    // The legacy user signs in: the hash becomes argon2id; the next read finds no bcrypt left.
    assert.equal((await passwordLogin(t.app, 'legacy', 'legacy password')).statusCode, 200);
    t.clock.advance(5 * 60_000 + 1);
    assert.equal((await passwordLogin(t.app, 'nobody', 'guess')).statusCode, 400);
    assert.equal(t.warden.hasher.slowestStoredBcryptCost, undefined);
  });
});
