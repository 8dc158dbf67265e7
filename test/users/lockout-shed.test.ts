import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, passwordLogin, registerUser, STRONG_PASSWORD, type TestApp } from '../support/app.js';

/**
 * A login shed with 503 (hasher saturated, no queue) checked no password, so it must not count toward
 * the account's lockout: otherwise a flood against the server locks its users out without a guess.
 */
describe('lockout: shed logins do not count', () => {
  let t: TestApp;
  before(async () => {
    // One hashing slot, no queue; hashes slow enough that the slot is still taken when the login arrives.
    t = await createTestApp({ env: { LOCKOUT_THRESHOLD: '3', HASH_CONCURRENCY: '1', HASH_QUEUE: '0', ARGON2_MEMORY_KIB: '65536', ARGON2_ITERATIONS: '4' } });
    await registerUser(t.app, 'erin');
  });
  after(() => t.close());

  it('five 503 answers leave the account open for the right password', async () => {
    for (let i = 0; i < 5; i++) {
      const busy = t.warden.hasher.hash('occupies the only slot');
      const res = await passwordLogin(t.app, 'erin', 'wrong password number ' + i);
      await busy;
      assert.equal(res.statusCode, 503, `attempt ${i} was shed: ${res.body}`);
      assert.ok(res.headers['retry-after'], 'Retry-After');
    }
    const ok = await passwordLogin(t.app, 'erin', STRONG_PASSWORD);
    assert.equal(ok.statusCode, 200, ok.body);
  });
});
