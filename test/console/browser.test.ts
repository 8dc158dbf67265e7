import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { findAuditEvents } from '../../src/features/audit/repository.js';
import { createAdmin, createTestApp, registerUser, requireService, STRONG_PASSWORD, type TestApp } from '../support/app.js';

import { CHROMIUM, CHROMIUM_ARGS } from '../support/browser.js';
const XSS = '<script>alert("xss")</script><img src=x onerror=alert(2)>';

describe('admin console in a real browser', () => {
  const skip = requireService(existsSync(CHROMIUM), 'chromium at /usr/bin/chromium');
  let t: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let base: string;
  let victimId: string;
  const dialogs: string[] = [];


  before(async () => {
    if (skip.skip) return;
    t = await createTestApp();
    t.clock.set(Date.now());
    const admin = await createAdmin(t, 'root');
    await t.warden.users.updateProfile(admin.id, { fullName: `Root ${XSS}` }, {});
    const victim = await registerUser(t.app, 'mallory', STRONG_PASSWORD, { full_name: XSS });
    victimId = victim.id;
    for (const name of ['alice', 'bob', 'carol']) await registerUser(t.app, name, STRONG_PASSWORD, { full_name: `${name[0]!.toUpperCase()}${name.slice(1)} Example` });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
  });
  after(async () => {
    if (skip.skip) return;
    await browser.close();
    await t.close();
  });

  /** Every console page: the stored markup is shown as text, no script element exists, no dialog fired. */
  async function assertInert() {
    assert.equal(await page.locator('script').count(), 0);
    assert.equal(await page.locator('img').count(), 0);
    assert.deepEqual(dialogs, []);
  }

  it('an admin signs in, finds a user, disables them, and sees the event in the audit log', skip, async () => {
    await page.goto(`${base}/admin`);
    assert.equal(new URL(page.url()).pathname, '/admin/console/login');
    await page.getByLabel('Username or e-mail').fill('root');
    await page.getByLabel('Password').fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
    await assertInert();
    assert.ok((await page.locator('header').innerText()).includes(`Root ${XSS}`));

    await page.getByLabel('Search username or e-mail').fill('mallory');
    await page.getByRole('button', { name: 'Search' }).click();
    const row = page.locator('tbody tr').filter({ hasText: 'mallory' });
    assert.equal(await page.locator('tbody tr').count(), 1);
    assert.ok((await row.innerText()).includes(XSS), 'full name shown as text');
    await assertInert();
    await row.getByRole('link', { name: 'mallory' }).click();
    await page.getByRole('heading', { name: 'User mallory' }).waitFor();
    await assertInert();
    await page.getByRole('checkbox', { name: /Yes, disable mallory/ }).check();
    await page.getByRole('button', { name: 'Disable account' }).click();
    await page.getByRole('status').filter({ hasText: 'Account disabled' }).waitFor();
    assert.equal((await t.warden.users.get(victimId)).disabled, true);
    await assertInert();

    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByLabel('Event type').fill('user.disabled');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const event = page.locator('tbody tr').filter({ hasText: 'user.disabled' });
    assert.equal(await event.count(), 1);
    assert.ok((await event.innerText()).includes(victimId));
    await assertInert();
    await page.getByRole('link', { name: 'Clear' }).click();
  });

  it('shows the stored <script> as text on the clients and keys pages too, and a new client secret once', skip, async () => {
    await page.getByRole('link', { name: 'Clients' }).click();
    await page.getByLabel('Name').fill(`App ${XSS}`);
    await page.getByLabel('Redirect URIs (one a line)').fill('https://app.example.com/callback');
    await page.getByRole('button', { name: 'Create client' }).click();
    const secret = await page.locator('#client-secret').innerText();
    assert.match(secret, /^wcs_/);
    assert.ok((await page.locator('table').innerText()).includes(`App ${XSS}`));
    await assertInert();
    await page.goto(`${base}/admin/console/clients`);
    assert.equal(await page.locator('#client-secret').count(), 0, 'the secret is shown once');

    await page.getByRole('link', { name: 'Signing keys' }).click();
    const before = await page.locator('tbody tr').count();
    await page.getByRole('checkbox', { name: /Sign new tokens with a new key/ }).check();
    await page.getByRole('button', { name: 'Rotate now' }).click();
    await page.getByRole('status').filter({ hasText: 'new signing key' }).waitFor();
    assert.equal(await page.locator('tbody tr').count(), before + 1);
    await assertInert();
    const rotated = await findAuditEvents(t.warden.db, { type: 'key.rotated', limit: 1 });
    assert.equal(rotated.items.length, 1);
  });

  it('refuses a cross-site form post (another origin auto-submitting a form at the console)', skip, async () => {
    // The attacker's page lives on another site (localhost vs 127.0.0.1) and posts to the console.
    const evil: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<form id="f" method="post" action="${base}/admin/console/users/${victimId}/enable">
<input type="hidden" name="_csrf" value="guess"></form><script>document.getElementById('f').submit()</script>`);
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    try {
      const attack = await context.newPage();
      const posted = attack.waitForResponse((r) => r.url().endsWith(`/users/${victimId}/enable`) && r.request().method() === 'POST');
      await attack.goto(`http://localhost:${(evil.address() as AddressInfo).port}/`);
      const res = await posted;
      assert.equal(res.status(), 403);
      assert.equal((await t.warden.users.get(victimId)).disabled, true, 'still disabled');
      await attack.close();
    } finally {
      await new Promise<void>((r) => evil.close(() => r()));
    }
  });
});
