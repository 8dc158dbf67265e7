import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, registerUser, tokensFor, type TestApp } from '../support/app.js';
import { adminToken, basic, registerClient, tokenRequest } from './support.js';

describe('/admin/clients and client authentication', () => {
  let t: TestApp;
  let admin: string;
  before(async () => {
    t = await createTestApp();
    admin = await adminToken(t);
  });
  after(() => t.close());
  const auth = () => ({ authorization: `Bearer ${admin}` });

  it('registers RFC 7591 metadata, shows the secret once, stores only its hash', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/admin/clients',
      headers: auth(),
      payload: { client_name: 'Billing', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_post', scope: 'items:read' },
    });
    assert.equal(res.statusCode, 201, res.body);
    const c = res.json();
    assert.match(c.client_id, /^wc-[0-9a-f]{32}$/);
    assert.match(c.client_secret, /^wcs_[A-Za-z0-9_-]{43}$/);
    assert.equal(c.client_type, 'confidential');
    assert.deepEqual(c.response_types, []);
    const one = await t.app.inject({ url: `/admin/clients/${c.client_id}`, headers: auth() });
    assert.equal(one.statusCode, 200);
    assert.equal(one.json().client_secret, undefined);
    const stored = await t.warden.db.execute(`select secret_hash from oauth_clients where client_id = '${c.client_id}'` as never);
    const hash = ((stored as unknown as { rows: { secret_hash: string }[] }).rows ?? stored)[0]!.secret_hash;
    assert.notEqual(hash, c.client_secret);
    assert.ok(!hash.includes(c.client_secret));
  });

  for (const [uri, why] of [
    ['http://app.example.com/cb', /loopback/],
    ['https://app.example.com/cb#frag', /fragment/],
    ['/relative/cb', /absolute/],
    ['javascript:alert(1)', /not allowed/],
  ] as const) {
    it(`refuses the redirect URI ${uri}`, async () => {
      const res = await t.app.inject({ method: 'POST', url: '/admin/clients', headers: auth(), payload: { client_name: 'X', redirect_uris: [uri] } });
      assert.equal(res.statusCode, 422);
      assert.equal(res.json().code, 'invalid_redirect_uri');
      assert.match(res.json().errors[0].message, why);
    });
  }

  it('accepts https, loopback http and a native app scheme', async () => {
    const c = await registerClient(t, admin, { client_name: 'Native', token_endpoint_auth_method: 'none', redirect_uris: ['https://a.example/cb', 'http://127.0.0.1:8123/cb', 'http://[::1]/cb', 'com.example.app:/oauth'] });
    assert.equal(c.client_type, 'public');
    assert.equal(c.client_secret, undefined);
  });

  it('refuses client_credentials for a public client and the password grant for a third party', async () => {
    const pub = await t.app.inject({ method: 'POST', url: '/admin/clients', headers: auth(), payload: { client_name: 'P', grant_types: ['client_credentials'], token_endpoint_auth_method: 'none' } });
    assert.equal(pub.statusCode, 422);
    const pw = await t.app.inject({ method: 'POST', url: '/admin/clients', headers: auth(), payload: { client_name: 'P', grant_types: ['password'] } });
    assert.equal(pw.statusCode, 422);
  });

  it('is admin only', async () => {
    await registerUser(t.app, 'mallory');
    const user = await tokensFor(t.app, 'mallory');
    const res = await t.app.inject({ method: 'POST', url: '/admin/clients', headers: { authorization: `Bearer ${user.access_token}` }, payload: { client_name: 'X', grant_types: ['client_credentials'] } });
    assert.equal(res.statusCode, 403);
    assert.equal((await t.app.inject({ url: '/admin/clients' })).statusCode, 401);
  });

  it('lists with a cursor', async () => {
    for (let i = 0; i < 3; i++) {
      t.clock.advance(10);
      await registerClient(t, admin, { client_name: `L${i}`, grant_types: ['client_credentials'] });
    }
    const first = await t.app.inject({ url: '/admin/clients?limit=2', headers: auth() });
    assert.equal(first.statusCode, 200);
    assert.equal(first.json().items.length, 2);
    assert.equal(first.json().items[0].client_name, 'L2');
    const next = await t.app.inject({ url: `/admin/clients?limit=2&cursor=${first.json().next_cursor}`, headers: auth() });
    assert.equal(next.json().items[0].client_name, 'L0');
  });

  it('client_credentials: basic and post work; a wrong secret is 401 invalid_client with WWW-Authenticate', async () => {
    const c = await registerClient(t, admin, { client_name: 'Svc', grant_types: ['client_credentials'], scope: 'items:read items:write' });
    const ok = await tokenRequest(t.app, { grant_type: 'client_credentials', scope: 'items:read' }, basic(c.client_id, c.client_secret!));
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(ok.json().refresh_token, undefined);
    assert.equal(ok.json().scope, 'items:read');
    const claims = JSON.parse(Buffer.from(ok.json().access_token.split('.')[1], 'base64url').toString());
    assert.equal(claims.sub, c.client_id);
    assert.equal(claims.gty, 'client_credentials');
    const post = await tokenRequest(t.app, { grant_type: 'client_credentials', client_id: c.client_id, client_secret: c.client_secret! });
    assert.equal(post.statusCode, 200);
    for (const bad of [basic(c.client_id, 'wcs_wrong'), basic('wc-unknown', c.client_secret!)]) {
      const res = await tokenRequest(t.app, { grant_type: 'client_credentials' }, bad);
      assert.equal(res.statusCode, 401);
      assert.deepEqual(res.json(), { error: 'invalid_client', error_description: 'client authentication failed' });
      assert.match(res.headers['www-authenticate'] as string, /^Basic realm="warden"/);
    }
    const userScope = await tokenRequest(t.app, { grant_type: 'client_credentials', scope: 'openid' }, basic(c.client_id, c.client_secret!));
    assert.equal(userScope.json().error, 'invalid_scope');
  });

  it('a client_credentials token is not a user: user routes refuse it, /userinfo too', async () => {
    const c = await registerClient(t, admin, { client_name: 'Svc2', grant_types: ['client_credentials'] });
    const tok = (await tokenRequest(t.app, { grant_type: 'client_credentials' }, basic(c.client_id, c.client_secret!))).json().access_token;
    assert.equal((await t.app.inject({ url: '/users/me', headers: { authorization: `Bearer ${tok}` } })).statusCode, 403);
    assert.equal((await t.app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${tok}` } })).statusCode, 403);
  });

  it('rotate-secret: the new one works, the old one stops at once; delete removes the client', async () => {
    const c = await registerClient(t, admin, { client_name: 'Rot', grant_types: ['client_credentials'] });
    const rot = await t.app.inject({ method: 'POST', url: `/admin/clients/${c.client_id}/rotate-secret`, headers: auth() });
    assert.equal(rot.statusCode, 200);
    const fresh = rot.json().client_secret;
    assert.notEqual(fresh, c.client_secret);
    assert.equal((await tokenRequest(t.app, { grant_type: 'client_credentials' }, basic(c.client_id, c.client_secret!))).statusCode, 401);
    const tok = await tokenRequest(t.app, { grant_type: 'client_credentials' }, basic(c.client_id, fresh));
    assert.equal(tok.statusCode, 200);
    const del = await t.app.inject({ method: 'DELETE', url: `/admin/clients/${c.client_id}`, headers: auth() });
    assert.equal(del.statusCode, 204);
    assert.equal((await tokenRequest(t.app, { grant_type: 'client_credentials' }, basic(c.client_id, fresh))).statusCode, 401);
    assert.equal((await t.app.inject({ method: 'DELETE', url: `/admin/clients/${c.client_id}`, headers: auth() })).statusCode, 404);
    const events = await t.warden.db.execute(`select type from audit_events where subject_id = '${c.client_id}' order by id` as never);
    const types = ((events as unknown as { rows: { type: string }[] }).rows ?? events).map((r: { type: string }) => r.type);
    assert.deepEqual(types.filter((x: string) => x.startsWith('client.')), ['client.created', 'client.secret_rotated', 'client.deleted']);
  });

  it('the password grant is refused for a third-party client and allowed for a first-party one', async () => {
    await registerUser(t.app, 'pat');
    const third = await registerClient(t, admin, { client_name: 'Third', redirect_uris: ['https://x.example/cb'] });
    const refused = await tokenRequest(t.app, { grant_type: 'password', username: 'pat', password: 'correct horse battery staple' }, basic(third.client_id, third.client_secret!));
    assert.equal(refused.statusCode, 400);
    assert.equal(refused.json().error, 'unauthorized_client');
    const first = await registerClient(t, admin, { client_name: 'Mine', grant_types: ['password', 'refresh_token'], first_party: true });
    const ok = await tokenRequest(t.app, { grant_type: 'password', username: 'pat', password: 'correct horse battery staple' }, basic(first.client_id, first.client_secret!));
    assert.equal(ok.statusCode, 200, ok.body);
  });
});
