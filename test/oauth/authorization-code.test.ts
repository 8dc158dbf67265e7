import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { createTestApp, registerUser, STRONG_PASSWORD, type TestApp } from '../support/app.js';
import { accessTokenHash } from '../../src/features/oauth/id-token.js';
import { adminToken, authorizeCode, authorizeUrl, basic, exchangeCode, formFields, getPage, Jar, pkce, postForm, registerClient, tokenRequest, type RegisteredClient } from './support.js';

const REDIRECT = 'https://app.example.com/callback';

describe('authorization code + PKCE', () => {
  let t: TestApp;
  let web: RegisteredClient;
  let spa: RegisteredClient;
  before(async () => {
    t = await createTestApp();
    const admin = await adminToken(t);
    web = await registerClient(t, admin, { client_name: 'Web <App>', redirect_uris: [REDIRECT], scope: 'openid profile email offline_access items:read' });
    spa = await registerClient(t, admin, { client_name: 'SPA', redirect_uris: ['http://127.0.0.1:5173/cb'], token_endpoint_auth_method: 'none', scope: 'openid profile offline_access' });
    await registerUser(t.app, 'alice', STRONG_PASSWORD, { full_name: 'Alice A' });
  });
  after(() => t.close());
  beforeEach(() => t.clock.advance(1000));

  const login = (extra: Partial<Parameters<typeof authorizeCode>[1]> = {}, p = pkce()) =>
    authorizeCode(t.app, { clientId: web.client_id, redirectUri: REDIRECT, scope: 'openid profile email offline_access', challenge: p.challenge, username: 'alice', password: STRONG_PASSWORD, state: 'xyz', nonce: 'n-1', ...extra });

  it('runs login, consent, code exchange; id_token has nonce, at_hash, auth_time, aud', async () => {
    const p = pkce();
    const cb = await login({}, p);
    assert.equal(cb.origin + cb.pathname, REDIRECT);
    assert.equal(cb.searchParams.get('state'), 'xyz');
    assert.equal(cb.searchParams.get('iss'), t.config.issuer);
    const code = cb.searchParams.get('code')!;
    const res = await exchangeCode(t.app, { code, redirect_uri: REDIRECT, code_verifier: p.verifier }, basic(web.client_id, web.client_secret!));
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.ok(body.refresh_token, 'offline_access granted → refresh token');
    assert.equal(body.scope, 'openid profile email offline_access');
    const id = decodeJwt(body.id_token);
    assert.equal(id.aud, web.client_id);
    assert.equal(id.nonce, 'n-1');
    assert.equal(id.iss, t.config.issuer);
    assert.equal(id.at_hash, accessTokenHash(body.access_token, 'EdDSA'));
    assert.equal(typeof id.auth_time, 'number');
    assert.equal(id.preferred_username, 'alice');
    assert.equal(id.email, 'alice@example.com');
    const at = decodeJwt(body.access_token);
    assert.equal(at.client_id, web.client_id);
    assert.equal(at.aud, 'warden');
  });

  it('remembers consent: the second authorization skips the consent page', async () => {
    const jar = new Jar();
    await login({ jar });
    const p = pkce();
    const res = await getPage(t.app, jar, authorizeUrl({ response_type: 'code', client_id: web.client_id, redirect_uri: REDIRECT, scope: 'openid profile', code_challenge: p.challenge, code_challenge_method: 'S256' }));
    assert.equal(res.statusCode, 302, 'signed in and consented: straight back with a code');
    assert.ok(new URL(res.headers.location as string).searchParams.get('code'));
  });

  it('no refresh token for a third-party client without offline_access', async () => {
    const p = pkce();
    const cb = await login({ scope: 'openid profile' }, p);
    const res = await exchangeCode(t.app, { code: cb.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: p.verifier, client_id: web.client_id, client_secret: web.client_secret! });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().refresh_token, undefined);
  });

  it('refuses a wrong code_verifier, and the code is burnt', async () => {
    const p = pkce();
    const code = (await login({}, p)).searchParams.get('code')!;
    const bad = await exchangeCode(t.app, { code, redirect_uri: REDIRECT, code_verifier: pkce().verifier }, basic(web.client_id, web.client_secret!));
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(bad.json(), { error: 'invalid_grant', error_description: 'code_verifier does not match the code_challenge' });
    const again = await exchangeCode(t.app, { code, redirect_uri: REDIRECT, code_verifier: p.verifier }, basic(web.client_id, web.client_secret!));
    assert.equal(again.statusCode, 400);
  });

  it('refuses a token request without code_verifier', async () => {
    const code = (await login()).searchParams.get('code')!;
    const res = await exchangeCode(t.app, { code, redirect_uri: REDIRECT }, basic(web.client_id, web.client_secret!));
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error, 'invalid_request');
  });

  for (const [name, extra, expect] of [
    ['missing code_challenge', { code_challenge: '' }, /code_challenge is required/],
    ['plain method', { code_challenge_method: 'plain' }, /must be S256/],
    ['no method (defaults to plain)', { code_challenge_method: '' }, /must be S256/],
  ] as const) {
    it(`authorize refuses PKCE: ${name}, redirecting invalid_request with state`, async () => {
      const q: Record<string, string> = { response_type: 'code', client_id: web.client_id, redirect_uri: REDIRECT, scope: 'openid', state: 's1', code_challenge: pkce().challenge, code_challenge_method: 'S256', ...(extra as Record<string, string>) };
      for (const k of Object.keys(q)) if (q[k] === '') delete q[k];
      const res = await getPage(t.app, new Jar(), authorizeUrl(q));
      assert.equal(res.statusCode, 302);
      const u = new URL(res.headers.location as string);
      assert.equal(u.origin + u.pathname, REDIRECT);
      assert.equal(u.searchParams.get('error'), 'invalid_request');
      assert.match(u.searchParams.get('error_description')!, expect);
      assert.equal(u.searchParams.get('state'), 's1');
    });
  }

  it('a redirect_uri mismatch shows an error page and never redirects', async () => {
    for (const uri of ['https://evil.example.com/callback', `${REDIRECT}/extra`, `${REDIRECT}?x=1`, 'https://APP.example.com/callback']) {
      const res = await getPage(t.app, new Jar(), authorizeUrl({ response_type: 'code', client_id: web.client_id, redirect_uri: uri, code_challenge: pkce().challenge, code_challenge_method: 'S256' }));
      assert.equal(res.statusCode, 400, uri);
      assert.equal(res.headers.location, undefined);
      assert.match(res.headers['content-type'] as string, /text\/html/);
      assert.match(res.headers['content-security-policy'] as string, /default-src 'none'/);
      assert.match(res.body, /not registered/);
    }
    const unknown = await getPage(t.app, new Jar(), authorizeUrl({ response_type: 'code', client_id: 'nope', redirect_uri: REDIRECT }));
    assert.equal(unknown.statusCode, 400);
    assert.equal(unknown.headers.location, undefined);
  });

  it('escapes the client name on the pages', async () => {
    const res = await getPage(t.app, new Jar(), authorizeUrl({ response_type: 'code', client_id: web.client_id, redirect_uri: REDIRECT, scope: 'openid', code_challenge: pkce().challenge, code_challenge_method: 'S256' }));
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /Web &lt;App&gt;/);
    // The only scripts are this server's own files (the passkey button), never inline.
    assert.doesNotMatch(res.body.replace(/<script src="\/static\/[a-z0-9-]+\.js" defer><\/script>/g, ''), /<script|style=/);
    assert.match(res.headers['content-security-policy'] as string, /form-action 'self' https:\/\/app\.example\.com/);
  });

  it('refuses a form post without the CSRF cookie or with a wrong token', async () => {
    const jar = new Jar();
    const page = await getPage(t.app, jar, authorizeUrl({ response_type: 'code', client_id: web.client_id, redirect_uri: REDIRECT, scope: 'items:read', code_challenge: pkce().challenge, code_challenge_method: 'S256' }));
    const fields = formFields(page.body);
    const noCookie = await postForm(t.app, new Jar(), { ...fields, username: 'alice', password: STRONG_PASSWORD });
    assert.equal(noCookie.statusCode, 400);
    assert.match(noCookie.body, /expired or did not come from this site/);
    const wrong = await postForm(t.app, jar, { ...fields, csrf: 'x'.repeat(43), username: 'alice', password: STRONG_PASSWORD });
    assert.equal(wrong.statusCode, 400);
    const ok = await postForm(t.app, jar, { ...fields, username: 'alice', password: STRONG_PASSWORD });
    assert.equal(ok.statusCode, 200, 'now the consent page');
    assert.equal(formFields(ok.body).action, 'consent');
  });

  it('a wrong password shows the login page again, with the generic message', async () => {
    const jar = new Jar();
    const page = await getPage(t.app, jar, authorizeUrl({ response_type: 'code', client_id: web.client_id, redirect_uri: REDIRECT, scope: 'openid', code_challenge: pkce().challenge, code_challenge_method: 'S256' }));
    const res = await postForm(t.app, jar, { ...formFields(page.body), username: 'alice', password: 'wrong password here' });
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /Invalid username or password/);
    assert.ok(!jar.cookies.has('warden_session'));
  });

  it('deny at consent redirects access_denied', async () => {
    const jar = new Jar();
    let res = await getPage(t.app, jar, authorizeUrl({ response_type: 'code', client_id: web.client_id, redirect_uri: REDIRECT, scope: 'items:read', state: 'q', code_challenge: pkce().challenge, code_challenge_method: 'S256' }));
    if (formFields(res.body).action === 'login') res = await postForm(t.app, jar, { ...formFields(res.body), username: 'alice', password: STRONG_PASSWORD });
    res = await postForm(t.app, jar, { ...formFields(res.body), decision: 'deny' });
    assert.equal(res.statusCode, 303);
    const u = new URL(res.headers.location as string);
    assert.equal(u.searchParams.get('error'), 'access_denied');
    assert.equal(u.searchParams.get('state'), 'q');
  });

  it('prompt=none without a session answers login_required', async () => {
    const res = await getPage(t.app, new Jar(), authorizeUrl({ response_type: 'code', client_id: web.client_id, redirect_uri: REDIRECT, scope: 'openid', prompt: 'none', code_challenge: pkce().challenge, code_challenge_method: 'S256' }));
    assert.equal(res.statusCode, 302);
    assert.equal(new URL(res.headers.location as string).searchParams.get('error'), 'login_required');
  });

  it('refuses response_mode other than query and unknown scopes at the redirect URI', async () => {
    const base = { response_type: 'code', client_id: web.client_id, redirect_uri: REDIRECT, code_challenge: pkce().challenge, code_challenge_method: 'S256' };
    const fragment = await getPage(t.app, new Jar(), authorizeUrl({ ...base, response_mode: 'fragment' }));
    assert.equal(new URL(fragment.headers.location as string).searchParams.get('error'), 'invalid_request');
    const scope = await getPage(t.app, new Jar(), authorizeUrl({ ...base, scope: 'openid admin:everything' }));
    assert.equal(new URL(scope.headers.location as string).searchParams.get('error'), 'invalid_scope');
    const token = await getPage(t.app, new Jar(), authorizeUrl({ ...base, response_type: 'token' }));
    assert.equal(new URL(token.headers.location as string).searchParams.get('error'), 'unsupported_response_type');
  });

  it('code reuse fails and revokes the access and refresh tokens issued from it', async () => {
    const p = pkce();
    const code = (await login({}, p)).searchParams.get('code')!;
    const creds = basic(web.client_id, web.client_secret!);
    const first = await exchangeCode(t.app, { code, redirect_uri: REDIRECT, code_verifier: p.verifier }, creds);
    assert.equal(first.statusCode, 200);
    const { access_token, refresh_token } = first.json();
    assert.equal((await t.app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${access_token}` } })).statusCode, 200);
    const second = await exchangeCode(t.app, { code, redirect_uri: REDIRECT, code_verifier: p.verifier }, creds);
    assert.equal(second.statusCode, 400);
    assert.equal(second.json().error, 'invalid_grant');
    assert.equal((await t.app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${access_token}` } })).statusCode, 401);
    const refreshed = await tokenRequest(t.app, { grant_type: 'refresh_token', refresh_token }, creds);
    assert.equal(refreshed.statusCode, 400);
    const events = await t.warden.db.execute(`select type, flagged from audit_events where type = 'code.reuse_detected'` as never);
    assert.ok(((events as unknown as { rows: unknown[] }).rows ?? events).length >= 1);
  });

  it('a code is bound to its client and redirect_uri and expires after 60 s', async () => {
    const p = pkce();
    let code = (await login({}, p)).searchParams.get('code')!;
    const other = await exchangeCode(t.app, { code, redirect_uri: REDIRECT, code_verifier: p.verifier, client_id: spa.client_id });
    assert.deepEqual(other.json(), { error: 'invalid_grant', error_description: 'authorization code was issued to another client' });
    code = (await login({}, p)).searchParams.get('code')!;
    const uri = await exchangeCode(t.app, { code, redirect_uri: 'https://app.example.com/other', code_verifier: p.verifier }, basic(web.client_id, web.client_secret!));
    assert.equal(uri.json().error_description, 'redirect_uri does not match the authorization request');
    code = (await login({}, p)).searchParams.get('code')!;
    t.clock.advance(61_000);
    const late = await exchangeCode(t.app, { code, redirect_uri: REDIRECT, code_verifier: p.verifier }, basic(web.client_id, web.client_secret!));
    assert.equal(late.json().error_description, 'authorization code expired');
  });

  it('two concurrent exchanges of one code: exactly one succeeds', async () => {
    const p = pkce();
    const code = (await login({}, p)).searchParams.get('code')!;
    const creds = basic(web.client_id, web.client_secret!);
    const results = await Promise.all([0, 1, 2].map(() => exchangeCode(t.app, { code, redirect_uri: REDIRECT, code_verifier: p.verifier }, creds)));
    assert.deepEqual(results.map((r) => r.statusCode).sort(), [200, 400, 400]);
  });

  it("a force-logout ends the browser's sign-in at /authorize too", async () => {
    const jar = new Jar();
    await login({ jar });
    const user = (await t.warden.users.list({ q: 'alice', limit: 1 })).items[0]!;
    t.clock.advance(1000);
    await t.warden.users.forceLogout(null, user.id, {});
    t.clock.advance(1000);
    const res = await getPage(t.app, jar, authorizeUrl({ response_type: 'code', client_id: web.client_id, redirect_uri: REDIRECT, scope: 'openid', code_challenge: pkce().challenge, code_challenge_method: 'S256' }));
    assert.equal(res.statusCode, 200);
    assert.equal(formFields(res.body).action, 'login');
  });

  it('a public client exchanges with client_id only; a confidential one must authenticate', async () => {
    const p = pkce();
    const cb = await authorizeCode(t.app, { clientId: spa.client_id, redirectUri: 'http://127.0.0.1:5173/cb', scope: 'openid offline_access', challenge: p.challenge, username: 'alice', password: STRONG_PASSWORD });
    const res = await exchangeCode(t.app, { code: cb.searchParams.get('code')!, redirect_uri: 'http://127.0.0.1:5173/cb', code_verifier: p.verifier, client_id: spa.client_id });
    assert.equal(res.statusCode, 200, res.body);
    assert.ok(res.json().refresh_token);
    const q = pkce();
    const code = (await login({}, q)).searchParams.get('code')!;
    const unauth = await exchangeCode(t.app, { code, redirect_uri: REDIRECT, code_verifier: q.verifier, client_id: web.client_id });
    assert.equal(unauth.statusCode, 401);
    assert.equal(unauth.json().error, 'invalid_client');
  });
});
