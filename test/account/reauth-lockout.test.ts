import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { authenticator } from 'otplib';
import type { MemoryStateStore } from '../../src/kernel/storage/state/memory.js';
import { bearer, createTestApp, form, passwordLogin, registerUser, resetDatabase, STRONG_PASSWORD, testDatabase, tokensFor, type TestApp } from '../support/app.js';

const WRONG = 'not the password at all';
const MIN = 60_000;
const STEP = 30_000;

const totp = (t: TestApp, secret: string) => authenticator.clone({ epoch: t.clock.now() }).generate(secret);

function wrongCode(t: TestApp, secret: string) {
  const valid = new Set([-1, 0, 1].map((o) => authenticator.clone({ epoch: t.clock.now() + o * STEP }).generate(secret)));
  for (let i = 0; ; i++) {
    const c = String(i).padStart(6, '0');
    if (!valid.has(c)) return c;
  }
}

async function enrol(t: TestApp, accessToken: string) {
  const e = await t.app.inject({ method: 'POST', url: '/users/me/mfa/totp', headers: bearer(accessToken) });
  const { secret } = e.json() as { secret: string };
  const c = await t.app.inject({ method: 'POST', url: '/users/me/mfa/totp/confirm', headers: bearer(accessToken), payload: { code: totp(t, secret) } });
  assert.equal(c.statusCode, 200, c.body);
  t.clock.advance(STEP);
  return secret;
}

/**
 * Every place that checks a password goes through the login's lockout (issue 13 item 7): after
 * LOCKOUT_THRESHOLD wrong passwords there, the right one is refused there too, with the wrong-password
 * answer, and the account is locked for logins as well.
 */
describe('password checks outside login share the lockout (LOCKOUT_THRESHOLD=3)', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ env: { LOCKOUT_THRESHOLD: '3', ARGON2_MEMORY_KIB: '8192', ARGON2_ITERATIONS: '1' } });
  });
  after(() => t.close());
  beforeEach(async () => {
    await resetDatabase(await testDatabase());
    await t.warden.keys.init();
    (t.warden.state as MemoryStateStore).sweep();
    t.clock.advance(48 * 3600_000);
  });

  /** `attempt(password)` three times wrong, then once right: the right one must answer what the wrong ones did. */
  async function lockThenRight(attempt: (password: string) => Promise<{ statusCode: number; body: string }>) {
    const answers = [];
    for (let i = 0; i < 3; i++) {
      answers.push(await attempt(WRONG));
      t.clock.advance(MIN);
    }
    const right = await attempt(STRONG_PASSWORD);
    assert.deepEqual({ status: right.statusCode, body: right.body }, { status: answers[0]!.statusCode, body: answers[0]!.body });
    return answers[0]!;
  }

  it('POST /users/me/password', async () => {
    const u = await registerUser(t.app, 'alice');
    const s = await tokensFor(t.app, 'alice');
    const wrong = await lockThenRight((pw) =>
      t.app.inject({ method: 'POST', url: '/users/me/password', headers: bearer(s.access_token), payload: { current_password: pw, new_password: 'the next long passphrase' } }),
    );
    assert.equal(wrong.statusCode, 422);
    assert.equal(JSON.parse(wrong.body).code, 'wrong_password');
    assert.equal(await t.warden.lockout.isLocked({ id: u.id, username: 'alice', email: u.email }), true);
    assert.equal((await passwordLogin(t.app, 'alice')).statusCode, 400, 'the login is locked as well');
  });

  it('DELETE /users/me/mfa/totp {password}', async () => {
    const u = await registerUser(t.app, 'bob');
    const s = await tokensFor(t.app, 'bob');
    await enrol(t, s.access_token);
    const wrong = await lockThenRight((password) => t.app.inject({ method: 'DELETE', url: '/users/me/mfa/totp', headers: bearer(s.access_token), payload: { password } }));
    assert.equal(wrong.statusCode, 422);
    assert.equal(JSON.parse(wrong.body).code, 'wrong_password');
    assert.equal(await t.warden.mfa.isEnrolled(u.id), true, 'TOTP stays on');
    assert.equal(await t.warden.lockout.isLocked({ id: u.id, username: 'bob', email: u.email }), true);
  });

  it('PATCH /users/me {email, current_password}', async () => {
    const u = await registerUser(t.app, 'cleo');
    const s = await tokensFor(t.app, 'cleo');
    const wrong = await lockThenRight((pw) =>
      t.app.inject({ method: 'PATCH', url: '/users/me', headers: bearer(s.access_token), payload: { email: 'cleo.new@example.com', current_password: pw } }),
    );
    assert.equal(wrong.statusCode, 422);
    assert.equal(JSON.parse(wrong.body).code, 'wrong_password');
    const me = await t.app.inject({ method: 'GET', url: '/users/me', headers: bearer(s.access_token) });
    assert.equal(me.json().email, 'cleo@example.com');
    assert.equal(me.json().pending_email, undefined);
    assert.equal(await t.warden.lockout.isLocked({ id: u.id, username: 'cleo', email: u.email }), true);
  });

  it('a correct password does not clear the second-factor failures: password + wrong TOTP, alternated, locks (item 8)', async () => {
    const u = await registerUser(t.app, 'dora');
    const secret = await enrol(t, (await tokensFor(t.app, 'dora')).access_token);
    for (let i = 0; i < 3; i++) {
      const first = await passwordLogin(t.app, 'dora');
      assert.equal(first.json().error, 'mfa_required', `round ${i}: the password is accepted`);
      const code = await t.app.inject({ method: 'POST', url: '/token', ...form({ grant_type: 'urn:warden:mfa', mfa_token: first.json().mfa_token, code: wrongCode(t, secret) }) });
      assert.equal(code.json().error, 'invalid_grant');
      t.clock.advance(MIN);
    }
    assert.equal(await t.warden.lockout.isLocked({ id: u.id, username: 'dora', email: u.email }), true);
    const refused = await passwordLogin(t.app, 'dora');
    assert.deepEqual(refused.json(), { error: 'invalid_grant', error_description: 'invalid username or password' });
    // After the lock, a correct second factor lets the account in again.
    t.clock.advance(16 * MIN);
    const again = await passwordLogin(t.app, 'dora');
    assert.equal(again.json().error, 'mfa_required');
    const ok = await t.app.inject({ method: 'POST', url: '/token', ...form({ grant_type: 'urn:warden:mfa', mfa_token: again.json().mfa_token, code: totp(t, secret) }) });
    assert.equal(ok.statusCode, 200, ok.body);
  });
});
