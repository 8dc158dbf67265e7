import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { authenticator } from 'otplib';
import { chromium } from 'playwright-core';
import { auditEvents } from '../../src/features/audit/tables.js';
import { consoleSessions } from '../../src/features/console/tables.js';
import { users } from '../../src/features/users/tables.js';
import { bearer, createTestApp, form, passwordLogin, registerUser, requireService, STRONG_PASSWORD, tokensFor, type TestApp } from '../support/app.js';
import { startSmtp, tokenFrom, type SmtpHarness } from './smtp.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../support/browser.js';

const NEW_PASSWORD = 'a brand new passphrase, fresh';

async function forgot(t: TestApp, email: string) {
  return t.app.inject({ method: 'POST', url: '/password/forgot', payload: { email } });
}

async function refresh(t: TestApp, refreshToken: string) {
  return t.app.inject({ method: 'POST', url: '/token', ...form({ grant_type: 'refresh_token', refresh_token: refreshToken }) });
}

/** Register and verify the address with the mailed link (reset links go to verified addresses only). */
async function userWithMailbox(t: TestApp, smtp: SmtpHarness, name: string) {
  const u = await registerUser(t.app, name);
  const { token } = tokenFrom(await smtp.next(u.email), '/email/verify');
  assert.equal((await t.app.inject({ method: 'POST', url: '/email/verify', payload: { token } })).statusCode, 200);
  return u;
}

async function resetLink(t: TestApp, smtp: SmtpHarness, email: string) {
  assert.equal((await forgot(t, email)).statusCode, 202);
  return tokenFrom(await smtp.next(email), '/password/reset').token;
}

describe('password reset over a real SMTP server', () => {
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

  it('forgot → mail → reset via the API: old password fails, new works, token single use, every session ends', async () => {
    const bob = await userWithMailbox(t, smtp, 'bob');
    const sessionA = await tokensFor(t.app, 'bob');
    const sessionB = await tokensFor(t.app, 'bob');
    await t.warden.db.insert(consoleSessions).values({ idHash: 'h-bob', userId: bob.id, csrfToken: 'c', expiresAt: new Date(t.clock.now() + 3600_000) });
    t.clock.advance(1000);

    const res = await forgot(t, 'BOB@example.com');
    assert.equal(res.statusCode, 202);
    const mail = await smtp.next('bob@example.com');
    assert.match(mail.subject, /Reset your password/);
    const { token, link } = tokenFrom(mail, '/password/reset');
    assert.ok(link.startsWith('https://id.example.com/password/reset?token=wpr_'));

    // The policy applies, and a refused password does not use the token up.
    const weak = await t.app.inject({ method: 'POST', url: '/password/reset', payload: { token, new_password: 'short' } });
    assert.equal(weak.statusCode, 422);
    assert.equal(weak.json().code, 'weak_password');

    const ok = await t.app.inject({ method: 'POST', url: '/password/reset', payload: { token, new_password: NEW_PASSWORD } });
    assert.equal(ok.statusCode, 204);
    // Tokens issued in the very millisecond sessions ended are refused too; the next one is fine.
    t.clock.advance(1);

    assert.equal((await passwordLogin(t.app, 'bob', STRONG_PASSWORD)).statusCode, 400);
    assert.equal((await passwordLogin(t.app, 'bob', NEW_PASSWORD)).statusCode, 200);

    const twice = await t.app.inject({ method: 'POST', url: '/password/reset', payload: { token, new_password: 'yet another passphrase here' } });
    assert.equal(twice.statusCode, 400);
    assert.equal(twice.json().code, 'invalid_reset_token');

    for (const s of [sessionA, sessionB]) {
      const r = await refresh(t, s.refresh_token);
      assert.equal(r.statusCode, 400, 'old refresh tokens are dead');
      assert.equal(r.json().error, 'invalid_grant');
      const me = await t.app.inject({ method: 'GET', url: '/users/me', headers: bearer(s.access_token) });
      assert.equal(me.statusCode, 401, 'old access tokens are refused');
    }

    assert.equal((await t.warden.db.select().from(consoleSessions).where(eq(consoleSessions.userId, bob.id))).length, 0, 'console sessions end too');
    const audit = await t.warden.db.select().from(auditEvents).where(and(eq(auditEvents.subjectId, bob.id), eq(auditEvents.type, 'password.reset'))).orderBy(auditEvents.id);
    assert.equal(audit.length, 1);
    assert.doesNotMatch(JSON.stringify(audit), /wpr_/);
    // The address stays verified (links go to verified addresses only; a reset never verifies one).
    const me = await t.app.inject({ method: 'GET', url: '/users/me', headers: bearer((await tokensFor(t.app, 'bob', NEW_PASSWORD)).access_token) });
    assert.equal(me.statusCode, 200, me.body);
    assert.equal(me.json().email_verified, true);
  });

  it('an unknown address gets the identical answer, and no mail', async () => {
    await userWithMailbox(t, smtp, 'carol');
    const known = await forgot(t, 'carol@example.com');
    const unknown = await forgot(t, 'nobody@example.com');
    assert.equal(known.statusCode, 202);
    assert.equal(unknown.statusCode, 202);
    assert.equal(known.body, unknown.body);
    const strip = (h: Record<string, unknown>) => {
      const { 'x-request-id': _r, date: _d, ...rest } = h;
      return rest;
    };
    assert.deepEqual(strip(known.headers), strip(unknown.headers));
    await smtp.next('carol@example.com');
    await t.warden.account.reset.idle();
    await t.warden.mailer.flush();
    assert.ok(!smtp.received.some((m) => m.to.includes('nobody@example.com')));
    const requested = await t.warden.db.select().from(auditEvents).where(eq(auditEvents.type, 'password.reset_requested')).orderBy(auditEvents.id);
    assert.deepEqual(requested.map((e) => e.details.sent).sort(), [false, true]);
  });

  it('answers before any lookup or mail: a stalled SMTP server does not hold the answer, known or unknown', async () => {
    const stalled = await startSmtp({ hold: true });
    const t2 = await createTestApp({ env: { SMTP_URL: stalled.url } });
    try {
      const dana = await registerUser(t2.app, 'dana');
      // Verified without its mail (the SMTP server holds every message): reset links go to verified addresses only.
      await t2.warden.db.update(users).set({ emailVerified: true }).where(eq(users.id, dana.id));
      const answers = [];
      for (const email of ['dana@example.com', 'ghost@example.com', 'dana@example.com']) answers.push(await forgot(t2, email));
      assert.deepEqual(answers.map((a) => a.statusCode), [202, 202, 202]);
      assert.equal(new Set(answers.map((a) => a.body)).size, 1);
      // Every answer is out while the SMTP server has not accepted a single message.
      assert.equal(stalled.received.length, 0);
      await t2.warden.account.reset.idle();
      stalled.release();
      await t2.warden.mailer.flush();
      assert.equal(stalled.received.filter((m) => /Reset/.test(m.subject)).length, 2);
    } finally {
      stalled.release();
      await t2.close();
      await stalled.close();
    }
  });

  describe('any credential change voids an outstanding reset link (issue 13 item 12)', () => {
    let pending: string | undefined;
    const changes: Record<string, (u: { id: string; email: string }, accessToken: string) => Promise<number>> = {
      'password change': async (_u, at) =>
        (await t.app.inject({ method: 'POST', url: '/users/me/password', headers: bearer(at), payload: { current_password: STRONG_PASSWORD, new_password: NEW_PASSWORD } })).statusCode,
      'e-mail change': async (u, at) =>
        (await t.app.inject({ method: 'PATCH', url: '/users/me', headers: bearer(at), payload: { email: `new.${u.email}`, current_password: STRONG_PASSWORD } })).statusCode,
      'MFA removal': async (_u, at) => {
        const { secret } = (await t.app.inject({ method: 'POST', url: '/users/me/mfa/totp', headers: bearer(at) })).json() as { secret: string };
        const code = () => authenticator.clone({ epoch: t.clock.now() }).generate(secret);
        assert.equal((await t.app.inject({ method: 'POST', url: '/users/me/mfa/totp/confirm', headers: bearer(at), payload: { code: code() } })).statusCode, 200);
        // Enrolling is no removal: the link still stands here (checked without using it up).
        assert.ok(await t.warden.account.reset.check(pending!), 'the link survives an enrolment');
        t.clock.advance(30_000);
        return (await t.app.inject({ method: 'DELETE', url: '/users/me/mfa/totp', headers: bearer(at), payload: { code: code() } })).statusCode;
      },
      'admin force-logout': async (u) => {
        await t.warden.users.forceLogout(null, u.id, {});
        return 204;
      },
      'admin disable, then enable': async (u) => {
        await t.warden.users.adminUpdate('test', u.id, { disabled: true }, {});
        await t.warden.users.adminUpdate('test', u.id, { disabled: false }, {});
        return 200;
      },
    };
    for (const [i, [what, change]] of Object.entries(changes).entries()) {
      it(what, async () => {
        // A name of its own: the SMTP server is shared, and an earlier test's mails may still be unread.
        const u = await userWithMailbox(t, smtp, `kim${i}`);
        const { access_token } = await tokensFor(t.app, u.username);
        pending = await resetLink(t, smtp, u.email);
        assert.ok([200, 204].includes(await change(u, access_token)), what);
        t.clock.advance(1000);
        const res = await t.app.inject({ method: 'POST', url: '/password/reset', payload: { token: pending, new_password: 'an attacker chose this one' } });
        assert.equal(res.statusCode, 400, `${what}: the older link is refused`);
        assert.equal(res.json().code, 'invalid_reset_token', what);
      });
    }
  });

  it('a newer request invalidates the older link', async () => {
    await userWithMailbox(t, smtp, 'erin');
    await forgot(t, 'erin@example.com');
    const first = tokenFrom(await smtp.next('erin@example.com'), '/password/reset').token;
    await forgot(t, 'erin@example.com');
    const second = tokenFrom(await smtp.next('erin@example.com'), '/password/reset').token;
    assert.notEqual(first, second);
    assert.equal((await t.app.inject({ method: 'POST', url: '/password/reset', payload: { token: first, new_password: NEW_PASSWORD } })).statusCode, 400);
    assert.equal((await t.app.inject({ method: 'POST', url: '/password/reset', payload: { token: second, new_password: NEW_PASSWORD } })).statusCode, 204);
  });

  it('an expired link fails (injected clock)', async () => {
    await userWithMailbox(t, smtp, 'fred');
    await forgot(t, 'fred@example.com');
    const { token } = tokenFrom(await smtp.next('fred@example.com'), '/password/reset');
    t.clock.advance(30 * 60_000 + 1000);
    const res = await t.app.inject({ method: 'POST', url: '/password/reset', payload: { token, new_password: NEW_PASSWORD } });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().code, 'invalid_reset_token');
    const page = await t.app.inject({ method: 'GET', url: `/password/reset?token=${token}` });
    assert.equal(page.statusCode, 400);
    assert.doesNotMatch(page.body, /<form/);
  });

  it('mails at most three links per address per 15 minutes (the answer stays the same)', async () => {
    await userWithMailbox(t, smtp, 'gail');
    for (let i = 0; i < 5; i++) assert.equal((await forgot(t, 'gail@example.com')).statusCode, 202);
    await t.warden.account.reset.idle();
    await t.warden.mailer.flush();
    assert.equal(smtp.received.filter((m) => m.to.includes('gail@example.com') && /Reset/.test(m.subject)).length, 3);
  });

  it('the quota and the lookup share one normalisation: spellings SQL lower() folds together share one quota (issue 13 item 22)', async () => {
    await userWithMailbox(t, smtp, 'iris');
    // JavaScript lowercases 'İ' to 'i' + U+0307, PostgreSQL's lower() to 'i': every spelling below names
    // iris@example.com for the lookup, and must count against that one address's quota.
    for (const email of ['iris@example.com', 'İris@example.com', 'irİs@example.com', 'İrİs@example.com', 'IRIS@example.com']) {
      const res = await t.app.inject({ method: 'POST', url: '/password/forgot/form', ...form({ email }) });
      assert.equal(res.statusCode, 202);
    }
    await t.warden.account.reset.idle();
    await t.warden.mailer.flush();
    assert.equal(smtp.received.filter((m) => m.to.includes('iris@example.com') && /Reset/.test(m.subject)).length, 3);
  });

  it('the reset page escapes what it shows and refuses cross-site form posts', async () => {
    const evil = await t.app.inject({ method: 'GET', url: `/password/reset?token=${encodeURIComponent('"><script>alert(1)</script>')}` });
    assert.equal(evil.statusCode, 400);
    assert.doesNotMatch(evil.body, /<script>/);
    await userWithMailbox(t, smtp, 'hank');
    await forgot(t, 'hank@example.com');
    const { token } = tokenFrom(await smtp.next('hank@example.com'), '/password/reset');
    const page = await t.app.inject({ method: 'GET', url: `/password/reset?token=${token}` });
    assert.equal(page.statusCode, 200);
    assert.match(page.headers['content-security-policy'] as string, /form-action 'self'/);
    assert.equal(page.headers['cache-control'], 'no-store');
    assert.equal(page.headers['referrer-policy'], 'same-origin');
    const body = { token, new_password: NEW_PASSWORD, confirm_password: NEW_PASSWORD };
    for (const headers of [{ origin: 'https://evil.example' }, { 'sec-fetch-site': 'cross-site' }]) {
      const res = await t.app.inject({ method: 'POST', url: '/password/reset/form', payload: new URLSearchParams(body).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });
      assert.equal(res.statusCode, 403);
    }
    assert.equal((await passwordLogin(t.app, 'hank', STRONG_PASSWORD)).statusCode, 200, 'the refused posts changed nothing');
  });
});

describe('password reset in headless Chromium, without JavaScript', () => {
  const browserSkip = requireService(existsSync(CHROMIUM), 'chromium at /usr/bin/chromium');
  let smtp: SmtpHarness;
  let t: TestApp;
  let base: string;
  before(async () => {
    smtp = await startSmtp();
    t = await createTestApp({ env: { SMTP_URL: smtp.url } });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await t.close();
    await smtp.close();
  });

  it('forgot → mail → the mailed link → form → new password works, old does not, link dead', browserSkip, async () => {
    const ivy = await userWithMailbox(t, smtp, 'ivy');
    const session = await tokensFor(t.app, 'ivy');
    t.clock.advance(1000);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const context = await browser.newContext({ javaScriptEnabled: false });
      const page = await context.newPage();
      // The forgot form too: a person who only has a browser can do the whole flow.
      await page.goto(`${base}/password/forgot`);
      await page.fill('#email', ivy.email);
      await page.click('button[type=submit]');
      assert.match(await page.textContent('main') ?? '', /If an account uses this address/);

      const { link } = tokenFrom(await smtp.next(ivy.email), '/password/reset');
      const url = new URL(link);
      await page.goto(`${base}${url.pathname}${url.search}`);
      await page.fill('#new_password', NEW_PASSWORD);
      await page.fill('#confirm_password', 'not the same');
      await page.click('button[type=submit]');
      assert.match(await page.textContent('main') ?? '', /The two passwords differ/);

      await page.fill('#new_password', 'short');
      await page.fill('#confirm_password', 'short');
      await page.click('button[type=submit]');
      assert.match(await page.textContent('main') ?? '', /password policy/);

      await page.fill('#new_password', NEW_PASSWORD);
      await page.fill('#confirm_password', NEW_PASSWORD);
      await page.click('button[type=submit]');
      assert.match(await page.textContent('h1') ?? '', /Password changed/);

      assert.equal((await passwordLogin(t.app, 'ivy', STRONG_PASSWORD)).statusCode, 400);
      assert.equal((await passwordLogin(t.app, 'ivy', NEW_PASSWORD)).statusCode, 200);
      assert.equal((await refresh(t, session.refresh_token)).statusCode, 400);

      await page.goto(`${base}${url.pathname}${url.search}`);
      assert.match(await page.textContent('main') ?? '', /invalid, already used or expired/);
      await context.close();
    } finally {
      await browser.close();
    }
  });
});
