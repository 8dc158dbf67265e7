import { join } from 'node:path';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import * as oidc from 'openid-client';
import { chromium, type Browser } from 'playwright-core';
import { identityProviders, userIdentities } from '../../src/features/federation/tables.js';
import { sessions } from '../../src/features/sessions/tables.js';
import { users } from '../../src/features/users/tables.js';
import { bearer, createAdmin, createTestApp, registerUser, requireService, STRONG_PASSWORD, tokensFor, type TestApp } from '../support/app.js';
import { freePort, ROOT } from '../support/process.js';
import { UPSTREAM_CLIENT } from '../support/upstream-idp.js';
import { fakeProvider } from '../support/fake-op.js';
import { registerClient, type RegisteredClient } from '../oauth/support.js';

import { CHROMIUM, CHROMIUM_ARGS } from '../support/browser.js';
const UPSTREAM_SCRIPT = join(ROOT, 'test/support/upstream-idp.ts');
const APP_REDIRECT = 'http://127.0.0.1:9/callback';

/** A browser by hand for the HTTP-level cases: cookies per name, redirects not followed. */
class Jar {
  private readonly jar = new Map<string, string>();
  private store(res: Response) {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i);
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(c)) this.jar.delete(name);
      else this.jar.set(name, pair!.slice(i + 1));
    }
  }
  has(name: string) {
    return this.jar.has(name);
  }
  async get(url: string | URL) {
    const res = await fetch(url, { redirect: 'manual', headers: { cookie: [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ') } });
    this.store(res);
    return res;
  }
}

describe('sign-in through an upstream OIDC provider (node-oidc-provider in a second process)', () => {
  const skip = requireService(existsSync(CHROMIUM), 'chromium at /usr/bin/chromium');
  let t: TestApp;
  let issuer: string;
  let admin: Awaited<ReturnType<typeof createAdmin>>;
  let app: RegisteredClient;
  let upstream: ChildProcess;
  let upstreamProviderId: string;
  let fake: Awaited<ReturnType<typeof fakeProvider>>;
  let fakeProviderId: string;
  let browser: Browser;

  const addProvider = async (body: Record<string, unknown>) => {
    const res = await t.app.inject({ method: 'POST', url: '/admin/identity-providers', headers: bearer(admin.access_token), payload: body });
    assert.equal(res.statusCode, 201, res.body);
    return res.json() as { id: string; client_secret?: string };
  };

  const auditReasons = async (type = 'federation.failed') => {
    await t.warden.audit.flush();
    const res = await t.app.inject({ method: 'GET', url: `/admin/audit?type=${type}&limit=50`, headers: bearer(admin.access_token) });
    assert.equal(res.statusCode, 200, res.body);
    return (res.json() as { items: Array<{ details: { reason?: string } }> }).items.map((e) => e.details.reason);
  };

  const sessionCount = async () => (await t.warden.db.select().from(sessions)).length;

  before(async () => {
    if (skip.skip) return;
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    // With WARDEN_TEST_REDIS_URL the upstream leg's state (state, nonce, PKCE verifier) lives in Redis.
    const redisUrl = process.env.WARDEN_TEST_REDIS_URL;
    const redis: Record<string, string> = redisUrl ? { REDIS_URL: redisUrl, REDIS_PREFIX: `wt-fed-${process.pid}:` } : {};
    t = await createTestApp({ env: { ISSUER: issuer, REGISTRATION: 'open', ...redis } });
    await t.app.listen({ host: '127.0.0.1', port });
    admin = await createAdmin(t);
    app = await registerClient(t, admin.access_token, { client_name: 'Orders', redirect_uris: [APP_REDIRECT], scope: 'openid profile email' });

    const upstreamPort = await freePort();
    const p = await addProvider({ kind: 'oidc', name: 'Upstream', issuer: `http://127.0.0.1:${upstreamPort}`, ...UPSTREAM_CLIENT });
    upstreamProviderId = p.id;
    upstream = spawn(process.execPath, ['--import', 'tsx', UPSTREAM_SCRIPT], {
      env: { ...process.env, NODE_ENV: 'development', UPSTREAM_PORT: String(upstreamPort), UPSTREAM_REDIRECT_URI: `${issuer}/federation/${p.id}/callback` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      upstream.stdout!.on('data', (d) => {
        out += d;
        if (out.includes('"port"')) resolve();
      });
      upstream.stderr!.on('data', (d) => (out += d));
      upstream.once('exit', () => reject(new Error(`upstream IdP exited: ${out}`)));
    });

    fake = await fakeProvider();
    fakeProviderId = (await addProvider({ kind: 'oidc', name: 'Fake', issuer: fake.base, client_id: 'fake-client', client_secret: 'fake-secret' })).id;

    await registerUser(t.app, 'carol', STRONG_PASSWORD);
    await registerUser(t.app, 'victim', STRONG_PASSWORD);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    upstream?.kill();
    await fake?.close();
    await t?.close();
  });

  const discover = () =>
    oidc.discovery(new URL(issuer), app.client_id, undefined, oidc.ClientSecretBasic(app.client_secret!), { execute: [oidc.allowInsecureRequests] });

  /** An authorization request of the Orders app, as openid-client builds it. */
  async function authRequest() {
    const config = await discover();
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: APP_REDIRECT,
      scope: 'openid profile email',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { config, verifier, state, nonce, url };
  }

  /** Chromium: the Warden sign-in page → "Sign in with Upstream" → the upstream's login and consent → back. */
  async function upstreamSignIn(login: string) {
    const context = await browser.newContext();
    const page = await context.newPage();
    let landed: URL | undefined;
    await page.route('http://127.0.0.1:9/**', (route) => {
      landed = new URL(route.request().url());
      return route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>Orders</title>back at the app' });
    });
    const req = await authRequest();
    await page.goto(req.url.href);
    await page.getByRole('link', { name: 'Sign in with Upstream' }).click();
    await page.locator('input[name=login]').fill(login);
    await page.locator('input[name=password]').fill('anything');
    await page.locator('button[type=submit]').click();
    // The upstream's consent, then (for a third-party app) Warden's own.
    await page.locator('button[type=submit]').first().click();
    await page.waitForURL((u) => u.origin === issuer || u.origin === 'http://127.0.0.1:9');
    return { page, context, req, landed: () => landed };
  }

  it('the admin API keeps the client secret write-only and sealed at rest; non-admins are refused', { skip: skip.skip }, async () => {
    const res = await t.app.inject({ method: 'GET', url: `/admin/identity-providers/${upstreamProviderId}`, headers: bearer(admin.access_token) });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().client_id, UPSTREAM_CLIENT.client_id);
    assert.ok(!('client_secret' in res.json()));
    const list = await t.app.inject({ method: 'GET', url: '/admin/identity-providers', headers: bearer(admin.access_token) });
    assert.doesNotMatch(list.body, /upstream-secret/);
    const [row] = await t.warden.db.select().from(identityProviders).where(eq(identityProviders.id, upstreamProviderId));
    assert.match(row!.clientSecret, /^enc1:/);
    assert.doesNotMatch(row!.clientSecret, /upstream-secret/);

    const user = await tokensFor(t.app, 'carol');
    const refused = await t.app.inject({ method: 'GET', url: '/admin/identity-providers', headers: bearer(user.access_token) });
    assert.equal(refused.statusCode, 403);
    const bad = await t.app.inject({ method: 'POST', url: '/admin/identity-providers', headers: bearer(admin.access_token), payload: { kind: 'oidc', name: 'X', client_id: 'a', client_secret: 'b' } });
    assert.equal(bad.statusCode, 422);
    assert.equal(bad.json().errors[0].field, 'issuer');
    const gh = await addProvider({ kind: 'github', name: 'GitHub', client_id: 'gh', client_secret: 'gh-secret' });
    const ghOut = await t.app.inject({ method: 'GET', url: `/admin/identity-providers/${gh.id}`, headers: bearer(admin.access_token) });
    assert.equal(ghOut.json().issuer, 'https://github.com');
    assert.equal(ghOut.json().scopes, 'read:user user:email');
    const del = await t.app.inject({ method: 'DELETE', url: `/admin/identity-providers/${gh.id}`, headers: bearer(admin.access_token) });
    assert.equal(del.statusCode, 204);
  });

  it('a new upstream user signs in through Chromium and the app gets a Warden code that openid-client exchanges', { skip: skip.skip }, async () => {
    const { page, context, req, landed } = await upstreamSignIn('alice');
    if (!landed()) {
      // Warden's consent for the third-party app.
      await page.getByRole('button', { name: 'Allow' }).click();
      await page.waitForURL((u) => u.origin === 'http://127.0.0.1:9');
    }
    const callback = landed();
    assert.ok(callback?.searchParams.get('code'), `a code: ${callback?.href}`);
    const tokens = await oidc.authorizationCodeGrant(req.config, callback!, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce });
    const claims = tokens.claims()!;
    assert.equal(claims.preferred_username, 'alice');
    const [alice] = await t.warden.db.select().from(users).where(eq(users.username, 'alice'));
    const [session] = await t.warden.db.select().from(sessions).where(eq(sessions.userId, alice!.id));
    assert.deepEqual(session!.amr, ['fed'], 'the session says how: upstream sign-in');
    assert.equal(alice!.email, 'alice@upstream.test');
    assert.equal(alice!.emailVerified, true);
    const links = await t.warden.db.select().from(userIdentities).where(eq(userIdentities.userId, alice!.id));
    assert.equal(links.length, 1);
    assert.equal(links[0]!.subject, 'alice');
    await context.close();
  });

  it('an unverified upstream e-mail matching a local account ends on an error page: no session, no link, audited', { skip: skip.skip }, async () => {
    const before = await sessionCount();
    const { page, context, landed } = await upstreamSignIn('mallory');
    assert.equal(landed(), undefined);
    assert.match(await page.locator('main, body').first().innerText(), /has not verified your e-mail address/);
    assert.equal(await sessionCount(), before, 'no session');
    const cookies = await context.cookies(issuer);
    assert.ok(!cookies.some((c) => c.name.endsWith('warden_session')), 'no session cookie');
    const [victim] = await t.warden.db.select().from(users).where(eq(users.username, 'victim'));
    assert.equal((await t.warden.db.select().from(userIdentities).where(eq(userIdentities.userId, victim!.id))).length, 0);
    assert.ok((await auditReasons()).includes('unverified_email_matches_account'));
    await context.close();
  });

  it('a verified upstream e-mail of a local account links only after that account\'s password; the user sees and removes the link', { skip: skip.skip }, async () => {
    const { page, context, req, landed } = await upstreamSignIn('carol');
    await page.getByText('Link your account?').waitFor();
    await page.locator('input[name=password]').fill('not the password');
    await page.getByRole('button', { name: 'Link and sign in' }).click();
    await page.getByText('That password is not right.').waitFor();
    const [carol] = await t.warden.db.select().from(users).where(eq(users.username, 'carol'));
    assert.equal((await t.warden.db.select().from(userIdentities).where(eq(userIdentities.userId, carol!.id))).length, 0, 'no link on a wrong password');
    await page.locator('input[name=password]').fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Link and sign in' }).click();
    await page.waitForURL((u) => u.origin === 'http://127.0.0.1:9' || u.pathname === '/authorize');
    if (!landed()) {
      await page.getByRole('button', { name: 'Allow' }).click();
      await page.waitForURL((u) => u.origin === 'http://127.0.0.1:9');
    }
    const tokens = await oidc.authorizationCodeGrant(req.config, landed()!, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce });
    assert.equal(tokens.claims()!.sub, carol!.id);

    const own = await tokensFor(t.app, 'carol');
    const list = await t.app.inject({ method: 'GET', url: '/users/me/identities', headers: bearer(own.access_token) });
    assert.equal(list.statusCode, 200);
    const items = list.json().items as Array<{ id: string; provider_name: string; email: string }>;
    assert.equal(items.length, 1);
    assert.equal(items[0]!.provider_name, 'Upstream');
    assert.equal(items[0]!.email, 'carol@example.com');
    // Another user cannot remove it.
    const other = await tokensFor(t.app, 'victim');
    assert.equal((await t.app.inject({ method: 'DELETE', url: `/users/me/identities/${items[0]!.id}`, headers: bearer(other.access_token) })).statusCode, 404);
    // The account page shows the link and removes it.
    await page.goto(`${issuer}/account`);
    const section = page.locator('section', { has: page.getByRole('heading', { name: 'Linked sign-in providers' }) });
    assert.match(await section.innerText(), /Upstream \(carol@example\.com\)/);
    await section.getByRole('button', { name: 'Remove link' }).click();
    await page.getByText('The link was removed').waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Linked sign-in providers' }).count(), 0);
    await context.close();
    assert.equal((await t.app.inject({ method: 'GET', url: '/users/me/identities', headers: bearer(own.access_token) })).json().items.length, 0);
    assert.equal((await t.app.inject({ method: 'DELETE', url: `/users/me/identities/${items[0]!.id}`, headers: bearer(own.access_token) })).statusCode, 404);
  });

  /** HTTP level against the fake provider: /authorize, the start, and a callback the test writes. */
  async function startFake(jar = new Jar()) {
    const req = await authRequest();
    const login = await jar.get(req.url);
    assert.equal(login.status, 200);
    const ix = /name="interaction" value="([^"]+)"/.exec(await login.text())![1]!;
    const start = await jar.get(`${issuer}/federation/${fakeProviderId}/start?interaction=${ix}`);
    assert.equal(start.status, 302);
    const upstreamUrl = new URL(start.headers.get('location')!);
    assert.equal(upstreamUrl.origin, fake.base);
    assert.equal(upstreamUrl.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(upstreamUrl.searchParams.get('code_challenge'));
    return { jar, state: upstreamUrl.searchParams.get('state')!, nonce: upstreamUrl.searchParams.get('nonce')! };
  }

  const callback = (jar: Jar, params: Record<string, string>) => jar.get(`${issuer}/federation/${fakeProviderId}/callback?${new URLSearchParams(params).toString()}`);

  async function expectRefused(res: Response, jar: Jar, reason: string, sessionsBefore: number) {
    assert.equal(res.status, 400);
    assert.match(await res.text(), /Sign-in failed/);
    assert.ok(!jar.has('warden_session'), 'no session cookie');
    assert.equal(await sessionCount(), sessionsBefore, 'no session');
    const reasons = await auditReasons();
    assert.ok(reasons.includes(reason), `audited as ${reason}: ${reasons.join(',')}`);
  }

  it('the fake provider, answered right, signs in (the control for the cases below)', { skip: skip.skip }, async () => {
    const { jar, state, nonce } = await startFake();
    fake.next.nonce = nonce;
    delete fake.next.iss;
    const res = await callback(jar, { code: 'c', state });
    assert.ok(res.status === 302 || res.status === 200, `${res.status}`);
    assert.ok(jar.has('warden_session'));
  });

  it('a wrong state ends on an error page with no session, audited as state_mismatch', { skip: skip.skip }, async () => {
    const n = await sessionCount();
    const { jar, nonce } = await startFake();
    fake.next.nonce = nonce;
    await expectRefused(await callback(jar, { code: 'c', state: 'forged-state' }), jar, 'state_mismatch', n);
  });

  it('a wrong nonce in the id_token ends on an error page with no session, audited as nonce_mismatch', { skip: skip.skip }, async () => {
    const n = await sessionCount();
    const { jar, state } = await startFake();
    fake.next.nonce = 'a-nonce-of-another-sign-in';
    await expectRefused(await callback(jar, { code: 'c', state }), jar, 'nonce_mismatch', n);
  });

  it('an id_token from another issuer ends on an error page with no session, audited as issuer_mismatch', { skip: skip.skip }, async () => {
    const n = await sessionCount();
    const { jar, state, nonce } = await startFake();
    fake.next.nonce = nonce;
    fake.next.iss = 'http://127.0.0.1:1/another-issuer';
    await expectRefused(await callback(jar, { code: 'c', state }), jar, 'issuer_mismatch', n);
    delete fake.next.iss;
  });

  it('the callback is single use, and a start from a browser without the interaction\'s cookie is refused', { skip: skip.skip }, async () => {
    const n = await sessionCount();
    const { jar, state, nonce } = await startFake();
    fake.next.nonce = nonce;
    const url = `${issuer}/federation/${fakeProviderId}/callback?code=c&state=${state}`;
    // The same federation cookie presented twice (an attacker's replay of a captured callback).
    const cookie = (jar as unknown as { jar: Map<string, string> }).jar.get('warden_fed')!;
    const first = await fetch(url, { redirect: 'manual', headers: { cookie: `warden_fed=${cookie}` } });
    assert.notEqual(first.status, 500);
    const replay = await fetch(url, { redirect: 'manual', headers: { cookie: `warden_fed=${cookie}` } });
    assert.equal(replay.status, 400);
    assert.ok((await auditReasons()).some((r) => r === 'replayed_callback' || r === 'no_pending_sign_in'));

    // Another browser (no CSRF cookie of that interaction) cannot start the leg for it.
    const req = await authRequest();
    const victim = new Jar();
    const ix = /name="interaction" value="([^"]+)"/.exec(await (await victim.get(req.url)).text())![1]!;
    const attacker = new Jar();
    const start = await attacker.get(`${issuer}/federation/${fakeProviderId}/start?interaction=${ix}`);
    assert.equal(start.status, 400);
    assert.ok((await auditReasons()).includes('interaction_invalid'));
    assert.ok(n <= (await sessionCount()));
  });
});
