import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RedisStateStore } from '../../src/kernel/storage/state/redis.js';
import { createTestApp, passwordLogin, registerUser } from '../support/app.js';

// Issue 17 item 1: with the shared state store gone, a correct login answered 400 invalid_grant
// "invalid username or password" — an outage that looked like a wrong password.
describe('the shared state store unreachable', () => {
  it('answers logins 503 temporarily_unavailable with Retry-After, logs the outage once at error, and /readyz says why', async () => {
    const errors: string[] = [];
    const warnings: string[] = [];
    // Nothing listens on port 1: every connection attempt is refused.
    const state = new RedisStateStore('redis://127.0.0.1:1', {
      maxReconnectDelayMs: 50,
      log: { error: (_o, m) => errors.push(m), warn: (_o, m) => warnings.push(m), info: () => {} },
    });
    assert.equal(await state.connected(200), false);
    const lines: Array<{ level: number; msg: string }> = [];
    const logStream = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as { level: number; msg: string });
        done();
      },
    });
    const t = await createTestApp({ state, env: { LOG_LEVEL: 'info', LOG_FLUSH_MS: '0' }, logStream });
    // The server's logger would take over at start; this test keeps the store's own to count its lines.
    (state as unknown as { log: unknown }).log = { error: (_o: object, m: string) => errors.push(m), warn: (_o: object, m: string) => warnings.push(m), info: () => {} };
    try {
      await registerUser(t.app, 'alice');
      for (let i = 0; i < 3; i++) {
        const res = await passwordLogin(t.app, 'alice');
        assert.equal(res.statusCode, 503);
        assert.equal(res.headers['retry-after'], '5');
        assert.equal(res.headers['cache-control'], 'no-store');
        assert.deepEqual(res.json(), {
          error: 'temporarily_unavailable',
          error_description: 'the server cannot reach its shared state store; retry shortly',
        });
      }
      await sleep(300); // several reconnection attempts
      assert.deepEqual(errors, ['Redis is unreachable: serving degraded (logins answer 503 temporarily_unavailable, rate limits fail open); reconnecting']);
      assert.deepEqual(warnings, []);
      assert.deepEqual(lines.filter((l) => l.level >= 50).map((l) => l.msg), [], 'no error line per refused login');

      const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 200);
      assert.deepEqual(ready.json(), {
        status: 'degraded',
        checks: { database: 'ok', redis: 'unreachable (connect ECONNREFUSED 127.0.0.1:1): logins answer 503 until it is back' },
      });
    } finally {
      await t.close();
      await state.close();
    }
  });
});
