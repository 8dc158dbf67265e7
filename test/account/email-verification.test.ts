import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { accountTokens } from '../../src/features/account/tables.js';
import { auditEvents } from '../../src/features/audit/tables.js';
import { bearer, createTestApp, form, passwordLogin, registerUser, STRONG_PASSWORD, tokensFor, type TestApp } from '../support/app.js';
import { startSmtp, tokenFrom, type SmtpHarness } from './smtp.js';

async function events(t: TestApp, type: string, subjectId: string) {
  return t.warden.db.select().from(auditEvents).where(and(eq(auditEvents.type, type), eq(auditEvents.subjectId, subjectId))).orderBy(auditEvents.id);
}

describe('e-mail verification over a real SMTP server', () => {
  let smtp: SmtpHarness;
  let t: TestApp;
  before(async () => {
    smtp = await startSmtp();
  });
  after(() => smtp.close());
  beforeEach(async () => {
    await t?.close();
    t = await createTestApp({ env: { SMTP_URL: smtp.url, PUBLIC_URL: 'https://id.example.com', MAIL_FROM: 'Warden <warden@example.com>' } });
  });
  after(() => t?.close());

  it('register → mail arrives → the link page does not use the token → POST /email/verify verifies once', async () => {
    const u = await registerUser(t.app, 'alice');
    const mail = await smtp.next('alice@example.com');
    assert.equal(mail.from, 'warden@example.com');
    assert.match(mail.subject, /Confirm your e-mail address/);
    assert.match(mail.raw, /Content-Type: text\/html/);
    const { token, link } = tokenFrom(mail, '/email/verify');
    assert.ok(link.startsWith('https://id.example.com/email/verify?token='), link);
    assert.match(token, /^wev_[A-Za-z0-9_-]{43}$/, '256-bit token');

    // The token is stored hashed, never as sent.
    const rows = await t.warden.db.select().from(accountTokens).where(eq(accountTokens.userId, u.id));
    assert.equal(rows.length, 1);
    assert.ok(!JSON.stringify(rows).includes(token));

    // Opening the link (twice, as a mail scanner and then the person would) shows a form and uses nothing up.
    for (let i = 0; i < 2; i++) {
      const page = await t.app.inject({ method: 'GET', url: `/email/verify?token=${encodeURIComponent(token)}` });
      assert.equal(page.statusCode, 200);
      assert.match(page.headers['content-type'] as string, /text\/html/);
      assert.match(page.headers['content-security-policy'] as string, /default-src 'none'/);
      assert.equal(page.headers['referrer-policy'], 'same-origin');
      assert.match(page.body, /<form method="post" action="\/email\/verify\/form">/);
      assert.doesNotMatch(page.body, /<script/);
    }
    assert.equal((await t.app.inject({ method: 'GET', url: '/users/me', headers: bearer((await tokensFor(t.app, 'alice')).access_token) })).json().email_verified, false);

    const ok = await t.app.inject({ method: 'POST', url: '/email/verify', payload: { token } });
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(ok.json(), { email_verified: true });
    const me = await t.app.inject({ method: 'GET', url: '/users/me', headers: bearer((await tokensFor(t.app, 'alice')).access_token) });
    assert.equal(me.json().email_verified, true);
    assert.equal((await events(t, 'email.verified', u.id)).length, 1);
    assert.equal((await events(t, 'email.verification_sent', u.id)).length, 1);

    const again = await t.app.inject({ method: 'POST', url: '/email/verify', payload: { token } });
    assert.equal(again.statusCode, 400);
    assert.equal(again.json().code, 'invalid_verification_token');
  });

  it('refuses an expired token (injected clock)', async () => {
    await registerUser(t.app, 'bob');
    const { token } = tokenFrom(await smtp.next('bob@example.com'), '/email/verify');
    t.clock.advance(24 * 3600_000 + 1000);
    const res = await t.app.inject({ method: 'POST', url: '/email/verify', payload: { token } });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().code, 'invalid_verification_token');
    const page = await t.app.inject({ method: 'GET', url: `/email/verify?token=${token}` });
    assert.equal(page.statusCode, 400);
    assert.doesNotMatch(page.body, /<form/);
  });

  it('a changed address gets its own mail; the old link no longer verifies anything', async () => {
    await registerUser(t.app, 'carol');
    const first = tokenFrom(await smtp.next('carol@example.com'), '/email/verify').token;
    const { access_token } = await tokensFor(t.app, 'carol');
    const patch = await t.app.inject({ method: 'PATCH', url: '/users/me', headers: bearer(access_token), payload: { email: 'carol.new@example.com', current_password: STRONG_PASSWORD } });
    assert.equal(patch.statusCode, 200);
    const second = tokenFrom(await smtp.next('carol.new@example.com'), '/email/verify').token;
    assert.equal((await t.app.inject({ method: 'POST', url: '/email/verify', payload: { token: first } })).statusCode, 400);
    assert.equal((await t.app.inject({ method: 'POST', url: '/email/verify', payload: { token: second } })).statusCode, 200);
  });

  it('resend is throttled per user (429 + Retry-After) and refused once verified', async () => {
    await registerUser(t.app, 'dave');
    await smtp.next('dave@example.com');
    const { access_token } = await tokensFor(t.app, 'dave');
    const unauth = await t.app.inject({ method: 'POST', url: '/email/verify/resend' });
    assert.equal(unauth.statusCode, 401);
    const r1 = await t.app.inject({ method: 'POST', url: '/email/verify/resend', headers: bearer(access_token) });
    assert.equal(r1.statusCode, 202);
    const { token } = tokenFrom(await smtp.next('dave@example.com'), '/email/verify');
    const r2 = await t.app.inject({ method: 'POST', url: '/email/verify/resend', headers: bearer(access_token) });
    assert.equal(r2.statusCode, 429);
    assert.ok(Number(r2.headers['retry-after']) > 0);
    t.clock.advance(61_000);
    assert.equal((await t.app.inject({ method: 'POST', url: '/email/verify/resend', headers: bearer(access_token) })).statusCode, 202);
    const latest = tokenFrom(await smtp.next('dave@example.com'), '/email/verify').token;
    // A newer mail replaces the older link.
    assert.equal((await t.app.inject({ method: 'POST', url: '/email/verify', payload: { token } })).statusCode, 400);
    assert.equal((await t.app.inject({ method: 'POST', url: '/email/verify', payload: { token: latest } })).statusCode, 200);
    t.clock.advance(61_000);
    const done = await t.app.inject({ method: 'POST', url: '/email/verify/resend', headers: bearer(access_token) });
    assert.equal(done.statusCode, 409);
    assert.equal(done.json().code, 'already_verified');
  });

  it('the HTML form verifies without JavaScript and refuses a cross-site post', async () => {
    await registerUser(t.app, 'erin');
    const { token } = tokenFrom(await smtp.next('erin@example.com'), '/email/verify');
    const cross = await t.app.inject({
      method: 'POST',
      url: '/email/verify/form',
      ...form({ token }),
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    });
    assert.equal(cross.statusCode, 403);
    const ok = await t.app.inject({ method: 'POST', url: '/email/verify/form', ...form({ token }) });
    assert.equal(ok.statusCode, 200);
    assert.match(ok.body, /erin@example\.com is confirmed/);
  });
});

describe('REQUIRE_VERIFIED_EMAIL=true', () => {
  let smtp: SmtpHarness;
  let t: TestApp;
  before(async () => {
    smtp = await startSmtp();
    t = await createTestApp({ env: { SMTP_URL: smtp.url, REQUIRE_VERIFIED_EMAIL: 'true' } });
  });
  after(async () => {
    await t.close();
    await smtp.close();
  });

  it('refuses login until the address is verified, with a clear error', async () => {
    await registerUser(t.app, 'frank');
    const refused = await passwordLogin(t.app, 'frank');
    assert.equal(refused.statusCode, 400);
    assert.equal(refused.json().error, 'invalid_grant');
    assert.match(refused.json().error_description, /verify your e-mail/);
    const { token } = tokenFrom(await smtp.next('frank@example.com'), '/email/verify');
    assert.equal((await t.app.inject({ method: 'POST', url: '/email/verify', payload: { token } })).statusCode, 200);
    assert.equal((await passwordLogin(t.app, 'frank')).statusCode, 200);
  });

  it('a wrong password still answers "invalid username or password" (no hint the account is unverified)', async () => {
    await registerUser(t.app, 'gina');
    const res = await passwordLogin(t.app, 'gina', 'not the password at all');
    assert.equal(res.json().error_description, 'invalid username or password');
  });
});
