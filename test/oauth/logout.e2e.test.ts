import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import * as oidc from 'openid-client';
import { eq } from 'drizzle-orm';
import type { Clock } from '../../src/kernel/clock.js';
import { buildApp, type App } from '../../src/app/app.js';
import { auditEvents } from '../../src/features/audit/tables.js';
import { backchannelLogouts } from '../../src/features/sessions/tables.js';
import { createWarden } from '../../src/app/warden.js';
import { freePort } from '../support/process.js';
import { bearer, createAdmin, createTestApp, registerUser, STRONG_PASSWORD, testConfig, testDatabase, type TestApp } from '../support/app.js';
import { consoleLogin, post } from '../console/support.js';
import { authorizeCode, authorizeUrl, formFields, getPage, Jar, pkce, registerClient, type RegisteredClient } from './support.js';

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** A browser, by hand: cookies kept per name, redirects not followed. */
class Browser {
  readonly jar = new Map<string, string>();
  private store(res: Response) {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i);
      const value = pair!.slice(i + 1);
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(c)) this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }
  cookie(except: string[] = []) {
    return [...this.jar]
      .filter(([k]) => !except.includes(k))
      .map(([k, v]) => `${k}=${v}`)
      .join('; ');
  }
  async get(url: string | URL) {
    const res = await fetch(url, { redirect: 'manual', headers: { cookie: this.cookie() } });
    this.store(res);
    return res;
  }
  async post(url: string, fields: Record<string, string>, opts: { withoutCookies?: string[] } = {}) {
    const res = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: this.cookie(opts.withoutCookies), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
    this.store(res);
    return res;
  }
}

/** A relying party's back-channel logout endpoint: keeps what it is sent. */
class Receiver {
  readonly tokens: string[] = [];
  private server: Server | undefined;
  constructor(readonly port: number) {}
  get url() {
    return `http://127.0.0.1:${this.port}/backchannel-logout`;
  }
  async start() {
    this.server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const form = new URLSearchParams(body);
        if (req.method === 'POST' && req.headers['content-type']?.startsWith('application/x-www-form-urlencoded') && form.get('logout_token')) {
          this.tokens.push(form.get('logout_token')!);
          res.writeHead(200).end();
        } else res.writeHead(400).end();
      });
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', r));
  }
  async stop() {
    if (this.server) await new Promise((r) => this.server!.close(r));
    this.server = undefined;
  }
  async waitFor(n: number, ms = 5000) {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline && this.tokens.length < n) await new Promise((r) => setTimeout(r, 50));
    assert.ok(this.tokens.length >= n, `expected ${n} logout_token(s) within ${ms} ms, got ${this.tokens.length}`);
    return this.tokens[n - 1]!;
  }
}

/** OIDC Back-Channel Logout §2.6 validation, as a relying party does it: JWKS, typ, iss, aud, events, sid, no nonce. */
async function verifyLogoutToken(token: string, issuer: string, clientId: string, now: number): Promise<JWTPayload> {
  const jwks = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));
  assert.equal(decodeProtectedHeader(token).typ, 'logout+jwt');
  const { payload } = await jwtVerify(token, jwks, { issuer, audience: clientId, typ: 'logout+jwt', currentDate: new Date(now), requiredClaims: ['iat', 'exp', 'jti', 'events'] });
  assert.deepEqual(payload.events, { [EVENT]: {} });
  assert.equal(payload.nonce, undefined, 'a logout token never carries nonce');
  assert.equal(typeof payload.sid, 'string');
  assert.ok(payload.exp! - payload.iat! <= 300, 'short-lived');
  return payload;
}

async function signIn(browser: Browser, issuer: string, authUrl: URL | string, username: string): Promise<Response> {
  let res = await browser.get(authUrl);
  for (let i = 0; i < 4 && res.status === 200; i++) {
    const fields = formFields(await res.text());
    if (fields.action === 'login') res = await browser.post(`${issuer}/authorize`, { ...fields, username, password: STRONG_PASSWORD });
    else if (fields.action === 'consent') res = await browser.post(`${issuer}/authorize`, { ...fields, decision: 'allow' });
    else throw new Error('unexpected page');
  }
  return res;
}

describe('OIDC RP-Initiated and Back-Channel Logout, with openid-client over a real socket', () => {
  let t: TestApp;
  let issuer: string;
  let web: RegisteredClient;
  let adminTokenValue: string;
  let receiver: Receiver;
  const redirectUri = 'http://127.0.0.1:9/callback';
  const afterLogout = 'http://127.0.0.1:9/signed-out';

  before(async () => {
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    t = await createTestApp({ env: { ISSUER: issuer } });
    await t.app.listen({ host: '127.0.0.1', port });
    receiver = new Receiver(await freePort());
    await receiver.start();
    adminTokenValue = (await createAdmin(t)).access_token;
    web = await registerClient(t, adminTokenValue, {
      client_name: 'Web app',
      redirect_uris: [redirectUri],
      first_party: true,
      scope: 'openid profile email account offline_access',
      post_logout_redirect_uris: [afterLogout],
      backchannel_logout_uri: receiver.url,
      backchannel_logout_session_required: true,
    });
    await registerUser(t.app, 'erin');
  });
  after(async () => {
    await t.close();
    await receiver.stop();
  });

  const discover = () => oidc.discovery(new URL(issuer), web.client_id, undefined, oidc.ClientSecretBasic(web.client_secret!), { execute: [oidc.allowInsecureRequests] });

  async function rpSignIn(config: oidc.Configuration, browser: Browser, extra: Record<string, string> = {}) {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid profile account offline_access',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...extra,
    });
    const res = await signIn(browser, issuer, url, 'erin');
    assert.equal(res.status, 303, 'a code after the login form');
    return oidc.authorizationCodeGrant(config, new URL(res.headers.get('location')!), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
  }

  const promptNone = async (config: oidc.Configuration, browser: Browser) => {
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope: 'openid', code_challenge: pkce().challenge, code_challenge_method: 'S256', prompt: 'none', state: 'pn' });
    const res = await browser.get(url);
    assert.equal(res.status, 302);
    return new URL(res.headers.get('location')!);
  };

  it('discovery names the end_session_endpoint, back-channel logout and only the prompts it honours', async () => {
    const meta = (await discover()).serverMetadata();
    assert.equal(meta.end_session_endpoint, `${issuer}/logout`);
    assert.equal(meta.backchannel_logout_supported, true);
    assert.equal(meta.backchannel_logout_session_supported, true);
    assert.deepEqual(meta.prompt_values_supported, ['none', 'login', 'consent']);
    for (const c of ['sid', 'amr', 'acr', 'auth_time']) assert.ok((meta.claims_supported as string[]).includes(c), c);
    const got = (await t.app.inject({ method: 'GET', url: `/admin/clients/${web.client_id}`, headers: bearer(adminTokenValue) })).json();
    assert.deepEqual(got.post_logout_redirect_uris, [afterLogout]);
    assert.equal(got.backchannel_logout_uri, receiver.url);
    assert.equal(got.backchannel_logout_session_required, true);
  });

  it('sign in, then /logout with id_token_hint: 302 with state; prompt=none → login_required; the access token dies everywhere; the RP gets a logout_token', async () => {
    const config = await discover();
    const browser = new Browser();
    const tokens = await rpSignIn(config, browser);
    const claims = tokens.claims()!;
    assert.equal(typeof claims.sid, 'string', 'sid in the id_token');
    assert.deepEqual(claims.amr, ['pwd']);
    assert.equal(claims.acr, '1');
    assert.equal(typeof claims.auth_time, 'number');
    assert.equal((await t.app.inject({ method: 'GET', url: '/users/me', headers: bearer(tokens.access_token) })).statusCode, 200);
    // The browser's sign-in is live: prompt=none gets a code.
    assert.ok((await promptNone(config, browser)).searchParams.get('code'));

    const before = receiver.tokens.length;
    const logoutUrl = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: afterLogout, state: 'bye-123' });
    const res = await browser.get(logoutUrl);
    assert.equal(res.status, 302);
    const back = new URL(res.headers.get('location')!);
    assert.equal(`${back.origin}${back.pathname}`, afterLogout);
    assert.equal(back.searchParams.get('state'), 'bye-123');

    const pn = await promptNone(config, browser);
    assert.equal(pn.searchParams.get('error'), 'login_required');
    const me = await t.app.inject({ method: 'GET', url: '/users/me', headers: bearer(tokens.access_token) });
    assert.equal(me.statusCode, 401);
    assert.equal((await oidc.tokenIntrospection(config, tokens.access_token)).active, false);
    await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token!), (e: Error & { error?: string }) => e.error === 'invalid_grant');

    const token = await receiver.waitFor(before + 1);
    const lt = await verifyLogoutToken(token, issuer, web.client_id, t.clock.now());
    assert.equal(lt.sid, claims.sid);
    assert.equal(lt.sub, claims.sub);
    const audit = await t.warden.db.select().from(auditEvents).where(eq(auditEvents.type, 'session.logout')).orderBy(auditEvents.id);
    assert.equal(audit.length, 1);
    await waitForAudit(t, 'backchannel_logout.delivered', 1);
  });

  it('an unregistered post_logout_redirect_uri is never followed, and signs nobody out', async () => {
    const config = await discover();
    const browser = new Browser();
    const tokens = await rpSignIn(config, browser);
    for (const uri of ['https://evil.example/after', `${afterLogout}/x`, `${afterLogout}?a=1`]) {
      const res = await browser.get(oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: uri, state: 's' }));
      assert.equal(res.status, 400, uri);
      assert.equal(res.headers.get('location'), null);
      assert.match(await res.text(), /not registered/);
    }
    // Without a client to name it, a URI is not followed either.
    const anon = await browser.get(`${issuer}/logout?post_logout_redirect_uri=${encodeURIComponent(afterLogout)}`);
    assert.equal(anon.status, 400);
    assert.equal((await t.app.inject({ method: 'GET', url: '/users/me', headers: bearer(tokens.access_token) })).statusCode, 200);
    assert.ok((await promptNone(config, browser)).searchParams.get('code'), 'still signed in');
  });

  it('a forged or foreign id_token_hint is refused; an expired one of this session is accepted (§2)', async () => {
    const config = await discover();
    const browser = new Browser();
    const tokens = await rpSignIn(config, browser);
    // The access token is signed by the same key but is not an id_token (typ at+jwt).
    const notId = await browser.get(oidc.buildEndSessionUrl(config, { id_token_hint: tokens.access_token, post_logout_redirect_uri: afterLogout }));
    assert.equal(notId.status, 400);
    const [h, p] = tokens.id_token!.split('.');
    const tampered = `${h}.${p}.${'A'.repeat(86)}`;
    assert.equal((await browser.get(oidc.buildEndSessionUrl(config, { id_token_hint: tampered, post_logout_redirect_uri: afterLogout }))).status, 400);
    // A logout token names a client and a session too, but it is not an id_token (typ logout+jwt).
    const logoutToken = receiver.tokens[0];
    assert.ok(logoutToken, 'an earlier test received one');
    assert.equal((await browser.get(oidc.buildEndSessionUrl(config, { id_token_hint: logoutToken, post_logout_redirect_uri: afterLogout }))).status, 400);
    // client_id must be the hint's audience.
    const other = await browser.get(`${issuer}/logout?id_token_hint=${tokens.id_token}&client_id=wc-someone-else`);
    assert.equal(other.status, 400);
    assert.match(await other.text(), /does not match/);
    assert.ok((await promptNone(config, browser)).searchParams.get('code'), 'still signed in');
    // Two hours on, the id_token has expired; it still names this session, so no confirmation is needed.
    t.clock.advance(2 * 3600_000);
    const res = await browser.get(oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: afterLogout, state: 'late' }));
    assert.equal(res.status, 302);
    assert.equal(new URL(res.headers.get('location')!).searchParams.get('state'), 'late');
    assert.equal((await promptNone(config, browser)).searchParams.get('error'), 'login_required');
    // Back to real time: openid-client checks the next id_tokens' iat against it.
    t.clock.set(Date.now());
  });

  it('without a hint the user confirms on a CSRF-bound form; a cross-site post of it is refused', async () => {
    const config = await discover();
    const browser = new Browser();
    const tokens = await rpSignIn(config, browser);
    const page = await browser.get(`${issuer}/logout?client_id=${web.client_id}&post_logout_redirect_uri=${encodeURIComponent(afterLogout)}&state=c1&ui_locales=fr-CA%20en`);
    assert.equal(page.status, 200);
    const fields = formFields(await page.text());
    assert.equal(fields.action, 'logout');
    const csrfCookie = [...browser.jar.keys()].find((k) => k.endsWith('warden_csrf'))!;
    assert.ok(csrfCookie);

    // Another site's form: its post comes without our SameSite=Strict CSRF cookie, or with a token it had to guess.
    const crossSite = await browser.post(`${issuer}/logout`, { ...fields, decision: 'logout' }, { withoutCookies: [csrfCookie] });
    assert.equal(crossSite.status, 400);
    assert.equal(crossSite.headers.get('location'), null);
    const guessed = await browser.post(`${issuer}/logout`, { ...fields, csrf: 'x'.repeat(43), decision: 'logout' });
    assert.equal(guessed.status, 400);
    assert.equal((await t.app.inject({ method: 'GET', url: '/users/me', headers: bearer(tokens.access_token) })).statusCode, 200, 'not signed out');

    const ok = await browser.post(`${issuer}/logout`, { ...fields, decision: 'logout' });
    assert.equal(ok.status, 303);
    const back = new URL(ok.headers.get('location')!);
    assert.equal(back.searchParams.get('state'), 'c1');
    assert.equal((await t.app.inject({ method: 'GET', url: '/users/me', headers: bearer(tokens.access_token) })).statusCode, 401);
    // The form is single use.
    assert.equal((await browser.post(`${issuer}/logout`, { ...fields, decision: 'logout' })).status, 400);
  });

  it("a relying party's form POST (cross-site: no SameSite=Lax cookie) gets the confirmation page, which then signs out", async () => {
    const config = await discover();
    const browser = new Browser();
    const tokens = await rpSignIn(config, browser);
    const fields = { id_token_hint: tokens.id_token!, post_logout_redirect_uri: afterLogout, state: 'posted' };
    const session = [...browser.jar.keys()].find((k) => k.endsWith('warden_session'))!;
    const csrf = [...browser.jar.keys()].find((k) => k.endsWith('warden_csrf'))!;
    const page = await browser.post(`${issuer}/logout`, fields, { withoutCookies: [session, csrf] });
    assert.equal(page.status, 200);
    const form = formFields(await page.text());
    assert.equal(form.action, 'logout');
    const ok = await browser.post(`${issuer}/logout`, { ...form, decision: 'logout' });
    assert.equal(ok.status, 303);
    assert.equal(new URL(ok.headers.get('location')!).searchParams.get('state'), 'posted');
    assert.equal((await t.app.inject({ method: 'GET', url: '/users/me', headers: bearer(tokens.access_token) })).statusCode, 401);
  });

  it('a hint of another (older) sign-in asks for confirmation instead of ending the current one', async () => {
    const config = await discover();
    const browser = new Browser();
    const first = await rpSignIn(config, browser);
    const second = await rpSignIn(config, browser, { prompt: 'login' });
    assert.notEqual(first.claims()!.sid, second.claims()!.sid);
    const res = await browser.get(oidc.buildEndSessionUrl(config, { id_token_hint: first.id_token!, post_logout_redirect_uri: afterLogout }));
    assert.equal(res.status, 200);
    assert.equal(formFields(await res.text()).action, 'logout');
    assert.equal((await t.app.inject({ method: 'GET', url: '/users/me', headers: bearer(second.access_token) })).statusCode, 200);
  });

  it("an admin's force-logout reaches the relying party's back-channel within 5 s", async () => {
    const config = await discover();
    const tokens = await rpSignIn(config, new Browser());
    const userId = (await t.app.inject({ method: 'GET', url: '/users/me', headers: bearer(tokens.access_token) })).json().id as string;
    const n = receiver.tokens.length;
    const started = Date.now();
    const res = await t.app.inject({ method: 'POST', url: `/admin/users/${userId}/logout`, headers: bearer(adminTokenValue) });
    assert.equal(res.statusCode, 204);
    // Every live session of the user ends; the one signed in above is among them.
    const sid = tokens.claims()!.sid;
    const deadline = started + 5000;
    let found: JWTPayload | undefined;
    while (!found && Date.now() < deadline) {
      for (const token of receiver.tokens.slice(n)) {
        const lt = await verifyLogoutToken(token, issuer, web.client_id, t.clock.now());
        if (lt.sid === sid) found = lt;
      }
      if (!found) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(found, 'the logout_token of the session arrived within 5 s');
    assert.equal(found.sub, userId);
  });
});

async function waitForAudit(t: { warden: TestApp['warden'] }, type: string, n: number, ms = 5000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const rows = await t.warden.db.select().from(auditEvents).where(eq(auditEvents.type, type)).orderBy(auditEvents.id);
    if (rows.length >= n) return rows;
    if (Date.now() > deadline) assert.fail(`expected ${n} ${type} audit event(s), got ${rows.length}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('back-channel logout delivery', () => {
  it('a receiver that answers with a redirect is not followed: the attempt failed and is retried later', async () => {
    const t = await createTestApp();
    const target = new Receiver(await freePort());
    const bouncePort = await freePort();
    const bounce = createServer((_req, res) => res.writeHead(302, { location: target.url }).end());
    await target.start();
    await new Promise<void>((r) => bounce.listen(bouncePort, '127.0.0.1', r));
    try {
      const admin = (await createAdmin(t)).access_token;
      const client = await registerClient(t, admin, {
        client_name: 'Bouncer',
        redirect_uris: ['http://127.0.0.1:9/cb'],
        first_party: true,
        scope: 'openid account',
        backchannel_logout_uri: `http://127.0.0.1:${bouncePort}/logout`,
      });
      const userId = (await registerUser(t.app, 'erin')).id;
      await authorizeCode(t.app, { clientId: client.client_id, redirectUri: 'http://127.0.0.1:9/cb', scope: 'openid account', challenge: pkce().challenge, username: 'erin', password: STRONG_PASSWORD });
      assert.equal((await t.app.inject({ method: 'POST', url: `/admin/users/${userId}/logout`, headers: bearer(admin) })).statusCode, 204);
      const [failed] = await waitForAudit(t, 'backchannel_logout.failed', 1);
      assert.equal(failed!.details.error, 'HTTP 302');
      assert.equal(failed!.subjectId, userId);
      assert.equal(target.tokens.length, 0, 'the redirect was not followed');
      const [row] = await t.warden.db.select().from(backchannelLogouts);
      assert.ok(row!.nextAttemptAt.getTime() > t.clock.now(), 'retried later, with backoff');
    } finally {
      await t.close();
      await target.stop();
      await new Promise((r) => bounce.close(r));
    }
  });
});

describe('back-channel logout survives a restart', () => {
  it('a receiver down at first gets the logout_token from the outbox after Warden is rebuilt on the same database', async () => {
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    const t = await createTestApp({ env: { ISSUER: issuer } });
    const receiver = new Receiver(await freePort());
    let second: App | undefined;
    let secondWarden: TestApp['warden'] | undefined;
    let firstClosed = false;
    try {
      await t.app.listen({ host: '127.0.0.1', port });
      const admin = (await createAdmin(t)).access_token;
      const client = await registerClient(t, admin, {
        client_name: 'Down at first',
        redirect_uris: ['http://127.0.0.1:9/cb'],
        first_party: true,
        scope: 'openid account',
        backchannel_logout_uri: receiver.url,
      });
      const userId = (await registerUser(t.app, 'erin')).id;
      const { challenge } = pkce();
      await authorizeCode(t.app, { clientId: client.client_id, redirectUri: 'http://127.0.0.1:9/cb', scope: 'openid account', challenge, username: 'erin', password: STRONG_PASSWORD });
      assert.equal((await t.app.inject({ method: 'POST', url: `/admin/users/${userId}/logout`, headers: bearer(admin) })).statusCode, 204);
      // The receiver is down: the first attempt fails and is audited; the row waits in the outbox.
      const failed = await waitForAudit(t, 'backchannel_logout.failed', 1);
      assert.equal(failed[0]!.details.client_id, client.client_id);
      const [row] = await t.warden.db.select().from(backchannelLogouts);
      assert.equal(row!.attempts, 1);
      await t.close();
      firstClosed = true;

      // Warden comes back (same database), the receiver is up now, and the retry falls due.
      await receiver.start();
      const database = await testDatabase();
      const config = testConfig({ ISSUER: issuer });
      secondWarden = await createWarden(config, { database, clock: t.clock as Clock, migrate: false });
      second = await buildApp(config, { warden: secondWarden });
      await second.listen({ host: '127.0.0.1', port });
      t.clock.advance(60_000);
      const token = await receiver.waitFor(1, 5000);
      const lt = await verifyLogoutToken(token, issuer, client.client_id, t.clock.now());
      assert.equal(lt.sub, userId);
      await waitForAudit({ warden: secondWarden }, 'backchannel_logout.delivered', 1);
      assert.equal((await secondWarden.db.select().from(backchannelLogouts)).length, 0, 'delivered rows leave the outbox');
    } finally {
      if (!firstClosed) await t.close();
      await second?.close();
      await secondWarden?.close();
      await receiver.stop();
    }
  });
});

describe('OIDC parameters on /authorize', () => {
  let t: TestApp;
  let client: RegisteredClient;
  const redirectUri = 'http://127.0.0.1:9/cb';
  before(async () => {
    t = await createTestApp();
    const admin = (await createAdmin(t)).access_token;
    client = await registerClient(t, admin, { client_name: 'RP', redirect_uris: [redirectUri], first_party: true, scope: 'openid profile account' });
    await registerUser(t.app, 'erin');
  });
  after(() => t.close());

  const params = (extra: Record<string, string>) => ({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: redirectUri,
    scope: 'openid',
    code_challenge: pkce().challenge,
    code_challenge_method: 'S256',
    state: 'st',
    ...extra,
  });

  async function signedInJar() {
    const jar = new Jar();
    await authorizeCode(t.app, { clientId: client.client_id, redirectUri, scope: 'openid', challenge: pkce().challenge, username: 'erin', password: STRONG_PASSWORD, jar });
    return jar;
  }

  it('max_age=1 with a two-second-old sign-in shows the login page; a younger one or a larger max_age does not', async () => {
    const jar = await signedInJar();
    const young = await getPage(t.app, jar, authorizeUrl(params({ max_age: '1' })));
    assert.equal(young.statusCode, 302, 'a fresh sign-in satisfies max_age=1');
    t.clock.advance(2000);
    const old = await getPage(t.app, jar, authorizeUrl(params({ max_age: '1' })));
    assert.equal(old.statusCode, 200);
    assert.equal(formFields(old.body).action, 'login');
    const none = await getPage(t.app, jar, authorizeUrl(params({ max_age: '1', prompt: 'none' })));
    assert.equal(new URL(none.headers.location as string).searchParams.get('error'), 'login_required');
    assert.equal((await getPage(t.app, jar, authorizeUrl(params({ max_age: '60' })))).statusCode, 302);
    assert.equal((await getPage(t.app, jar, authorizeUrl(params({})))).statusCode, 302);
    // Signing in again satisfies it, even when the consent steps take longer than max_age.
    const fields = formFields(old.body);
    const f = new URLSearchParams({ ...fields, username: 'erin', password: STRONG_PASSWORD });
    const res = await t.app.inject({ method: 'POST', url: '/authorize', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() }, payload: f.toString() });
    assert.equal(res.statusCode, 303);
    assert.ok(new URL(res.headers.location as string).searchParams.get('code'));
  });

  it('prompt=login shows the login page with a live sign-in', async () => {
    const jar = await signedInJar();
    const res = await getPage(t.app, jar, authorizeUrl(params({ prompt: 'login' })));
    assert.equal(res.statusCode, 200);
    assert.equal(formFields(res.body).action, 'login');
  });

  it('malformed max_age or claims → invalid_request; select_account → account_selection_required; claims and ui_locales are accepted', async () => {
    const jar = await signedInJar();
    const err = async (extra: Record<string, string>) => new URL((await getPage(t.app, jar, authorizeUrl(params(extra)))).headers.location as string).searchParams;
    assert.equal((await err({ max_age: '-1' })).get('error'), 'invalid_request');
    assert.equal((await err({ max_age: 'soon' })).get('error'), 'invalid_request');
    assert.equal((await err({ claims: '{not json' })).get('error'), 'invalid_request');
    assert.equal((await err({ claims: '[1]' })).get('error'), 'invalid_request');
    assert.equal((await err({ claims: '{"id_token":"auth_time"}' })).get('error'), 'invalid_request');
    const sel = await err({ prompt: 'select_account' });
    assert.equal(sel.get('error'), 'account_selection_required');
    assert.equal(sel.get('state'), 'st');
    const ok = await err({ claims: '{"id_token":{"auth_time":{"essential":true}},"userinfo":{"email":null}}', ui_locales: 'de en' });
    assert.ok(ok.get('code'));
  });

  it('the id_token carries auth_time, amr, acr and sid from the session', async () => {
    const { challenge, verifier } = pkce();
    const cb = await authorizeCode(t.app, { clientId: client.client_id, redirectUri, scope: 'openid', challenge, username: 'erin', password: STRONG_PASSWORD });
    const f = new URLSearchParams({ grant_type: 'authorization_code', code: cb.searchParams.get('code')!, redirect_uri: redirectUri, code_verifier: verifier });
    const res = await t.app.inject({
      method: 'POST',
      url: '/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}` },
      payload: f.toString(),
    });
    assert.equal(res.statusCode, 200, res.body);
    const idt = JSON.parse(Buffer.from(res.json().id_token.split('.')[1], 'base64url').toString());
    assert.deepEqual(idt.amr, ['pwd']);
    assert.equal(idt.acr, '1');
    assert.equal(typeof idt.sid, 'string');
    assert.equal(idt.auth_time, Math.floor(t.clock.now() / 1000));
  });

  it('client metadata: logout URIs are checked at registration, naming the field', async () => {
    const admin = (await createAdmin(t, 'root2')).access_token;
    const bad = async (meta: Record<string, unknown>) => {
      const res = await t.app.inject({ method: 'POST', url: '/admin/clients', headers: bearer(admin), payload: { client_name: 'x', redirect_uris: [redirectUri], ...meta } });
      assert.equal(res.statusCode, 422, res.body);
      return res.body;
    };
    assert.match(await bad({ backchannel_logout_uri: 'ftp://rp.example/logout' }), /backchannel_logout_uri/);
    assert.match(await bad({ backchannel_logout_uri: 'https://rp.example/logout#frag' }), /backchannel_logout_uri/);
    assert.match(await bad({ backchannel_logout_uri: 'https://user:pw@rp.example/logout' }), /backchannel_logout_uri/);
    assert.match(await bad({ post_logout_redirect_uris: ['javascript:alert(1)'] }), /post_logout_redirect_uris/);
    assert.match(await bad({ post_logout_redirect_uris: ['http://rp.example/after'] }), /post_logout_redirect_uris/);
  });

  it('PATCH /admin/clients/{id} changes the logout metadata of a registered client (checked, audited); /logout follows it at once', async () => {
    const admin = (await createAdmin(t, 'root4')).access_token;
    const c = await registerClient(t, admin, { client_name: 'Later', redirect_uris: [redirectUri], first_party: true, scope: 'openid account' });
    const patch = (body: Record<string, unknown>) => t.app.inject({ method: 'PATCH', url: `/admin/clients/${c.client_id}`, headers: bearer(admin), payload: body });
    // Before: no registered URI, so none is followed (and the client is now in the cache).
    assert.equal((await t.app.inject({ method: 'GET', url: `/logout?client_id=${c.client_id}&post_logout_redirect_uri=${encodeURIComponent('https://rp.example/out')}` })).statusCode, 400);
    const bad = await patch({ backchannel_logout_uri: 'javascript:alert(1)' });
    assert.equal(bad.statusCode, 422);
    assert.match(bad.body, /backchannel_logout_uri/);
    assert.equal((await patch({})).statusCode, 422, 'an empty patch changes nothing');
    const ok = await patch({ post_logout_redirect_uris: ['https://rp.example/out'], backchannel_logout_uri: 'https://rp.example/bcl', backchannel_logout_session_required: true });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.deepEqual(ok.json().post_logout_redirect_uris, ['https://rp.example/out']);
    assert.equal(ok.json().backchannel_logout_uri, 'https://rp.example/bcl');
    const res = await t.app.inject({ method: 'GET', url: `/logout?client_id=${c.client_id}&post_logout_redirect_uri=${encodeURIComponent('https://rp.example/out')}&state=z` });
    assert.equal(res.statusCode, 302);
    assert.equal(res.headers.location, 'https://rp.example/out?state=z');
    const cleared = await patch({ backchannel_logout_uri: null });
    assert.equal(cleared.json().backchannel_logout_uri, null);
    const events = await t.warden.db.select().from(auditEvents).where(eq(auditEvents.type, 'client.logout_changed')).orderBy(auditEvents.id);
    assert.equal(events.length, 2);
  });

  it('hostile /logout input gets a 400 page naming the parameter, never a 500', async () => {
    const cases = [
      { method: 'GET' as const, url: '/logout?id_token_hint=not-a-jwt' },
      { method: 'GET' as const, url: '/logout?state=a&state=b' },
      { method: 'GET' as const, url: `/logout?state=${'x'.repeat(1001)}` },
      { method: 'POST' as const, url: '/logout', payload: { id_token_hint: { a: 1 } } },
      { method: 'POST' as const, url: '/logout', payload: { interaction: { a: 1 }, csrf: ['x'] } },
      { method: 'POST' as const, url: '/logout', payload: { client_id: 'nope' } },
    ];
    for (const c of cases) {
      const res = await t.app.inject(c);
      assert.equal(res.statusCode, 400, `${c.method} ${c.url} ${res.body.slice(0, 200)}`);
      assert.doesNotMatch(res.body, /at \w+ \(|node_modules|\.ts:/);
    }
  });

  it('the console registers a client with its logout URIs, checked the same way', async () => {
    const admin = await createAdmin(t, 'root3');
    const { jar, csrf } = await consoleLogin(t, 'root3');
    const fields = { _csrf: csrf!, client_name: 'Console RP', redirect_uris: 'https://rp.example/cb', grant_types: 'authorization_code', token_endpoint_auth_method: 'client_secret_basic' };
    const bad = await post(t, '/admin/console/clients', jar, { ...fields, backchannel_logout_uri: 'ftp://rp.example/bcl' });
    assert.equal(bad.statusCode, 422);
    assert.match(bad.body, /backchannel_logout_uri/);
    const ok = await post(t, '/admin/console/clients', jar, { ...fields, post_logout_redirect_uris: 'https://rp.example/out\nhttps://rp.example/bye', backchannel_logout_uri: 'https://rp.example/bcl' });
    assert.equal(ok.statusCode, 201, ok.body);
    const list = (await t.app.inject({ method: 'GET', url: '/admin/clients', headers: bearer(admin.access_token) })).json().items as Array<Record<string, unknown>>;
    const made = list.find((c) => c.client_name === 'Console RP')!;
    assert.deepEqual(made.post_logout_redirect_uris, ['https://rp.example/out', 'https://rp.example/bye']);
    assert.equal(made.backchannel_logout_uri, 'https://rp.example/bcl');
  });
});
