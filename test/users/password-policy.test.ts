import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkPassword } from '../../src/features/users/password-policy.js';
import { createTestApp } from '../support/app.js';

const nist = { minLength: 12, classic: false };
const fields = (pw: string, ctx = {}) => checkPassword(pw, nist, ctx).map((e) => e.message);

describe('password policy (NIST 800-63B)', () => {
  it('accepts a long passphrase without composition rules', () => {
    assert.deepEqual(fields('correct horse battery staple'), []);
    assert.deepEqual(fields('ünïcödé pässwörd ☃'), []);
  });
  it('refuses short, over-long and common passwords', () => {
    assert.match(fields('short')[0]!, /at least 12/);
    assert.match(fields('x'.repeat(129))[0]!, /at most 128/);
    assert.ok(fields('password1234').some((m) => /too common/.test(m)));
  });
  it('refuses a password that contains the username or the e-mail', () => {
    assert.ok(fields('my name is alice-the-great', { username: 'alice' }).some((m) => /username/.test(m)));
    assert.ok(fields('bob.smith-secret-words', { email: 'bob.smith@example.com' }).some((m) => /e-mail/.test(m)));
  });
  it('PASSWORD_POLICY=classic adds a digit and an uppercase letter', () => {
    const classic = { minLength: 12, classic: true };
    const msgs = checkPassword('correct horse battery staple', classic, {}).map((e) => e.message);
    assert.deepEqual(msgs, ['must contain a digit', 'must contain an uppercase letter']);
    assert.deepEqual(checkPassword('Correct horse battery 9', classic, {}), []);
  });
  it('counts characters, not bytes', () => {
    assert.deepEqual(fields('☃☃☃☃☃☃☃☃☃☃☃☃'), []);
  });
});

describe('registration applies the policy, naming the field', () => {
  it('answers 422 with every problem under "password"', async () => {
    const t = await createTestApp({ env: { PASSWORD_MIN_LENGTH: '14' } });
    try {
      const res = await t.app.inject({ method: 'POST', url: '/users', payload: { username: 'zed', email: 'zed@example.com', password: 'zed-short' } });
      assert.equal(res.statusCode, 422);
      const errors = res.json().errors as { field: string; message: string }[];
      assert.ok(errors.every((e) => e.field === 'password'));
      assert.ok(errors.some((e) => /at least 14/.test(e.message)));
      assert.ok(errors.some((e) => /username/.test(e.message)));
    } finally {
      await t.close();
    }
  });
});
