import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, registerUser, STRONG_PASSWORD, type TestApp } from '../support/app.js';
import { adminToken, authorizeUrl, formFields, getPage, Jar, pkce, postForm, registerClient } from './support.js';

describe('/authorize cookies behind an https issuer', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ env: { ISSUER: 'https://auth.example.com' } });
  });
  after(() => t.close());

  it('uses __Host- cookies: Secure, HttpOnly, Path=/; the session is SameSite=Lax, the CSRF cookie Strict', async () => {
    const c = await registerClient(t, await adminToken(t), { client_name: 'C', redirect_uris: ['https://c.example/cb'], first_party: true });
    await registerUser(t.app, 'hal');
    const jar = new Jar();
    const page = await getPage(t.app, jar, authorizeUrl({ response_type: 'code', client_id: c.client_id, redirect_uri: 'https://c.example/cb', scope: 'openid', code_challenge: pkce().challenge, code_challenge_method: 'S256' }));
    const csrf = [page.headers['set-cookie'] ?? []].flat().find((x) => x.startsWith('__Host-warden_csrf='))!;
    assert.match(csrf, /; Path=\/; HttpOnly; Secure; SameSite=Strict/);
    const done = await postForm(t.app, jar, { ...formFields(page.body), username: 'hal', password: STRONG_PASSWORD });
    assert.equal(done.statusCode, 303);
    const session = [done.headers['set-cookie'] ?? []].flat().find((x) => x.startsWith('__Host-warden_session='))!;
    assert.match(session, /; Path=\/; HttpOnly; Secure; SameSite=Lax/);
    assert.doesNotMatch(session, /Domain=/i);
  });
});
