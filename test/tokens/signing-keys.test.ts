import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SigningKeys } from '../../src/features/tokens/signing-keys.js';
import { createTestApp, type TestApp } from '../support/app.js';

describe('signing keys seen by a second instance', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  it('verifies a kid rotated in on another instance right after its own reload (it waits for the next reload, not refuses)', async () => {
    const other = new SigningKeys(t.warden.db, t.config, t.clock);
    await other.init(); // its last reload: now
    const kid = await t.warden.keys.rotate();
    const started = performance.now();
    const key = await other.verificationKey(kid, t.warden.keys.algorithm);
    assert.ok(key, 'the new key is found');
    assert.ok(performance.now() - started <= 1500, 'within about a second');
  });

  it('still refuses a kid no instance has, and forged kids share one reload a second', async () => {
    const other = new SigningKeys(t.warden.db, t.config, t.clock);
    await other.init();
    let reloads = 0;
    const reload = other.reload.bind(other);
    other.reload = async () => {
      reloads++;
      await reload();
    };
    const found = await Promise.all(Array.from({ length: 20 }, (_, i) => other.verificationKey(`forged-${i}`, t.warden.keys.algorithm)));
    assert.ok(found.every((k) => k === undefined));
    assert.equal(reloads, 1);
  });
});
