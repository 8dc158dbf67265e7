import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { authenticator } from 'otplib';
import { mfaRecoveryCodes, mfaTotp } from '../../src/features/account/tables.js';
import { auditEvents } from '../../src/features/audit/tables.js';
import { bearer, createTestApp, form, passwordLogin, registerUser, STRONG_PASSWORD, tokensFor, type TestApp } from '../support/app.js';

const STEP = 30_000;

function totp(t: TestApp, secret: string, offsetSteps = 0) {
  return authenticator.clone({ epoch: t.clock.now() + offsetSteps * STEP }).generate(secret);
}

/** A code that is not valid now (nor one step either side). */
function wrongCode(t: TestApp, secret: string) {
  const valid = new Set([-1, 0, 1].map((o) => totp(t, secret, o)));
  for (let i = 0; ; i++) {
    const c = String(i).padStart(6, '0');
    if (!valid.has(c)) return c;
  }
}

async function mfaGrant(t: TestApp, mfaToken: string, code: string) {
  return t.app.inject({ method: 'POST', url: '/token', ...form({ grant_type: 'urn:warden:mfa', mfa_token: mfaToken, code }) });
}

async function events(t: TestApp, type: string, subjectId: string) {
  return t.warden.db.select().from(auditEvents).where(and(eq(auditEvents.type, type), eq(auditEvents.subjectId, subjectId))).orderBy(auditEvents.id);
}

/** Register, enrol and confirm TOTP; the clock is moved past the confirming code's step. */
async function enrolled(t: TestApp, name: string) {
  const u = await registerUser(t.app, name);
  const { access_token } = await tokensFor(t.app, name);
  const e = await t.app.inject({ method: 'POST', url: '/users/me/mfa/totp', headers: bearer(access_token) });
  assert.equal(e.statusCode, 200, e.body);
  const { secret } = e.json() as { secret: string };
  const c = await t.app.inject({ method: 'POST', url: '/users/me/mfa/totp/confirm', headers: bearer(access_token), payload: { code: totp(t, secret) } });
  assert.equal(c.statusCode, 200, c.body);
  t.clock.advance(STEP);
  return { ...u, secret, accessToken: access_token, recoveryCodes: c.json().recovery_codes as string[] };
}

async function mfaRequired(t: TestApp, name: string, password = STRONG_PASSWORD) {
  const res = await passwordLogin(t.app, name, password);
  assert.equal(res.statusCode, 400, res.body);
  const body = res.json();
  assert.equal(body.error, 'mfa_required');
  return body.mfa_token as string;
}

describe('TOTP MFA', () => {
  let t: TestApp;
  beforeEach(async () => {
    await t?.close();
    t = await createTestApp();
  });
  after(() => t?.close());

  it('enrols: secret + otpauth URI shown once, re-enrol before confirm replaces it, confirm answers 10 recovery codes', async () => {
    const u = await registerUser(t.app, 'alice');
    const { access_token } = await tokensFor(t.app, 'alice');
    const first = await t.app.inject({ method: 'POST', url: '/users/me/mfa/totp', headers: bearer(access_token) });
    assert.equal(first.statusCode, 200);
    assert.equal(first.headers['cache-control'], 'no-store');
    const { secret, otpauth_uri } = first.json();
    assert.match(secret, /^[A-Z2-7]{32}$/, '160-bit base32 secret');
    const uri = new URL(otpauth_uri);
    assert.equal(uri.protocol, 'otpauth:');
    assert.equal(uri.searchParams.get('secret'), secret);
    assert.equal(uri.searchParams.get('period'), '30');

    const second = await t.app.inject({ method: 'POST', url: '/users/me/mfa/totp', headers: bearer(access_token) });
    const replaced = second.json().secret as string;
    assert.notEqual(replaced, secret);
    // Not enrolled until confirmed: login still needs no code.
    assert.equal((await passwordLogin(t.app, 'alice')).statusCode, 200);

    const stale = await t.app.inject({ method: 'POST', url: '/users/me/mfa/totp/confirm', headers: bearer(access_token), payload: { code: totp(t, secret) } });
    assert.equal(stale.statusCode, 422, 'a code from the replaced secret does not confirm');
    assert.equal(stale.json().code, 'invalid_code');

    const ok = await t.app.inject({ method: 'POST', url: '/users/me/mfa/totp/confirm', headers: bearer(access_token), payload: { code: totp(t, replaced) } });
    assert.equal(ok.statusCode, 200);
    const codes = ok.json().recovery_codes as string[];
    assert.equal(codes.length, 10);
    assert.equal(new Set(codes).size, 10);
    for (const c of codes) assert.match(c, /^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
    const stored = await t.warden.db.select().from(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, u.id));
    assert.equal(stored.length, 10);
    for (const c of codes) assert.ok(!JSON.stringify(stored).includes(c), 'recovery codes are stored hashed');
    assert.equal((await events(t, 'mfa.enrolled', u.id)).length, 1);

    const again = await t.app.inject({ method: 'POST', url: '/users/me/mfa/totp', headers: bearer(access_token) });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().code, 'mfa_already_enabled');
    const status = await t.app.inject({ method: 'GET', url: '/users/me/mfa', headers: bearer(access_token) });
    assert.deepEqual(status.json(), { totp: true, recovery_codes_left: 10 });
    assert.equal(await t.warden.mfa.isEnrolled(u.id), true);
  });

  it('password grant answers mfa_required with an mfa_token; urn:warden:mfa with a TOTP code completes it', async () => {
    const u = await enrolled(t, 'bob');
    const res = await passwordLogin(t.app, 'bob');
    assert.equal(res.statusCode, 400);
    assert.equal(res.headers['cache-control'], 'no-store');
    const body = res.json();
    assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description', 'mfa_token']);
    assert.equal(body.error, 'mfa_required');
    assert.ok(!('access_token' in body));
    assert.match(body.mfa_token, /^wmfa_/);

    const wrong = await mfaGrant(t, body.mfa_token, wrongCode(t, u.secret));
    assert.equal(wrong.statusCode, 400);
    assert.equal(wrong.json().error, 'invalid_grant');
    assert.equal((await events(t, 'mfa.failed', u.id)).length, 1);

    const ok = await mfaGrant(t, body.mfa_token, totp(t, u.secret));
    assert.equal(ok.statusCode, 200, ok.body);
    const tokens = ok.json();
    assert.equal(tokens.token_type, 'Bearer');
    assert.ok(tokens.refresh_token);
    const me = await t.app.inject({ method: 'GET', url: '/users/me', headers: bearer(tokens.access_token) });
    assert.equal(me.json().username, 'bob');

    // The mfa_token is single use.
    t.clock.advance(STEP);
    const reuse = await mfaGrant(t, body.mfa_token, totp(t, u.secret));
    assert.equal(reuse.statusCode, 400);
    assert.match(reuse.json().error_description, /mfa_token/);
  });

  it('refuses a replayed code, and an older code of the window once a newer one was used', async () => {
    const u = await enrolled(t, 'carol');
    const code = totp(t, u.secret);
    assert.equal((await mfaGrant(t, await mfaRequired(t, 'carol'), code)).statusCode, 200);
    const replay = await mfaGrant(t, await mfaRequired(t, 'carol'), code);
    assert.equal(replay.statusCode, 400);
    assert.equal(replay.json().error, 'invalid_grant');
    const failed = await events(t, 'mfa.failed', u.id);
    assert.deepEqual(failed.map((e) => e.details.reason), ['replay']);

    // Next step's code works; then the previous step's code (still inside the window) is refused.
    t.clock.advance(STEP);
    const newer = totp(t, u.secret);
    const older = totp(t, u.secret, -1);
    assert.equal((await mfaGrant(t, await mfaRequired(t, 'carol'), newer)).statusCode, 200);
    assert.equal((await mfaGrant(t, await mfaRequired(t, 'carol'), older)).statusCode, 400);
  });

  it('a replay is refused even when the shared-state guard alone would have to stop it (database last_step)', async () => {
    const u = await enrolled(t, 'carl');
    const code = totp(t, u.secret);
    assert.equal(await t.warden.mfa.verify(u.id, code, {}), true);
    // Another instance with its own (empty) state store would pass the setIfAbsent guard: clear it here.
    const step = Math.floor(t.clock.now() / STEP);
    for (const s of [step - 1, step, step + 1]) await t.warden.state.delete(`mfa:totp-used:${u.id}:${s}`);
    assert.equal(await t.warden.mfa.verify(u.id, code, {}), false);
    const [row] = await t.warden.db.select().from(mfaTotp).where(eq(mfaTotp.userId, u.id));
    assert.equal(row!.lastStep, step);
  });

  it('a code another instance has just claimed in the shared state store is refused (state guard)', async () => {
    const u = await enrolled(t, 'cleo');
    const step = Math.floor(t.clock.now() / STEP);
    // As if another instance accepted this step a moment ago and has not written last_step yet.
    await t.warden.state.set(`mfa:totp-used:${u.id}:${step}`, '1', 4 * STEP);
    assert.equal(await t.warden.mfa.verify(u.id, totp(t, u.secret), {}), false);
    const failed = await events(t, 'mfa.failed', u.id);
    assert.deepEqual(failed.map((e) => e.details.reason), ['replay']);
  });

  it('a recovery code completes the login once', async () => {
    const u = await enrolled(t, 'dave');
    const [code] = u.recoveryCodes;
    const ok = await mfaGrant(t, await mfaRequired(t, 'dave'), code!.toUpperCase());
    assert.equal(ok.statusCode, 200, ok.body);
    const used = await events(t, 'mfa.recovery_code_used', u.id);
    assert.equal(used.length, 1);
    assert.deepEqual(used[0]!.details, { remaining: 9 });
    assert.doesNotMatch(JSON.stringify(used), new RegExp(code!));
    const again = await mfaGrant(t, await mfaRequired(t, 'dave'), code!);
    assert.equal(again.statusCode, 400);
    const status = await t.app.inject({ method: 'GET', url: '/users/me/mfa', headers: bearer(ok.json().access_token) });
    assert.equal(status.json().recovery_codes_left, 9);
  });

  it('the mfa_token expires after 5 minutes and allows 5 attempts', async () => {
    const u = await enrolled(t, 'erin');
    const expiring = await mfaRequired(t, 'erin');
    t.clock.advance(5 * 60_000 + 1);
    assert.equal((await mfaGrant(t, expiring, totp(t, u.secret))).statusCode, 400);

    const token = await mfaRequired(t, 'erin');
    for (let i = 0; i < 5; i++) assert.equal((await mfaGrant(t, token, wrongCode(t, u.secret))).statusCode, 400);
    const sixth = await mfaGrant(t, token, totp(t, u.secret));
    assert.equal(sixth.statusCode, 400);
    assert.match(sixth.json().error_description, /too many wrong codes/);
  });

  it('a forged or missing mfa_token is refused', async () => {
    await enrolled(t, 'fay');
    assert.equal((await mfaGrant(t, 'wmfa_forged', '123456')).json().error, 'invalid_grant');
    const missing = await t.app.inject({ method: 'POST', url: '/token', ...form({ grant_type: 'urn:warden:mfa', code: '123456' }) });
    assert.equal(missing.json().error, 'invalid_request');
  });

  it('wrong codes count towards the account lockout', async () => {
    const t2 = await createTestApp({ env: { LOCKOUT_THRESHOLD: '3' } });
    try {
      const u = await enrolled(t2, 'gus');
      const token = await mfaRequired(t2, 'gus');
      for (let i = 0; i < 3; i++) await mfaGrant(t2, token, wrongCode(t2, u.secret));
      assert.equal(await t2.warden.lockout.isLocked(u), true);
      // Locked: even the right password answers like a wrong one.
      const res = await passwordLogin(t2.app, 'gus');
      assert.equal(res.json().error, 'invalid_grant');
    } finally {
      await t2.close();
    }
  });

  it('stops guessing after 10 wrong codes in 15 minutes even if the lockout lets logins through', async () => {
    const t2 = await createTestApp({ env: { LOCKOUT_THRESHOLD: '1000' } });
    try {
      const u = await enrolled(t2, 'hal');
      for (let i = 0; i < 10; i++) assert.equal(await t2.warden.mfa.verify(u.id, wrongCode(t2, u.secret), {}), false);
      assert.equal(await t2.warden.mfa.verify(u.id, totp(t2, u.secret), {}), false, 'the right code is refused too');
      t2.clock.advance(15 * 60_000 + 1);
      assert.equal(await t2.warden.mfa.verify(u.id, totp(t2, u.secret), {}), true);
    } finally {
      await t2.close();
    }
  });

  it('DELETE needs a current code or the password; afterwards login needs no code', async () => {
    const u = await enrolled(t, 'ivy');
    const none = await t.app.inject({ method: 'DELETE', url: '/users/me/mfa/totp', headers: bearer(u.accessToken), payload: {} });
    assert.equal(none.statusCode, 422);
    const badPw = await t.app.inject({ method: 'DELETE', url: '/users/me/mfa/totp', headers: bearer(u.accessToken), payload: { password: 'wrong password here' } });
    assert.equal(badPw.statusCode, 422);
    assert.equal(badPw.json().code, 'wrong_password');
    const badCode = await t.app.inject({ method: 'DELETE', url: '/users/me/mfa/totp', headers: bearer(u.accessToken), payload: { code: wrongCode(t, u.secret) } });
    assert.equal(badCode.statusCode, 422);
    assert.equal(await t.warden.mfa.isEnrolled(u.id), true);
    const ok = await t.app.inject({ method: 'DELETE', url: '/users/me/mfa/totp', headers: bearer(u.accessToken), payload: { code: totp(t, u.secret) } });
    assert.equal(ok.statusCode, 204);
    assert.equal(await t.warden.mfa.isEnrolled(u.id), false);
    assert.equal((await events(t, 'mfa.removed', u.id)).length, 1);
    assert.equal((await passwordLogin(t.app, 'ivy')).statusCode, 200);
    assert.equal((await t.warden.db.select().from(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, u.id))).length, 0);
  });

  it('DELETE with the password works too', async () => {
    const u = await enrolled(t, 'jan');
    const ok = await t.app.inject({ method: 'DELETE', url: '/users/me/mfa/totp', headers: bearer(u.accessToken), payload: { password: STRONG_PASSWORD } });
    assert.equal(ok.statusCode, 204);
    assert.deepEqual((await events(t, 'mfa.removed', u.id))[0]!.details, { method: 'totp', by: 'password' });
  });
});

describe('REQUIRE_ADMIN_MFA=true', () => {
  let t: TestApp;
  beforeEach(async () => {
    await t?.close();
    t = await createTestApp({ env: { REQUIRE_ADMIN_MFA: 'true' } });
  });
  after(() => t?.close());

  it('an admin without TOTP cannot sign in (mfa_enrollment_required); with TOTP, signs in with a code; users are unaffected', async () => {
    const admin = await registerUser(t.app, 'root');
    const { access_token } = await tokensFor(t.app, 'root');
    await t.warden.users.adminUpdate('test', admin.id, { roles: ['admin', 'user'] }, {});
    const refused = await passwordLogin(t.app, 'root');
    assert.equal(refused.statusCode, 400);
    assert.equal(refused.json().error, 'mfa_enrollment_required');
    assert.match(refused.json().error_description, /REQUIRE_ADMIN_MFA/);
    assert.ok(!('mfa_token' in refused.json()));

    // A session from before the role change can still enrol.
    const e = await t.app.inject({ method: 'POST', url: '/users/me/mfa/totp', headers: bearer(access_token) });
    const { secret } = e.json();
    await t.app.inject({ method: 'POST', url: '/users/me/mfa/totp/confirm', headers: bearer(access_token), payload: { code: totp(t, secret) } });
    t.clock.advance(STEP);
    const token = await mfaRequired(t, 'root');
    assert.equal((await mfaGrant(t, token, totp(t, secret))).statusCode, 200);

    await registerUser(t.app, 'plain');
    assert.equal((await passwordLogin(t.app, 'plain')).statusCode, 200);
  });
});
