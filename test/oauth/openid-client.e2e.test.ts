import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { createJwtVerifier } from './jwks-verifier.js';
import { createAdmin, createTestApp, registerUser, STRONG_PASSWORD, type TestApp } from '../support/app.js';
import { registerClient, type RegisteredClient } from './support.js';

/** A free loopback port: the issuer must be known before the app is built (it is in every token). */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

/** A browser, by hand: cookies kept per name, redirects not followed. */
class Browser {
  private readonly jar = new Map<string, string>();
  private store(res: Response) {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      this.jar.set(pair!.slice(0, i), pair!.slice(i + 1));
    }
  }
  private get cookie() {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  async get(url: string | URL) {
    const res = await fetch(url, { redirect: 'manual', headers: { cookie: this.cookie } });
    this.store(res);
    return res;
  }
  async post(url: string, fields: Record<string, string>) {
    const res = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: this.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
    this.store(res);
    return res;
  }
}

function hiddenFields(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) out[m[1]!] = m[2]!;
  return out;
}

/** Sign in and consent on Warden's pages; returns the URL the browser is finally sent to. */
async function signIn(browser: Browser, issuer: string, authUrl: URL, username: string): Promise<URL> {
  let res = await browser.get(authUrl);
  for (let i = 0; i < 4 && res.status === 200; i++) {
    const fields = hiddenFields(await res.text());
    if (fields.action === 'login') res = await browser.post(`${issuer}/authorize`, { ...fields, username, password: STRONG_PASSWORD });
    else if (fields.action === 'consent') res = await browser.post(`${issuer}/authorize`, { ...fields, decision: 'allow' });
    else throw new Error('unexpected page');
  }
  assert.ok(res.status === 302 || res.status === 303, `redirect expected, got ${res.status}`);
  return new URL(res.headers.get('location')!);
}

describe('end to end with openid-client (a certified relying party) over a real socket', () => {
  let t: TestApp;
  let issuer: string;
  let web: RegisteredClient;
  let svc: RegisteredClient;
  const redirectUri = 'http://127.0.0.1:9/callback';

  before(async () => {
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    t = await createTestApp({ env: { ISSUER: issuer } });
    await t.app.listen({ host: '127.0.0.1', port });
    const admin = await createAdmin(t);
    web = await registerClient(t, admin.access_token, { client_name: 'Web app', redirect_uris: [redirectUri], scope: 'openid profile email offline_access items:read' });
    svc = await registerClient(t, admin.access_token, { client_name: 'Backend', grant_types: ['client_credentials'], scope: 'items:read' });
    await registerUser(t.app, 'erin', STRONG_PASSWORD, { full_name: 'Erin E' });
  });
  after(() => t.close());

  const discover = (id: string, secret: string) =>
    oidc.discovery(new URL(issuer), id, undefined, oidc.ClientSecretBasic(secret), { execute: [oidc.allowInsecureRequests] });

  it('discovery → authorization code + PKCE → refresh → userinfo → introspection → revocation', async () => {
    const config = await discover(web.client_id, web.client_secret!);
    assert.equal(config.serverMetadata().issuer, issuer);
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const authUrl = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid profile email offline_access',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    const callback = await signIn(new Browser(), issuer, authUrl, 'erin');
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    const claims = tokens.claims()!;
    assert.equal(claims.preferred_username, 'erin');
    assert.equal(claims.aud, web.client_id);
    assert.ok(tokens.refresh_token);

    // The id_token's signature, checked the way a resource server would: against the published JWKS.
    const verify = createJwtVerifier(`${issuer}/.well-known/jwks.json`, issuer);
    assert.equal((await verify(tokens.id_token!, web.client_id)).sub, claims.sub);
    assert.equal((await verify(tokens.access_token, 'warden')).client_id, web.client_id);

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'rotated');
    // Presented again after the grace window: reuse detection revokes the whole family.
    t.clock.advance(10_000);
    await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token!), (e: Error & { error?: string }) => e.error === 'invalid_grant');
    await assert.rejects(oidc.refreshTokenGrant(config, refreshed.refresh_token!), (e: Error & { error?: string }) => e.error === 'invalid_grant');

    const fresh = await oidc.authorizationCodeGrant(
      config,
      await signInAgain(config, verifier, state, nonce),
      { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce },
    );
    const info = await oidc.fetchUserInfo(config, fresh.access_token, claims.sub);
    assert.equal(info.email, 'erin@example.com');
    assert.equal(info.name, 'Erin E');

    const active = await oidc.tokenIntrospection(config, fresh.access_token);
    assert.equal(active.active, true);
    assert.equal(active.username, 'erin');
    assert.equal(active.client_id, web.client_id);
    await oidc.tokenRevocation(config, fresh.access_token);
    assert.equal((await oidc.tokenIntrospection(config, fresh.access_token)).active, false);
    await assert.rejects(oidc.fetchUserInfo(config, fresh.access_token, claims.sub));
  });

  // The browser still holds Warden's session: the second authorization needs no login and no consent.
  let browserWithSession: Browser | undefined;
  async function signInAgain(config: oidc.Configuration, verifier: string, state: string, nonce: string): Promise<URL> {
    browserWithSession ??= new Browser();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid profile email',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return signIn(browserWithSession, issuer, url, 'erin');
  }

  it('client_credentials, verified by a backend through the JWKS', async () => {
    const config = await discover(svc.client_id, svc.client_secret!);
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'items:read' });
    const claims = await createJwtVerifier(`${issuer}/.well-known/jwks.json`, issuer)(tokens.access_token, 'warden');
    assert.equal(claims.sub, svc.client_id);
    assert.equal(claims.gty, 'client_credentials');
    const intro = await oidc.tokenIntrospection(config, tokens.access_token);
    assert.equal(intro.active, true);
  });

  it('a wrong client secret is refused with 401 invalid_client', async () => {
    const config = await discover(svc.client_id, 'wcs_wrong');
    const e = await oidc.clientCredentialsGrant(config).then(
      () => assert.fail('a wrong secret was accepted'),
      (err: unknown) => err as Error & { status?: number; cause?: Array<{ scheme: string }>; response?: Response },
    );
    assert.ok(e instanceof oidc.WWWAuthenticateChallengeError);
    assert.equal(e.status, 401);
    assert.equal(e.cause![0]!.scheme, 'basic');
    assert.equal(((await e.response!.json()) as { error: string }).error, 'invalid_client');
  });

  it('a public client (mobile/SPA) with PKCE and no secret', async () => {
    const admin = await createAdmin(t, 'root2');
    const app = await registerClient(t, admin.access_token, { client_name: 'Mobile', token_endpoint_auth_method: 'none', redirect_uris: ['com.example.app:/oauth'], scope: 'openid offline_access' });
    const config = await oidc.discovery(new URL(issuer), app.client_id, undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: 'com.example.app:/oauth',
      scope: 'openid offline_access',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: 's',
    });
    const cb = await signIn(new Browser(), issuer, url, 'erin');
    const tokens = await oidc.authorizationCodeGrant(config, cb, { pkceCodeVerifier: verifier, expectedState: 's' });
    assert.ok(tokens.refresh_token);
  });
});
