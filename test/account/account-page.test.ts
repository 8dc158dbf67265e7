import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { authenticator } from 'otplib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { bearer, createTestApp, registerUser, requireService, STRONG_PASSWORD, type TestApp } from '../support/app.js';

import { CHROMIUM, CHROMIUM_ARGS } from '../support/browser.js';
const NEW_PASSWORD = 'a brand new passphrase, quite long';

describe('the account page (/account) in a real browser', () => {
  const skip = requireService(existsSync(CHROMIUM), 'chromium at /usr/bin/chromium');
  let t: TestApp;
  let browser: Browser;
  let base: string;
  const violations: string[] = [];

  before(async () => {
    if (skip.skip) return;
    t = await createTestApp();
    t.clock.set(Date.now());
    await registerUser(t.app, 'alice');
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  after(async () => {
    if (skip.skip) return;
    await browser.close();
    await t.close();
  });

  const apiLogin = async (ua: string, password = STRONG_PASSWORD) => {
    const res = await fetch(`${base}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': ua },
      body: new URLSearchParams({ grant_type: 'password', username: 'alice', password }),
    });
    assert.equal(res.status, 200);
    return (await res.json()) as { access_token: string; refresh_token: string };
  };
  const me = async (token: string) => (await fetch(`${base}/users/me`, { headers: bearer(token) })).status;

  async function newPage(): Promise<Page> {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    return page;
  }

  async function signIn(page: Page, password = STRONG_PASSWORD) {
    const res = await page.goto(`${base}/account`);
    assert.equal(res!.status(), 200);
    await page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor();
    assert.ok((await page.content()).includes('your Warden account'));
    await page.getByLabel('Username or e-mail').fill('alice');
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  }

  it('signs in through the /authorize login page, shows the sessions (current marked), ends another one, changes the password', skip, async () => {
    const other = await apiLogin('Other-Device/1.0 <b>bold</b>');
    assert.equal(await me(other.access_token), 200);
    const page = await newPage();
    await signIn(page);
    await page.getByRole('heading', { name: 'Your account', level: 1 }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/account');
    const res = await page.reload();
    const csp = res!.headers()['content-security-policy']!;
    assert.match(csp, /default-src 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.equal(await page.locator('script:not([src^="/static/"])').count(), 0);
    assert.equal(await page.locator('[style]').count(), 0);
    assert.equal(await page.locator('header').getByRole('link', { name: 'Sign out' }).getAttribute('href'), '/logout');

    // Two sessions: this browser's (marked) and the API login (its user agent shown as text).
    const sessions = page.locator('ul.sessions > li');
    assert.equal(await sessions.count(), 2);
    const current = page.locator('ul.sessions > li[aria-current="true"]');
    assert.equal(await current.count(), 1);
    assert.ok((await current.innerText()).includes('(this session)'));
    const otherItem = sessions.filter({ hasText: 'Other-Device/1.0 <b>bold</b>' });
    assert.equal(await otherItem.count(), 1);
    // Recent sign-ins: both logins, from the audit log.
    const signIns = page.locator('section[aria-labelledby="signins-heading"] tbody tr');
    assert.ok((await signIns.count()) >= 2);
    assert.ok((await signIns.first().innerText()).includes('Succeeded'));

    // End the other session: its access token stops at once.
    await otherItem.getByRole('button', { name: 'End this session' }).click();
    await page.getByText('The session was ended').waitFor();
    assert.equal(await page.locator('ul.sessions > li').count(), 1);
    assert.equal(await me(other.access_token), 401);

    // Password: a mismatch, then a weak one (the policy), then success, which ends the other sessions.
    const third = await apiLogin('Third-Device/1.0');
    await page.getByLabel('Current password').fill(STRONG_PASSWORD);
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('New password again').fill('something else entirely');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('does not match the new password').waitFor();
    assert.equal(await page.locator('#password-confirm_password').getAttribute('aria-invalid'), 'true');

    await page.getByLabel('Current password').fill(STRONG_PASSWORD);
    await page.getByLabel('New password', { exact: true }).fill('short');
    await page.getByLabel('New password again').fill('short');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.locator('#password-new_password-error').waitFor();
    assert.equal(await page.locator('#password-new_password').getAttribute('aria-invalid'), 'true');
    assert.equal(await me(third.access_token), 200);

    await page.getByLabel('Current password').fill(STRONG_PASSWORD);
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('New password again').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Your password was changed').waitFor({ timeout: 5000 }).catch(async (e) => { console.log('PAGE', await page.content()); throw e; });
    assert.equal(await me(third.access_token), 401);
    // Still signed in here: the page's own session was kept.
    await page.reload();
    await page.getByRole('heading', { name: 'Your account', level: 1 }).waitFor();
    assert.equal(await page.locator('ul.sessions > li').count(), 1);
    // (The manual clock stands still: a token of the very millisecond of the change would be refused.)
    t.clock.advance(1000);
    const after = await apiLogin('After/1.0', NEW_PASSWORD);
    // This browser's session ended from elsewhere (the API): the page asks to sign in again.
    const listed = (await (await fetch(`${base}/users/me/sessions`, { headers: bearer(after.access_token) })).json()) as { items: Array<{ sid: string; user_agent: string }> };
    const browserSid = listed.items.find((x) => x.user_agent.includes('HeadlessChrome'))!.sid;
    assert.equal((await fetch(`${base}/users/me/sessions/${browserSid}`, { method: 'DELETE', headers: bearer(after.access_token) })).status, 204);
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor({ timeout: 5000 });
    assert.deepEqual(violations, []);
    await page.context().close();
  });

  it('ends all other sessions, enrols TOTP (recovery codes shown once), and then the sign-in asks for the code', skip, async () => {
    const a = await apiLogin('Other-A/1.0', NEW_PASSWORD);
    const b = await apiLogin('Other-B/1.0', NEW_PASSWORD);
    const page = await newPage();
    await signIn(page, NEW_PASSWORD);
    await page.getByRole('heading', { name: 'Your account', level: 1 }).waitFor();
    await page.getByRole('button', { name: /End all other sessions/ }).click();
    await page.getByText('Every other session was ended').waitFor();
    assert.equal(await me(a.access_token), 401);
    assert.equal(await me(b.access_token), 401);
    assert.equal(await page.locator('ul.sessions > li').count(), 1);

    await page.getByRole('button', { name: 'Set up two-step verification' }).click();
    const secret = (await page.locator('section[aria-labelledby="mfa-heading"] dd code').innerText()).trim();
    await page.getByLabel('Code from the app').fill('000000');
    await page.getByRole('button', { name: 'Turn on two-step verification' }).click();
    await page.locator('#mfa-code-error').waitFor();
    await page.getByLabel('Code from the app').fill(authenticator.clone({ epoch: t.clock.now() }).generate(secret));
    await page.getByRole('button', { name: 'Turn on two-step verification' }).click();
    await page.getByText('Keep these recovery codes').waitFor();
    assert.equal(await page.locator('ul.recovery-codes li').count(), 10);
    await page.getByRole('link', { name: 'Done' }).click();
    assert.ok((await page.locator('section[aria-labelledby="mfa-heading"]').innerText()).includes('on'));

    // A new browser: password, then the second-factor page, then the account page.
    t.clock.advance(60_000);
    const second = await newPage();
    await signIn(second, NEW_PASSWORD);
    await second.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    await second.getByLabel('Code').fill(authenticator.clone({ epoch: t.clock.now() }).generate(secret));
    await second.getByRole('button', { name: 'Verify' }).click();
    await second.getByRole('heading', { name: 'Your account', level: 1 }).waitFor();
    const sid = decodeJwt(a.access_token).sid;
    assert.ok(sid);
    assert.ok((await second.locator('ul.sessions > li[aria-current="true"]').innerText()).includes('password + two-step code'));
    // Signed in, same site, but without this session's form token: refused, nothing ended.
    const cookie = (await second.context().cookies()).map((x) => `${x.name}=${x.value}`).join('; ');
    const forged = await fetch(`${base}/account/sessions/logout-others`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
      body: 'csrf=' + 'A'.repeat(43),
    });
    assert.equal(forged.status, 403);
    // The first browser's session (an "other" session of the second) is still signed in.
    await page.reload();
    await page.getByRole('heading', { name: 'Your account', level: 1 }).waitFor({ timeout: 5000 });
    assert.deepEqual(violations, []);
    await page.context().close();
    await second.context().close();
  });

  it('refuses a form post without the CSRF token, or from another site, and sends a signed-out post to sign-in', skip, async () => {
    const post = (headers: Record<string, string>, body: string) =>
      fetch(`${base}/account/sessions/logout-others`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
    assert.equal((await post({ 'sec-fetch-site': 'cross-site' }, 'csrf=x')).status, 403);
    const signedOut = await post({ 'sec-fetch-site': 'same-origin' }, 'csrf=x');
    assert.equal(signedOut.status, 303);
    assert.equal(signedOut.headers.get('location'), '/account');
  });
});
