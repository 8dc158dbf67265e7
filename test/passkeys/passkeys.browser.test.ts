import assert from 'node:assert/strict';
import { createHash, createPrivateKey, sign } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { chromium, type Browser, type CDPSession, type Page } from 'playwright-core';
import { and, eq } from 'drizzle-orm';
import { auditEvents } from '../../src/features/audit/tables.js';
import { bearer, createAdmin, createTestApp, form, registerUser, requireService, STRONG_PASSWORD, tokensFor, type TestApp } from '../support/app.js';
import { formFields, Jar, registerClient, type RegisteredClient } from '../oauth/support.js';

import { CHROMIUM, CHROMIUM_ARGS } from '../support/browser.js';
const REDIRECT = 'http://127.0.0.1:9/callback';

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

interface VirtualCredential {
  credentialId: string;
  privateKey: string;
  signCount: number;
  userHandle?: string;
}

/**
 * Passkeys end to end (issue 19's Done-when): a virtual authenticator in headless Chromium (Chrome
 * DevTools Protocol WebAuthn domain) registers a passkey on the account page, the browser signs out,
 * signs in through /authorize with the passkey alone, and openid-client exchanges the code. WebAuthn
 * refuses an IP address as RP ID, so the server's ISSUER is http://localhost:<port>.
 */
describe('passkeys in a real browser with a virtual authenticator', () => {
  const skip = requireService(existsSync(CHROMIUM), 'chromium at /usr/bin/chromium');
  let t: TestApp;
  let browser: Browser;
  let base: string;
  let client: RegisteredClient;
  let page: Page;
  let cdp: CDPSession;
  let authenticatorId: string;
  const violations: string[] = [];

  before(async () => {
    if (skip.skip) return;
    const port = await freePort();
    base = `http://localhost:${port}`;
    t = await createTestApp({ env: { ISSUER: base } });
    t.clock.set(Date.now());
    await registerUser(t.app, 'alice');
    const admin = await createAdmin(t);
    client = await registerClient(t, admin.access_token, { client_name: 'Web app', redirect_uris: [REDIRECT], scope: 'openid profile' });
    await t.app.listen({ port, host: '127.0.0.1' });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, '--host-resolver-rules=MAP localhost 127.0.0.1'] });
    const context = await browser.newContext();
    page = await context.newPage();
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
    });
    // The client's redirect URI answers nothing; the test reads the code from the URL.
    await page.route('http://127.0.0.1:9/**', (r) => r.fulfill({ status: 200, contentType: 'text/plain', body: 'callback' }));
    cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const added = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
    });
    authenticatorId = added.authenticatorId;
  });
  after(async () => {
    if (skip.skip) return;
    await browser.close();
    await t.close();
  });

  const audit = async (type: string) => {
    await t.warden.audit.flush();
    return t.warden.db.select().from(auditEvents).where(eq(auditEvents.type, type)).orderBy(auditEvents.id);
  };

  async function credential(): Promise<VirtualCredential> {
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1);
    return credentials[0]! as VirtualCredential;
  }

  it('registers a passkey on the account page, signs out, signs in through /authorize with it alone, and the code is exchanged', skip, async () => {
    // Sign in to the account page with the password (a recent sign-in lets a passkey be added).
    await page.goto(`${base}/account`);
    await page.getByLabel('Username or e-mail').fill('alice');
    await page.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Passkeys' }).waitFor();
    await page.getByLabel('Name of the new passkey').fill('Laptop <b>key</b>');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.getByText('The passkey was added').waitFor();
    await page.getByRole('heading', { name: 'Laptop <b>key</b>' }).waitFor();
    const registered = await audit('passkey.registered');
    assert.equal(registered.length, 1);

    const api = await tokensFor(t.app, 'alice');
    const listed = await t.app.inject({ method: 'GET', url: '/users/me/passkeys', headers: bearer(api.access_token) });
    assert.equal(listed.statusCode, 200);
    const items = listed.json().items as { id: string; name: string; last_used_at: string | null }[];
    assert.deepEqual(
      items.map((i) => [i.name, i.last_used_at]),
      [['Laptop <b>key</b>', null]],
    );

    // Sign out (the browser forgets its sign-in), then an app sends it to /authorize.
    await page.context().clearCookies();
    const config = await oidc.discovery(new URL(base), client.client_id, undefined, oidc.ClientSecretBasic(client.client_secret!), { execute: [oidc.allowInsecureRequests] });
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const authUrl = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    await page.goto(authUrl.href);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    // A third-party client: the consent page, then the redirect with the code.
    const allow = page.getByRole('button', { name: 'Allow' });
    await Promise.race([page.waitForURL((u) => u.href.startsWith(REDIRECT)), allow.waitFor()]);
    if (!page.url().startsWith(REDIRECT)) await allow.click();
    await page.waitForURL((u) => u.href.startsWith(REDIRECT));
    const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    assert.equal(tokens.claims()!.preferred_username, 'alice');

    const used = await audit('passkey.used');
    assert.equal(used.length, 1);
    const login = (await audit('login.succeeded')).at(-1)!;
    assert.deepEqual((login.details as { amr: string[] }).amr, ['hwk', 'user']);
    const after = await t.app.inject({ method: 'GET', url: '/users/me/passkeys', headers: bearer(api.access_token) });
    assert.ok((after.json().items as { last_used_at: string | null }[])[0]!.last_used_at);
    assert.deepEqual(violations, []);
  });

  /** A fresh sign-in interaction over HTTP (cookie jar), as the sign-in page has it. */
  async function interaction(jar: Jar) {
    const url = `/authorize?${new URLSearchParams({ response_type: 'code', client_id: client.client_id, redirect_uri: REDIRECT, scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })}`;
    const res = await t.app.inject({ method: 'GET', url, headers: { cookie: jar.header() } });
    jar.take(res.headers['set-cookie']);
    assert.equal(res.statusCode, 200);
    const f = formFields(res.body);
    return { interaction: f.interaction!, csrf: f.csrf! };
  }

  async function verify(jar: Jar, response: unknown) {
    const ix = await interaction(jar);
    const f = form({ ...ix, response: JSON.stringify(response) });
    const res = await t.app.inject({ method: 'POST', url: '/passkeys/verify', headers: { ...f.headers, cookie: jar.header() }, payload: f.payload });
    jar.take(res.headers['set-cookie']);
    return res;
  }

  async function options(): Promise<string> {
    const res = await t.app.inject({ method: 'POST', url: '/passkeys/options', payload: {} });
    assert.equal(res.statusCode, 200);
    return res.json().challenge as string;
  }

  /** An assertion signed with the virtual authenticator's own key, with whatever client data a test wants. */
  function assertion(cred: VirtualCredential, clientData: Record<string, unknown>, counter: number, extraFlags = 0) {
    const clientDataJSON = Buffer.from(JSON.stringify(clientData));
    const flags = 0x01 | 0x04 | extraFlags; // user present, user verified
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    const authData = Buffer.concat([createHash('sha256').update('localhost').digest(), Buffer.from([flags]), count]);
    const key = createPrivateKey({ key: Buffer.from(cred.privateKey, 'base64'), format: 'der', type: 'pkcs8' });
    // The authenticator picked the first algorithm offered that it has: Ed25519 (no separate digest) or ES256.
    const signature = sign(key.asymmetricKeyType === 'ed25519' ? null : 'sha256', Buffer.concat([authData, createHash('sha256').update(clientDataJSON).digest()]), key);
    const id = Buffer.from(cred.credentialId, 'base64').toString('base64url');
    return {
      id,
      rawId: id,
      type: 'public-key',
      clientExtensionResults: {},
      response: {
        clientDataJSON: clientDataJSON.toString('base64url'),
        authenticatorData: authData.toString('base64url'),
        signature: signature.toString('base64url'),
        ...(cred.userHandle ? { userHandle: Buffer.from(cred.userHandle, 'base64').toString('base64url') } : {}),
      },
    };
  }

  it('a correctly signed assertion signs in once; replayed, it is refused and audited', skip, async () => {
    const cred = await credential();
    const good = assertion(cred, { type: 'webauthn.get', challenge: await options(), origin: base, crossOrigin: false }, cred.signCount + 5);
    const first = await verify(new Jar(), good);
    assert.ok([200, 303].includes(first.statusCode), `${first.statusCode} ${first.body.slice(0, 200)}`);
    assert.ok(first.headers['set-cookie']?.toString().includes('warden_session='), 'signed in: a session cookie');
    const failedBefore = (await audit('passkey.failed')).length;
    const replay = await verify(new Jar(), good);
    assert.equal(replay.statusCode, 400);
    assert.match(replay.body, /could not be used/);
    assert.equal(String(replay.headers['set-cookie'] ?? '').includes('warden_session='), false, 'no session');
    const failed = await audit('passkey.failed');
    assert.equal(failed.length, failedBefore + 1);
    assert.equal((failed.at(-1)!.details as { reason: string }).reason, 'challenge');
  });

  it('an assertion made for another origin is refused, even when correctly signed', skip, async () => {
    const cred = await credential();
    const { rows } = { rows: await audit('passkey.used') };
    const evil = assertion(cred, { type: 'webauthn.get', challenge: await options(), origin: 'http://localhost.evil.example', crossOrigin: false }, cred.signCount + 50);
    const res = await verify(new Jar(), evil);
    assert.equal(res.statusCode, 400);
    assert.equal((await audit('passkey.used')).length, rows.length);
    const failed = await audit('passkey.failed');
    assert.equal((failed.at(-1)!.details as { reason: string }).reason, 'verification');
  });

  it('a signature counter going backwards is refused and audited as passkey.counter_regressed', skip, async () => {
    const cred = await credential();
    const stale = assertion(cred, { type: 'webauthn.get', challenge: await options(), origin: base, crossOrigin: false }, 1);
    const res = await verify(new Jar(), stale);
    assert.equal(res.statusCode, 400);
    assert.equal((await audit('passkey.counter_regressed')).length, 1);
  });

  it('a credential whose backup eligibility changed, and a post without the sign-in form\'s CSRF cookie, are refused', skip, async () => {
    const cred = await credential();
    const before = (await audit('passkey.used')).length;
    // BE + BS: now claims to be a synced passkey, registered as a single-device one.
    const flipped = assertion(cred, { type: 'webauthn.get', challenge: await options(), origin: base, crossOrigin: false }, cred.signCount + 20, 0x08 | 0x10);
    assert.equal((await verify(new Jar(), flipped)).statusCode, 400);
    assert.equal(((await audit('passkey.failed')).at(-1)!.details as { reason: string }).reason, 'backup_state');

    const good = assertion(cred, { type: 'webauthn.get', challenge: await options(), origin: base, crossOrigin: false }, cred.signCount + 30);
    const ix = await interaction(new Jar());
    const f = form({ ...ix, response: JSON.stringify(good) });
    const forged = await t.app.inject({ method: 'POST', url: '/passkeys/verify', headers: f.headers, payload: f.payload });
    assert.equal(forged.statusCode, 400);
    assert.match(forged.body, /expired or did not come from this site/);
    assert.equal((await audit('passkey.used')).length, before);
  });

  it('registration needs a recent sign-in or the password; removal is audited and the passkey stops working', skip, async () => {
    const api = await tokensFor(t.app, 'alice');
    t.clock.advance(10 * 60_000);
    const stale = await t.app.inject({ method: 'POST', url: '/users/me/passkeys/options', headers: bearer(api.access_token), payload: {} });
    assert.equal(stale.statusCode, 422, stale.body);
    assert.equal(stale.json().errors[0].field, 'current_password');
    const wrong = await t.app.inject({ method: 'POST', url: '/users/me/passkeys/options', headers: bearer(api.access_token), payload: { current_password: 'not the password at all' } });
    assert.equal(wrong.statusCode, 422);
    const withPassword = await t.app.inject({ method: 'POST', url: '/users/me/passkeys/options', headers: bearer(api.access_token), payload: { current_password: STRONG_PASSWORD } });
    assert.equal(withPassword.statusCode, 200);
    assert.equal(withPassword.json().rp.id, 'localhost');
    // A registration response for an unknown challenge is refused, naming the field.
    const bogus = await t.app.inject({
      method: 'POST',
      url: '/users/me/passkeys',
      headers: bearer(api.access_token),
      payload: { name: 'x', response: { id: 'abc', rawId: 'abc', type: 'public-key', response: { clientDataJSON: 'e30', attestationObject: 'AA' } } },
    });
    assert.equal(bogus.statusCode, 400);
    assert.equal(bogus.json().errors[0].field, 'response');

    const fresh = await tokensFor(t.app, 'alice');
    const items = (await t.app.inject({ method: 'GET', url: '/users/me/passkeys', headers: bearer(fresh.access_token) })).json().items as { id: string }[];
    // Admins see a user's passkeys and may remove them; a user token may not use the admin API.
    const root = await tokensFor(t.app, 'root');
    const aliceId = (await t.app.inject({ method: 'GET', url: '/users/me', headers: bearer(fresh.access_token) })).json().id as string;
    const adminList = await t.app.inject({ method: 'GET', url: `/admin/users/${aliceId}/passkeys`, headers: bearer(root.access_token) });
    assert.equal(adminList.statusCode, 200);
    assert.deepEqual(
      (adminList.json().items as { id: string }[]).map((i) => i.id),
      items.map((i) => i.id),
    );
    assert.equal((await t.app.inject({ method: 'GET', url: `/admin/users/${aliceId}/passkeys`, headers: bearer(fresh.access_token) })).statusCode, 403);
    const unknown = await t.app.inject({ method: 'DELETE', url: `/admin/users/${aliceId}/passkeys/00000000-0000-4000-8000-000000000000`, headers: bearer(root.access_token) });
    assert.equal(unknown.statusCode, 404);
    const other = await registerUser(t.app, 'bob');
    const bobs = await tokensFor(t.app, 'bob');
    const notHis = await t.app.inject({ method: 'DELETE', url: `/users/me/passkeys/${items[0]!.id}`, headers: bearer(bobs.access_token) });
    assert.equal(notHis.statusCode, 404, `bob (${other.id}) cannot remove alice's passkey`);
    const del = await t.app.inject({ method: 'DELETE', url: `/users/me/passkeys/${items[0]!.id}`, headers: bearer(fresh.access_token) });
    assert.equal(del.statusCode, 204);
    assert.equal((await audit('passkey.removed')).length, 1);
    const cred = await credential();
    const afterRemoval = assertion(cred, { type: 'webauthn.get', challenge: await options(), origin: base, crossOrigin: false }, cred.signCount + 100);
    assert.equal((await verify(new Jar(), afterRemoval)).statusCode, 400);
    const failed = await t.warden.db.select().from(auditEvents).where(and(eq(auditEvents.type, 'passkey.failed'))).orderBy(auditEvents.id);
    assert.equal((failed.at(-1)!.details as { reason: string }).reason, 'unknown_credential');
  });

  it('on the account page, adding a passkey long after signing in asks for the password first', skip, async () => {
    // The browser is still signed in (the passkey sign-in above), now more than 5 minutes ago.
    await page.goto(`${base}/account`);
    await page.getByRole('heading', { name: 'Passkeys' }).waitFor();
    const password = page.getByLabel('Your password (you signed in more than 5 minutes ago)');
    assert.equal(await password.count(), 1);
    await page.getByLabel('Name of the new passkey').fill('Second key');
    await password.fill('not the password at all');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.getByText('The passkey was not added: current_password: is not correct').waitFor();
    await password.fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.getByText('The passkey was added').waitFor();
    await page.getByRole('heading', { name: 'Second key' }).waitFor();
    assert.deepEqual(violations, []);
  });
});
