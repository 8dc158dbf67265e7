import { join } from 'node:path';
import { ROOT } from '../support/process.js';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { authenticator } from 'otplib';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { STYLESHEET_URL } from '../../src/kernel/html/stylesheet.js';
import { RedisStateStore } from '../../src/kernel/storage/state/redis.js';
import { bearer, createAdmin, createTestApp, registerUser, requireService, STRONG_PASSWORD, tokensFor, type TestApp } from '../support/app.js';
import { pkce, registerClient } from '../oauth/support.js';
import { consoleLogin, post } from '../console/support.js';

// Issue 17 item 12: every page in one visual system (a stylesheet that loads under the strict CSP, not
// the browser's Times), a home page at /, sign-in links to forgot-password and registration, consent
// that says where the user is sent, destructive console actions that ask to confirm, names in the
// audit log, Swagger UI under Warden's name without CSP errors, and an HTML 503 while the state store is down.

import { CHROMIUM, CHROMIUM_ARGS } from '../support/browser.js';
/** WARDEN_SCREENSHOTS=1 npm test -- test/http/pages-browser.test.ts  refreshes docs/screenshots/*.png */
const SHOTS = process.env.WARDEN_SCREENSHOTS === '1' ? join(ROOT, 'docs/screenshots/') : undefined;

describe('every page in a real browser', () => {
  const skip = requireService(existsSync(CHROMIUM), 'chromium at /usr/bin/chromium');
  let t: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let base: string;
  let callback: Server;
  let callbackBase: string;
  let clientId: string;
  let totpSecret: string;
  /** Console errors (CSP violations are reported there) and uncaught page errors, per page visit. */
  const problems: string[] = [];

  const shot = async (name: string) => {
    if (!SHOTS) return;
    mkdirSync(SHOTS, { recursive: true });
    const path = `${SHOTS}${name}.png`;
    // The viewport only (1024x700): enough to show the page, small enough for the repository.
    await page.screenshot({ path });
    assert.ok(statSync(path).size < 120_000, `${name}.png stays small`);
  };

  /** The page is styled by the shared stylesheet (not the browser's default Times) and broke no rule of the CSP. */
  async function assertStyled(what: string) {
    const font = await page.evaluate(() => getComputedStyle(document.body).fontFamily);
    assert.doesNotMatch(font, /times/i, `${what}: ${font}`);
    assert.match(font, /system-ui/, what);
    assert.equal(await page.locator(`link[rel=stylesheet][href="${STYLESHEET_URL}"]`).count(), 1, `${what} links the stylesheet`);
    assert.equal(await page.evaluate(() => document.styleSheets.length), 1, `${what}: the stylesheet loaded`);
    assert.equal(await page.locator('script:not([src^="/static/"]), [style]').count(), 0, `${what}: nothing inline (scripts only this server's files)`);
    assert.deepEqual(problems.splice(0), [], `${what}: no console error or CSP violation`);
  }

  before(async () => {
    if (skip.skip) return;
    t = await createTestApp({ env: { REGISTRATION: 'open' } });
    t.clock.set(Date.now());
    // The app the user signs in to: receives the code at its redirect URI.
    callback = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>Orders app</title><h1>Back at the app</h1>');
    });
    await new Promise<void>((r) => callback.listen(0, '127.0.0.1', r));
    callbackBase = `http://127.0.0.1:${(callback.address() as AddressInfo).port}`;
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    context = await browser.newContext({ viewport: { width: 1024, height: 700 } });
    page = await context.newPage();
    // An error status of the page itself is the page's answer, not a problem; any other failed request is.
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text());
    });
    page.on('response', (r) => {
      if (r.status() >= 400 && r.request().resourceType() !== 'document') problems.push(`${r.status()} ${r.url()}`);
    });
    page.on('requestfailed', (r) => problems.push(`failed ${r.url()}`));
    page.on('pageerror', (e) => problems.push(e.message));
  });
  after(async () => {
    if (skip.skip) return;
    await browser.close();
    await new Promise<void>((r) => callback.close(() => r()));
    await t.close();
  });

  it('serves the stylesheet at a content-hashed URL, cached for a year, and no other stylesheet', skip, async () => {
    assert.match(STYLESHEET_URL, /^\/static\/warden-[0-9a-f]{12}\.css$/);
    const css = await fetch(`${base}${STYLESHEET_URL}`);
    assert.equal(css.status, 200);
    assert.match(css.headers.get('content-type')!, /^text\/css/);
    assert.equal(css.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal((await fetch(`${base}/static/warden-000000000000.css`)).status, 404);
    assert.equal((await fetch(`${base}/oauth/style.css`)).status, 404);
    assert.equal((await fetch(`${base}/admin/console/console.css`)).status, 404);
  });

  it('the first-admin setup page, before any admin exists', skip, async () => {
    const token = t.app.setupLink.issue();
    await page.goto(`${base}/setup?token=${token}`);
    await page.getByRole('heading', { name: 'Create the first administrator' }).waitFor();
    await assertStyled('/setup');
    await shot('setup');
  });

  it('the home page says what this is and its links lead to the docs, the console and the account page', skip, async () => {
    const admin = await createAdmin(t, 'root');
    const client = await registerClient(t, admin.access_token, {
      client_name: 'Orders app',
      redirect_uris: [`${callbackBase}/callback`],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
    });
    clientId = client.client_id;

    const res = await page.goto(`${base}/`);
    assert.equal(res!.status(), 200);
    assert.match(await page.locator('main').innerText(), /Warden identity server/);
    await assertStyled('/');
    await shot('home');
    assert.equal(await page.getByRole('link', { name: 'Your account' }).getAttribute('href'), '/account');

    await page.getByRole('link', { name: 'API documentation' }).click();
    await page.waitForURL(/\/docs/);
    await page.locator('.swagger-ui .info .title').waitFor();
    assert.equal(await page.title(), 'Warden API docs');
    // Under Warden's name, without Swagger's logo; the admin group comes last.
    assert.match(await page.locator('.swagger-ui .info .title').innerText(), /^Warden API/);
    assert.equal(await page.locator('.topbar, svg[viewBox="0 0 407 116"]').count(), 0, "no Swagger logo");
    const tags = await page.locator('.opblock-tag-section h3').allInnerTexts();
    assert.equal(tags.at(-1)?.split('\n')[0]?.trim(), 'admin', tags.join(' | '));
    await shot('docs');
    // Opening an operation and the Authorize dialog renders more of the UI: still nothing the CSP refuses.
    await page.locator('.opblock-summary').first().click();
    await page.locator('.opblock-body').first().waitFor();
    await page.getByRole('button', { name: /Authorize/ }).first().click();
    await page.locator('.modal-ux').waitFor();
    await page.locator('.modal-ux .close-modal').click();
    assert.deepEqual(problems.splice(0), [], '/docs: no console error or CSP violation');

    await page.goto(`${base}/`);
    await page.getByRole('link', { name: 'Admin console' }).click();
    await page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/admin/console/login');
    await assertStyled('console sign-in');
  });

  it('the sign-in page leads to "forgot password" and "create an account", and back to sign-in with a notice; consent names the destination', skip, async () => {
    const { challenge } = pkce();
    const q = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: `${callbackBase}/callback`, scope: 'openid profile', state: 's1', code_challenge: challenge, code_challenge_method: 'S256' });
    await page.goto(`${base}/authorize?${q.toString()}`);
    await page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor();
    await assertStyled('/authorize sign-in');
    await shot('sign-in');

    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.getByRole('heading', { name: 'Forgot your password?' }).waitFor();
    await assertStyled('/password/forgot');
    await shot('password-forgot');
    await page.getByLabel('Your e-mail address').fill('nobody@example.com');
    await page.getByRole('button', { name: 'Mail me a reset link' }).click();
    await page.getByRole('heading', { name: 'Check your mail' }).waitFor();
    await assertStyled('/password/forgot/form');
    await page.goBack();
    await page.goBack();

    await page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor();
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByRole('heading', { name: 'Create an account' }).waitFor();
    await assertStyled('/register');
    await page.getByLabel('Username').fill('x');
    await page.getByLabel('E-mail address').fill('not-an-address');
    await page.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
    await page.getByLabel('Password again').fill('something else');
    await page.getByRole('button', { name: 'Create the account' }).click();
    await page.getByRole('alert').waitFor();
    // Each error beside its field, tied to it for screen readers.
    assert.equal(await page.getByLabel('Username').getAttribute('aria-invalid'), 'true');
    assert.match(await page.locator('#username-error').innerText(), /3 to 32/);
    assert.match(await page.locator('#email-error').innerText(), /e-mail address/);
    assert.match(await page.locator('#password_confirm-error').innerText(), /differ/);
    assert.equal(await page.getByLabel('Username').inputValue(), 'x', 'what was typed is kept');
    assert.equal(await page.getByLabel('Password', { exact: true }).inputValue(), '', 'a password is never sent back');
    await assertStyled('/register with errors');
    await shot('register-errors');

    await page.getByLabel('Username').fill('newcomer');
    await page.getByLabel('E-mail address').fill('newcomer@example.com');
    await page.getByLabel('Password', { exact: true }).fill('short');
    await page.getByLabel('Password again').fill('short');
    await page.getByRole('button', { name: 'Create the account' }).click();
    await page.locator('#password-error').waitFor();
    assert.equal(await page.getByLabel('Password', { exact: true }).getAttribute('aria-invalid'), 'true', 'the password policy names the field');

    await page.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
    await page.getByLabel('Password again').fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Create the account' }).click();
    await page.getByRole('status').filter({ hasText: 'Your account was created' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/authorize');
    await assertStyled('sign-in after registering');
    await page.reload();
    assert.equal(await page.getByRole('status').count(), 0, 'the notice is shown once');

    await page.getByLabel('Username or e-mail').fill('newcomer');
    await page.getByLabel('Password').fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
    assert.equal(await page.locator('.destination').innerText(), callbackBase);
    await assertStyled('consent');
    await shot('consent');
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${callbackBase}/callback?**`);
    const back = new URL(page.url());
    assert.ok(back.searchParams.get('code'));
    assert.equal(back.searchParams.get('state'), 's1');
  });

  it('the two-step verification page', skip, async () => {
    await registerUser(t.app, 'twostep');
    const { access_token } = await tokensFor(t.app, 'twostep');
    const e = await t.app.inject({ method: 'POST', url: '/users/me/mfa/totp', headers: bearer(access_token) });
    totpSecret = (e.json() as { secret: string }).secret;
    const code = authenticator.clone({ epoch: t.clock.now() }).generate(totpSecret);
    const c = await t.app.inject({ method: 'POST', url: '/users/me/mfa/totp/confirm', headers: bearer(access_token), payload: { code } });
    assert.equal(c.statusCode, 200, c.body);
    const { challenge } = pkce();
    const q = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: `${callbackBase}/callback`, scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256', prompt: 'login' });
    await page.goto(`${base}/authorize?${q.toString()}`);
    await page.getByLabel('Username or e-mail').fill('twostep');
    await page.getByLabel('Password').fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    await assertStyled('MFA');
  });

  it('the mailed-link pages (reset, e-mail verification) are styled too', skip, async () => {
    for (const [url, heading] of [
      ['/password/reset?token=nope', 'Reset your password'],
      ['/email/verify?token=nope', 'Confirm your e-mail address'],
    ] as const) {
      await page.goto(`${base}${url}`);
      await page.getByRole('heading', { name: heading }).waitFor();
      await assertStyled(url);
    }
  });

  it('a destructive console action asks to confirm; the audit log names the user beside the id', skip, async () => {
    const victim = await registerUser(t.app, 'mallory');
    await page.goto(`${base}/admin/console/login`);
    await page.getByLabel('Username or e-mail').fill('root');
    await page.getByLabel('Password').fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
    await assertStyled('console users');
    await shot('console-users');
    for (const section of ['Clients', 'APIs', 'Roles', 'Signing keys']) {
      await page.getByRole('navigation').getByRole('link', { name: section }).click();
      await page.getByRole('heading', { name: section, level: 1 }).waitFor();
      await assertStyled(`console ${section}`);
    }

    await page.goto(`${base}/admin/console/users/${victim.id}`);
    await page.getByRole('heading', { name: 'User mallory' }).waitFor();
    await assertStyled('console user');
    // Without the box ticked the browser does not send the form (no script needed)...
    await page.getByRole('button', { name: 'Disable account' }).click();
    assert.equal(await page.getByRole('checkbox', { name: /Yes, disable mallory/ }).evaluate((el) => (el as HTMLInputElement).validity.valueMissing), true);
    assert.equal((await t.warden.users.get(victim.id)).disabled, false, 'not disabled without confirmation');
    await shot('console-user');
    // ...and ticked, it is.
    await page.getByRole('checkbox', { name: /Yes, disable mallory/ }).check();
    await page.getByRole('button', { name: 'Disable account' }).click();
    await page.getByRole('status').filter({ hasText: 'Account disabled' }).waitFor();
    assert.equal((await t.warden.users.get(victim.id)).disabled, true);

    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByLabel('Event type').fill('user.disabled');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const row = page.locator('tbody tr').filter({ hasText: 'user.disabled' });
    assert.equal(await row.count(), 1);
    const cells = await row.locator('td').allInnerTexts();
    assert.match(cells[1]!, /^root\s/, 'the actor by username');
    assert.ok(cells[1]!.includes((await t.warden.users.list({ q: 'root', limit: 1 })).items[0]!.id), 'and by id');
    assert.match(cells[2]!, new RegExp(`^mallory\\s+${victim.id}$`), 'the subject by username and id');
    await assertStyled('console audit');
    await page.getByRole('link', { name: 'Clear' }).click();
    await page.getByLabel('Event type').fill('client.created');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    assert.match((await page.locator('tbody tr').first().locator('td').allInnerTexts())[2]!, /^Orders app\s/, 'a client by its name');
    await shot('console-audit');
  });
});

describe('destructive console actions without the confirmation box', () => {
  it('are refused by the server (422) and change nothing; with it they run', async () => {
    const t = await createTestApp();
    try {
      await createAdmin(t, 'root');
      const victim = await registerUser(t.app, 'victim');
      const admin = await tokensFor(t.app, 'root');
      const client = await registerClient(t, admin.access_token, { client_name: 'Doomed', redirect_uris: ['https://doomed.example/cb'] });
      const { jar, csrf } = await consoleLogin(t, 'root');
      const keysBefore = (await t.warden.keys.list()).length;
      const cases: Array<[string, () => Promise<boolean>]> = [
        [`/admin/console/users/${victim.id}/disable`, async () => (await t.warden.users.get(victim.id)).disabled],
        [`/admin/console/users/${victim.id}/logout`, async () => (await t.warden.users.get(victim.id)).tokensValidAfter.getTime() > 0],
        [`/admin/console/clients/${client.client_id}/rotate`, async () => false],
        [`/admin/console/clients/${client.client_id}/delete`, async () => !(await t.warden.clients.find(client.client_id))],
        ['/admin/console/keys/rotate', async () => (await t.warden.keys.list()).length > keysBefore],
      ];
      for (const [url, done] of cases) {
        const before = await done();
        const res = await post(t, url, jar, { _csrf: csrf! });
        assert.equal(res.statusCode, 422, url);
        assert.match(res.headers['content-type'] as string, /^text\/html/);
        assert.match(res.body, /Tick the confirmation box/, url);
        assert.equal(await done(), before, `${url} changed nothing`);
      }
      for (const [url] of cases) {
        const res = await post(t, url, jar, { _csrf: csrf!, confirm: 'yes' });
        assert.ok(res.statusCode === 303 || res.statusCode === 200, `${url}: ${res.statusCode}`);
      }
      assert.equal((await t.warden.users.get(victim.id)).disabled, true);
      assert.equal(await t.warden.clients.find(client.client_id), undefined);
      assert.equal((await t.warden.keys.list()).length, keysBefore + 1);
    } finally {
      await t.close();
    }
  });
});

describe('an item as HTML', () => {
  it('is a page of the shared layout', async () => {
    const t = await createTestApp();
    try {
      await registerUser(t.app, 'owner');
      const { access_token } = await tokensFor(t.app, 'owner');
      const item = await t.app.inject({ method: 'POST', url: '/items', headers: bearer(access_token), payload: { title: '<i>Plan</i>' } });
      const res = await t.app.inject({ method: 'GET', url: `/items/${(item.json() as { id: string }).id}`, headers: { ...bearer(access_token), accept: 'text/html' } });
      assert.equal(res.statusCode, 200);
      assert.ok(res.body.includes(`href="${STYLESHEET_URL}"`));
      assert.ok(res.body.includes('<h1>&lt;i&gt;Plan&lt;/i&gt;</h1>'));
    } finally {
      await t.close();
    }
  });
});

describe('the OpenAPI document', () => {
  it('lists API routes only, with the admin group last', async () => {
    const t = await createTestApp();
    try {
      const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { tags: Array<{ name: string }>; paths: Record<string, Record<string, { tags?: string[] }>> };
      const paths = Object.keys(doc.paths);
      for (const p of paths) assert.doesNotMatch(p, /^\/($|static|oauth\/style|register|setup|admin\/console|password\/(forgot\/form|reset\/form)|email\/verify\/form|docs)/, p);
      assert.ok(paths.includes('/token') && paths.includes('/authorize') && paths.includes('/admin/users'));
      assert.equal(doc.tags.at(-1)!.name, 'admin');
      const named = new Set(doc.tags.map((x) => x.name));
      for (const ops of Object.values(doc.paths)) for (const op of Object.values(ops)) for (const tag of op.tags ?? ['(none)']) assert.ok(named.has(tag), `tag ${tag} is ordered`);
    } finally {
      await t.close();
    }
  });
});

describe('the pages while the state store is down', () => {
  it('answer an HTML 503 page with Retry-After, not problem JSON', async () => {
    const state = new RedisStateStore('redis://127.0.0.1:1', { maxReconnectDelayMs: 50, log: { error: () => {}, warn: () => {}, info: () => {} } });
    assert.equal(await state.connected(200), false);
    const t = await createTestApp({ state });
    (state as unknown as { log: unknown }).log = { error: () => {}, warn: () => {}, info: () => {} };
    try {
      await t.warden.users.create({ username: 'alice', email: 'alice@example.com', password: STRONG_PASSWORD }, {});
      const client = await t.warden.clients.create({ client_name: 'App', redirect_uris: ['https://app.example/cb'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'] }, {});
      const { challenge } = pkce();
      const q = new URLSearchParams({ response_type: 'code', client_id: client.client.client_id, redirect_uri: 'https://app.example/cb', scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256' });
      const authorize = await t.app.inject({ method: 'GET', url: `/authorize?${q.toString()}` });
      const login = await consoleLogin(t, 'alice');
      for (const res of [authorize, login.res]) {
        assert.equal(res.statusCode, 503, res.body.slice(0, 200));
        assert.equal(res.headers['retry-after'], '5');
        assert.match(res.headers['content-type'] as string, /^text\/html/);
        assert.match(res.headers['content-security-policy'] as string, /default-src 'none'/);
        assert.match(res.body, /Temporarily unavailable/);
        assert.ok(res.body.includes(`href="${STYLESHEET_URL}"`));
      }
      // The API keeps answering problem JSON.
      const api = await t.app.inject({ method: 'POST', url: '/token', payload: new URLSearchParams({ grant_type: 'password', username: 'alice', password: STRONG_PASSWORD }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(api.statusCode, 503);
      assert.match(api.headers['content-type'] as string, /json/);
    } finally {
      await t.close();
      await state.close();
    }
  });
});
