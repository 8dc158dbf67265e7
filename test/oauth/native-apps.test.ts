import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createTestApp, registerUser, STRONG_PASSWORD, type TestApp } from '../support/app.js';
import { adminToken, authorizeCode, authorizeUrl, formFields, getPage, Jar, pkce, registerClient, type RegisteredClient } from './support.js';

const NATIVE = 'com.example.app:/cb';
const LOOPBACK = 'http://127.0.0.1:7777/cb';

/** RFC 8252 §8.6: another app may claim a private-use scheme, so the user confirms every authorization. */
describe('native apps: private-use redirect URIs need the user every time', () => {
  let t: TestApp;
  let native: RegisteredClient;
  let firstPartyNative: RegisteredClient;
  let loopback: RegisteredClient;
  before(async () => {
    t = await createTestApp();
    const admin = await adminToken(t);
    const meta = { token_endpoint_auth_method: 'none', scope: 'openid profile' };
    native = await registerClient(t, admin, { ...meta, client_name: 'Native', redirect_uris: [NATIVE, LOOPBACK] });
    firstPartyNative = await registerClient(t, admin, { ...meta, client_name: 'Own app', redirect_uris: [NATIVE], first_party: true });
    loopback = await registerClient(t, admin, { ...meta, client_name: 'CLI', redirect_uris: [LOOPBACK] });
    await registerUser(t.app, 'alice');
  });
  after(() => t.close());
  beforeEach(() => t.clock.advance(1000));

  const params = (clientId: string, redirectUri: string, extra: Record<string, string> = {}) =>
    authorizeUrl({ response_type: 'code', client_id: clientId, redirect_uri: redirectUri, scope: 'openid profile', code_challenge: pkce().challenge, code_challenge_method: 'S256', ...extra });
  const signIn = (jar: Jar, clientId: string, redirectUri: string) =>
    authorizeCode(t.app, { jar, clientId, redirectUri, scope: 'openid profile', challenge: pkce().challenge, username: 'alice', password: STRONG_PASSWORD });

  for (const [name, client] of [
    ['a third-party public client', () => native],
    ['a first-party public client', () => firstPartyNative],
  ] as const) {
    it(`${name}: after consent, the next authorization shows the confirmation page again, never a silent code`, async () => {
      const jar = new Jar();
      const first = await signIn(jar, client().client_id, NATIVE);
      assert.equal(first.protocol, 'com.example.app:');
      assert.ok(first.searchParams.get('code'));
      const again = await getPage(t.app, jar, params(client().client_id, NATIVE));
      assert.equal(again.statusCode, 200, 'a page, not a redirect with a code');
      assert.equal(formFields(again.body).action, 'consent');
    });

    it(`${name}: prompt=none answers interaction_required, even after consent`, async () => {
      const jar = new Jar();
      await signIn(jar, client().client_id, NATIVE);
      const res = await getPage(t.app, jar, params(client().client_id, NATIVE, { prompt: 'none', state: 's1' }));
      assert.equal(res.statusCode, 302);
      const u = new URL(res.headers.location as string);
      assert.equal(`${u.protocol}${u.pathname}`, NATIVE);
      assert.equal(u.searchParams.get('error'), 'interaction_required');
      assert.equal(u.searchParams.get('state'), 's1');
      assert.equal(u.searchParams.get('code'), null);
    });
  }

  it('a loopback redirect keeps remembered consent: the second authorization gets its code at once (also with prompt=none)', async () => {
    const jar = new Jar();
    await signIn(jar, loopback.client_id, LOOPBACK);
    const again = await getPage(t.app, jar, params(loopback.client_id, LOOPBACK));
    assert.equal(again.statusCode, 302);
    assert.ok(new URL(again.headers.location as string).searchParams.get('code'));
    const none = await getPage(t.app, jar, params(loopback.client_id, LOOPBACK, { prompt: 'none' }));
    assert.equal(none.statusCode, 302);
    assert.ok(new URL(none.headers.location as string).searchParams.get('code'));
  });

  it('the same client on its loopback redirect keeps remembered consent too', async () => {
    const jar = new Jar();
    await signIn(jar, native.client_id, LOOPBACK);
    const again = await getPage(t.app, jar, params(native.client_id, LOOPBACK));
    assert.equal(again.statusCode, 302);
    assert.ok(new URL(again.headers.location as string).searchParams.get('code'));
  });
});
