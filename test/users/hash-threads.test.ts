import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { Algorithm, verify } from '@node-rs/argon2';
import { HashThreads } from '../../src/features/users/hash-threads.js';
import { PasswordHasher } from '../../src/features/users/password-hasher.js';

const params = { algorithm: Algorithm.Argon2id, memoryCost: 8192, timeCost: 1, parallelism: 1 };

describe('hashing threads', () => {
  it('hash, verify and bcrypt run on threads and give the same answers as the library', async () => {
    const threads = new HashThreads();
    try {
      const hashed = await threads.run({ op: 'hash', password: 'pässword', params });
      assert.equal(typeof hashed, 'string');
      assert.match(String(hashed), /^\$argon2id\$v=19\$m=8192,t=1,p=1\$/);
      assert.equal(await verify(String(hashed), 'pässword'), true);
      assert.equal(await threads.run({ op: 'verify', stored: String(hashed), password: 'pässword' }), true);
      assert.equal(await threads.run({ op: 'verify', stored: String(hashed), password: 'wrong' }), false);
      // A malformed stored hash is a failed check, not an error.
      assert.equal(await threads.run({ op: 'verify', stored: '$argon2id$garbage', password: 'x' }), false);
      const b = await bcryptHash('imported', 4);
      assert.equal(await threads.run({ op: 'bcrypt', stored: b, password: 'imported' }), true);
      assert.equal(await threads.run({ op: 'bcrypt', stored: b, password: 'other' }), false);
    } finally {
      await threads.close();
    }
    assert.equal(threads.size, 0);
  });

  it('runs at the lowest CPU priority on Linux, so hashing yields to the event loop', async (t) => {
    if (!existsSync('/proc/thread-self')) return t.skip('no /proc/thread-self: not Linux');
    const threads = new HashThreads();
    const niceOf = (tid: string) => {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    };
    const niced = () => readdirSync('/proc/self/task').filter((tid) => niceOf(tid) === 19).length;
    const before = niced();
    try {
      await Promise.all([1, 2].map((i) => threads.run({ op: 'hash', password: `p${i}`, params })));
      assert.equal(niced() - before, 2, 'both hashing threads run at nice 19');
      assert.equal(niceOf(String(process.pid)), 0, 'the event loop keeps its priority');
    } finally {
      await threads.close();
    }
  });

  it('runs as many hashes at once as it is given, each on its own thread', async () => {
    const threads = new HashThreads();
    try {
      await Promise.all(Array.from({ length: 3 }, (_, i) => threads.run({ op: 'hash', password: `p${i}`, params })));
      assert.equal(threads.size, 3);
      // Finished threads are reused, not multiplied.
      await Promise.all(Array.from({ length: 3 }, (_, i) => threads.run({ op: 'hash', password: `q${i}`, params })));
      assert.equal(threads.size, 3);
    } finally {
      await threads.close();
    }
  });

  it('stops a thread that had no work for the idle time, and starts one again when work comes', async () => {
    const threads = new HashThreads(50);
    try {
      await threads.run({ op: 'hash', password: 'p', params });
      assert.equal(threads.size, 1);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(threads.size, 0);
      assert.equal(typeof (await threads.run({ op: 'hash', password: 'q', params })), 'string');
      assert.equal(threads.size, 1);
    } finally {
      await threads.close();
    }
  });

  it('an unknown user costs a full verification against a dummy hash, and a closed hasher refuses work', async () => {
    const hasher = new PasswordHasher({ concurrency: 2, queueLimit: 4, memoryKib: 8192, iterations: 1 });
    assert.deepEqual(await hasher.verify(undefined, 'anything'), { ok: false, needsRehash: false });
    const stored = await hasher.hash('secret words here');
    assert.deepEqual(await hasher.verify(stored, 'secret words here'), { ok: true, needsRehash: false });
    await hasher.close();
    await assert.rejects(hasher.hash('x'), /closed/);
  });
});
