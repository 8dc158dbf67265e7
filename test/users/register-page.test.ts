import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, form, registerUser, STRONG_PASSWORD, type TestApp } from '../support/app.js';

// Issue 17 item 12: the sign-in page's "create an account" opens /register, the same rules as POST /users,
// then back to the sign-in it came from (and nowhere else) with a notice.
const fields = (extra: Record<string, string> = {}) => ({
  username: 'newcomer',
  email: 'newcomer@example.com',
  password: STRONG_PASSWORD,
  password_confirm: STRONG_PASSWORD,
  ...extra,
});
const RETURN = '/authorize?response_type=code&client_id=abc&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&scope=openid&code_challenge=x&code_challenge_method=S256';

async function register(t: TestApp, params: Record<string, string>, headers: Record<string, string> = { 'sec-fetch-site': 'same-origin' }) {
  const f = form(params);
  return t.app.inject({ method: 'POST', url: '/register', headers: { ...f.headers, ...headers }, payload: f.payload });
}

describe('the registration page', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ env: { REGISTRATION: 'open' } });
  });
  after(async () => t.close());

  it('creates the account like POST /users and goes back to the sign-in it came from, leaving a one-time notice', async () => {
    const page = await t.app.inject({ method: 'GET', url: `/register?return_to=${encodeURIComponent(RETURN)}` });
    assert.equal(page.statusCode, 200);
    assert.ok(page.body.includes('name="return_to"'));
    const res = await register(t, fields({ return_to: RETURN, roles: 'admin', disabled: 'false' }));
    assert.equal(res.statusCode, 303, res.body);
    assert.equal(res.headers.location, RETURN);
    const cookie = [res.headers['set-cookie']].flat().find((c) => c!.startsWith('warden_notice='))!;
    assert.match(cookie, /^warden_notice=registered;/);
    assert.match(cookie, /Path=\/authorize/);
    const user = (await t.warden.users.list({ q: 'newcomer', limit: 1 })).items[0]!;
    assert.deepEqual(user.roles, ['user'], 'a posted "roles" field is not read');
  });

  it('returns only to an authorization request of this server (no open redirect)', async () => {
    let i = 0;
    for (const target of ['https://evil.example/authorize?x=1', '//evil.example/authorize?x=1', '/authorize/../admin?x', '/\\evil.example', 'javascript:alert(1)']) {
      const res = await register(t, fields({ username: `visitor${i}`, email: `visitor${i++}@example.com`, return_to: target }));
      assert.equal(res.statusCode, 201, target);
      assert.equal(res.headers.location, undefined, target);
      assert.match(res.body, /Account created/);
    }
  });

  it('shows each problem beside its field, keeps what was typed but never the password', async () => {
    await registerUser(t.app, 'taken');
    const res = await register(t, fields({ username: 'taken', email: 'other@example.com' }));
    assert.equal(res.statusCode, 409);
    assert.match(res.body, /id="username-error" class="field-error">that username is taken/);
    assert.match(res.body, /name="username" type="text"[^>]*value="taken"[^>]*aria-invalid="true"/);
    assert.doesNotMatch(res.body, new RegExp(STRONG_PASSWORD));
    const weak = await register(t, fields({ username: 'weakling', email: 'weak@example.com', password: 'short', password_confirm: 'short' }));
    assert.equal(weak.statusCode, 422);
    assert.match(weak.body, /id="password-error"/);
    const bad = await register(t, fields({ username: '<b>', email: 'nope' }));
    assert.equal(bad.statusCode, 422);
    assert.match(bad.body, /id="username-error"/);
    assert.match(bad.body, /id="email-error"/);
    assert.ok(bad.body.includes('value="&lt;b&gt;"'), 'escaped');
  });

  it('refuses a form posted from another site', async () => {
    const res = await register(t, fields({ username: 'csrfed', email: 'csrfed@example.com' }), { 'sec-fetch-site': 'cross-site' });
    assert.equal(res.statusCode, 403);
    assert.equal((await t.warden.users.list({ q: 'csrfed', limit: 1 })).items.length, 0);
  });

  it('answers a page, not JSON, when its rate limit is reached', async () => {
    const limited = await createTestApp({ env: { REGISTRATION: 'open', RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_REGISTER: '1' } });
    try {
      assert.equal((await register(limited, fields())).statusCode, 201, 'the first one passes');
      const res = await register(limited, fields({ username: 'second', email: 'second@example.com' }));
      assert.equal(res.statusCode, 429);
      assert.match(res.headers['content-type'] as string, /^text\/html/);
      assert.match(res.headers['retry-after'] as string, /^\d+$/);
      assert.match(res.body, /Too many requests/);
    } finally {
      await limited.close();
    }
  });

  it('is closed when registration is', async () => {
    const closed = await createTestApp({ env: { REGISTRATION: 'closed' } });
    try {
      assert.equal((await closed.app.inject({ method: 'GET', url: '/register' })).statusCode, 403);
      assert.equal((await register(closed, fields())).statusCode, 403);
      assert.equal((await closed.warden.users.list({ q: 'newcomer', limit: 1 })).items.length, 0);
      const home = await closed.app.inject({ method: 'GET', url: '/' });
      assert.doesNotMatch(home.body, /href="\/register"/);
      const { client } = await closed.warden.clients.create({ client_name: 'App', redirect_uris: ['https://app.example/cb'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'] }, {});
      const q = new URLSearchParams({ response_type: 'code', client_id: client.client_id, redirect_uri: 'https://app.example/cb', scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' });
      const signIn = await closed.app.inject({ method: 'GET', url: `/authorize?${q.toString()}` });
      assert.equal(signIn.statusCode, 200);
      assert.match(signIn.body, /href="\/password\/forgot"/);
      assert.doesNotMatch(signIn.body, /Create an account/);
    } finally {
      await closed.close();
    }
  });
});
