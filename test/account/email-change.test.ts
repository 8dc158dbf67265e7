import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { issueAccountToken } from '../../src/features/account/account-tokens.js';
import { auditEvents } from '../../src/features/audit/tables.js';
import { users } from '../../src/features/users/tables.js';
import { uuidv7 } from '../../src/features/tokens/jti.js';
import { signJwt } from '../../src/features/tokens/jwt.js';
import { bearer, createTestApp, passwordLogin, registerUser, STRONG_PASSWORD, tokensFor, type TestApp } from '../support/app.js';
import { startSmtp, tokenFrom, type SmtpHarness } from './smtp.js';

async function events(t: TestApp, type: string, subjectId: string) {
  return t.warden.db.select().from(auditEvents).where(and(eq(auditEvents.type, type), eq(auditEvents.subjectId, subjectId))).orderBy(auditEvents.id);
}

async function me(t: TestApp, accessToken: string) {
  return (await t.app.inject({ method: 'GET', url: '/users/me', headers: bearer(accessToken) })).json();
}

function patch(t: TestApp, accessToken: string, payload: Record<string, unknown>) {
  return t.app.inject({ method: 'PATCH', url: '/users/me', headers: bearer(accessToken), payload });
}

/** Register and verify the address with its mailed link. */
async function verifiedUser(t: TestApp, smtp: SmtpHarness, name: string) {
  const u = await registerUser(t.app, name);
  const { token } = tokenFrom(await smtp.next(u.email), '/email/verify');
  assert.equal((await t.app.inject({ method: 'POST', url: '/email/verify', payload: { token } })).statusCode, 200);
  return { ...u, ...(await tokensFor(t.app, name)) };
}

/** Every reset request handled and every mail delivered: what has not arrived by now never will. */
async function settle(t: TestApp) {
  await t.warden.account.reset.idle();
  await t.warden.mailer.flush();
}

describe('changing the e-mail address (issue 13 item 2)', () => {
  let smtp: SmtpHarness;
  let t: TestApp;
  before(async () => {
    smtp = await startSmtp();
  });
  after(() => smtp.close());
  beforeEach(async () => {
    await t?.close();
    t = await createTestApp({ env: { SMTP_URL: smtp.url, PUBLIC_URL: 'https://id.example.com' } });
  });
  after(() => t?.close());

  it('refuses a change without current_password (422 current_password_required) or with a wrong one (422 wrong_password)', async () => {
    const u = await verifiedUser(t, smtp, 'alice');
    const none = await patch(t, u.access_token, { email: 'mallory@example.com' });
    assert.equal(none.statusCode, 422);
    assert.equal(none.json().code, 'current_password_required');
    assert.deepEqual(none.json().errors, [{ field: 'current_password', message: 'is required to change the e-mail address' }]);
    const wrong = await patch(t, u.access_token, { email: 'mallory@example.com', current_password: 'not the password at all' });
    assert.equal(wrong.statusCode, 422);
    assert.equal(wrong.json().code, 'wrong_password');
    assert.deepEqual(wrong.json().errors, [{ field: 'current_password', message: 'is not correct' }]);
    assert.equal((await events(t, 'email.change_failed', u.id)).length, 1);
    const now = await me(t, u.access_token);
    assert.equal(now.email, 'alice@example.com');
    assert.equal(now.email_verified, true);
    assert.equal(now.pending_email, undefined);
    // A profile change without a new address needs no password.
    assert.equal((await patch(t, u.access_token, { full_name: 'Alice A.' })).statusCode, 200);
    await settle(t);
    assert.ok(!smtp.received.some((m) => m.to.includes('mallory@example.com')), 'nothing was mailed to the refused address');
  });

  it('keeps the old address until the new one is verified; the old one is told; then the new one is the verified address', async () => {
    const u = await verifiedUser(t, smtp, 'carol');
    const res = await patch(t, u.access_token, { email: 'carol.new@example.org', current_password: STRONG_PASSWORD });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().email, 'carol@example.com');
    assert.equal(res.json().email_verified, true);
    assert.equal(res.json().pending_email, 'carol.new@example.org');

    const notice = await smtp.next('carol@example.com');
    assert.equal(notice.subject, 'Your e-mail address is being changed');
    assert.match(notice.text, /change its e-mail address to c\*\*\*w@e\*\*\*\.org\./);
    assert.doesNotMatch(notice.raw, /carol\.new@example\.org/, 'the new address is masked in the notice');
    assert.match(notice.text, /If it was not you, someone may know your password: reset it now at https:\/\/id\.example\.com\/password\/forgot/);

    // Until verified: the old address signs in and gets reset links; the pending one does neither.
    assert.equal((await passwordLogin(t.app, 'carol@example.com')).statusCode, 200);
    assert.equal((await passwordLogin(t.app, 'carol.new@example.org')).statusCode, 400);
    assert.equal((await t.app.inject({ method: 'POST', url: '/password/forgot', payload: { email: 'carol.new@example.org' } })).statusCode, 202);
    await settle(t);
    assert.ok(!smtp.received.some((m) => m.to.includes('carol.new@example.org') && /Reset/.test(m.subject)), 'no reset link to a pending address');
    const [row] = await t.warden.db.select().from(users).where(eq(users.id, u.id));
    assert.equal(row!.email, 'carol@example.com');

    const { token } = tokenFrom(await smtp.next('carol.new@example.org'), '/email/verify');
    const ok = await t.app.inject({ method: 'POST', url: '/email/verify', payload: { token } });
    assert.equal(ok.statusCode, 200, ok.body);
    const after = await me(t, (await tokensFor(t.app, 'carol')).access_token);
    assert.equal(after.email, 'carol.new@example.org');
    assert.equal(after.email_verified, true);
    assert.equal(after.pending_email, undefined);
    assert.deepEqual((await events(t, 'email.changed', u.id))[0]!.details, { from: 'carol@example.com', to: 'carol.new@example.org' });
    assert.equal((await passwordLogin(t.app, 'carol@example.com')).statusCode, 400, 'the old address no longer names the account');
  });

  it('a second change replaces the pending address and voids the first link; the same address again cancels', async () => {
    const u = await verifiedUser(t, smtp, 'dora');
    assert.equal((await patch(t, u.access_token, { email: 'dora.a@example.com', current_password: STRONG_PASSWORD })).statusCode, 200);
    const first = tokenFrom(await smtp.next('dora.a@example.com'), '/email/verify').token;
    const second = await patch(t, u.access_token, { email: 'dora.b@example.com', current_password: STRONG_PASSWORD });
    assert.equal(second.json().pending_email, 'dora.b@example.com');
    const secondLink = tokenFrom(await smtp.next('dora.b@example.com'), '/email/verify').token;
    const stale = await t.app.inject({ method: 'POST', url: '/email/verify', payload: { token: first } });
    assert.equal(stale.statusCode, 400);
    assert.equal(stale.json().code, 'invalid_verification_token');

    // Back to the current address (another spelling): no password needed, the pending change is cancelled.
    const cancel = await patch(t, u.access_token, { email: 'DORA@example.com' });
    assert.equal(cancel.statusCode, 200, cancel.body);
    assert.equal(cancel.json().pending_email, undefined);
    assert.equal((await t.app.inject({ method: 'POST', url: '/email/verify', payload: { token: secondLink } })).statusCode, 400);
    assert.equal((await me(t, u.access_token)).email, 'DORA@example.com');
  });

  it('refuses an address another account uses (409 email_taken)', async () => {
    const u = await verifiedUser(t, smtp, 'erin');
    await registerUser(t.app, 'fred');
    const res = await patch(t, u.access_token, { email: 'FRED@example.com', current_password: STRONG_PASSWORD });
    assert.equal(res.statusCode, 409);
    assert.equal(res.json().code, 'email_taken');
  });

  it('an access token showing a sign-in within 5 minutes (auth_time) needs no password; an older one does', async () => {
    const u = await verifiedUser(t, smtp, 'gina');
    const claims = JSON.parse(Buffer.from(u.access_token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    const signedInAt = async (ms: number) => {
      const nowSeconds = Math.floor(t.clock.now() / 1000);
      const { iss: _i, sub, iat: _a, exp: _e, aud, jti: _j, ...rest } = claims;
      return signJwt({ ...rest, auth_time: Math.floor(ms / 1000) }, t.warden.keys.signingKey(), {
        issuer: t.config.issuer,
        audience: aud as string,
        subject: sub as string,
        expiresInSeconds: 300,
        nowSeconds,
        jti: uuidv7(t.clock.now()),
        typ: 'at+jwt',
      });
    };
    const stale = await patch(t, await signedInAt(t.clock.now() - 6 * 60_000), { email: 'gina.new@example.com' });
    assert.equal(stale.statusCode, 422);
    assert.equal(stale.json().code, 'current_password_required');
    const fresh = await patch(t, await signedInAt(t.clock.now() - 4 * 60_000), { email: 'gina.new@example.com' });
    assert.equal(fresh.statusCode, 200, fresh.body);
    assert.equal(fresh.json().pending_email, 'gina.new@example.com');
  });
});

describe('password reset and unverified addresses (issue 13 item 2)', () => {
  let smtp: SmtpHarness;
  let t: TestApp;
  before(async () => {
    smtp = await startSmtp();
    t = await createTestApp({ env: { SMTP_URL: smtp.url } });
  });
  after(async () => {
    await t.close();
    await smtp.close();
  });

  it('/password/forgot mails nothing to an unverified address', async () => {
    const u = await registerUser(t.app, 'hank');
    await smtp.next(u.email); // the verification mail
    assert.equal((await t.app.inject({ method: 'POST', url: '/password/forgot', payload: { email: u.email } })).statusCode, 202);
    await settle(t);
    assert.ok(!smtp.received.some((m) => m.to.includes(u.email) && /Reset/.test(m.subject)));
    const requested = await events(t, 'password.reset_requested', u.id);
    assert.deepEqual(requested.map((e) => e.details), [{ sent: false, reason: 'unverified_address' }]);
  });

  it('a reset link never verifies an address (nor works for an unverified one)', async () => {
    const u = await registerUser(t.app, 'ivan');
    const token = await issueAccountToken(t.warden.db, { userId: u.id, purpose: 'reset_password', email: u.email, now: new Date(t.clock.now()), ttlMs: 600_000 });
    const res = await t.app.inject({ method: 'POST', url: '/password/reset', payload: { token, new_password: 'a brand new passphrase, fresh' } });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().code, 'invalid_reset_token');
    const [row] = await t.warden.db.select().from(users).where(eq(users.id, u.id));
    assert.equal(row!.emailVerified, false);
    assert.equal((await passwordLogin(t.app, 'ivan', STRONG_PASSWORD)).statusCode, 200, 'the password is unchanged');
  });
});
