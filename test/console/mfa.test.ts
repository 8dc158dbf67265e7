import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { authenticator } from 'otplib';
import { bearer, createAdmin, createTestApp, type TestApp } from '../support/app.js';
import { consoleLogin, csrfFrom, post } from './support.js';

describe('console sign-in with a second factor', () => {
  let t: TestApp;
  let secret: string;
  before(async () => {
    t = await createTestApp();
    const admin = await createAdmin(t, 'mfaroot');
    const e = await t.app.inject({ method: 'POST', url: '/users/me/mfa/totp', headers: bearer(admin.access_token) });
    secret = e.json().secret;
    const code = authenticator.clone({ epoch: t.clock.now() }).generate(secret);
    const c = await t.app.inject({ method: 'POST', url: '/users/me/mfa/totp/confirm', headers: bearer(admin.access_token), payload: { code } });
    assert.equal(c.statusCode, 200, c.body);
    t.clock.advance(90_000);
  });
  after(() => t.close());

  it('asks for the TOTP code after the password, and only then starts a session', async () => {
    const { res, jar } = await consoleLogin(t, 'mfaroot');
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/admin/console/login/mfa');
    assert.equal(jar.get('warden_console'), undefined, 'no session before the second factor');
    const users = await t.app.inject({ method: 'GET', url: '/admin/console/users', headers: { cookie: jar.header() } });
    assert.equal(users.statusCode, 303);

    const form = await t.app.inject({ method: 'GET', url: '/admin/console/login/mfa', headers: { cookie: jar.header() } });
    assert.equal(form.statusCode, 200);
    jar.take(form.headers['set-cookie']);
    const csrf = csrfFrom(form.body)!;
    const wrong = await post(t, '/admin/console/login/mfa', jar, { _csrf: csrf, code: '000000' === authenticator.clone({ epoch: t.clock.now() }).generate(secret) ? '111111' : '000000' });
    assert.equal(wrong.statusCode, 401);
    assert.equal(jar.get('warden_console'), undefined);

    const code = authenticator.clone({ epoch: t.clock.now() }).generate(secret);
    const ok = await post(t, '/admin/console/login/mfa', jar, { _csrf: csrf, code });
    assert.equal(ok.statusCode, 303, ok.body);
    assert.equal(ok.headers.location, '/admin/console/users');
    jar.take(ok.headers['set-cookie']);
    const page = await t.app.inject({ method: 'GET', url: '/admin/console/users', headers: { cookie: jar.header() } });
    assert.equal(page.statusCode, 200);
  });

  it('REQUIRE_ADMIN_MFA refuses an admin without a second factor', async () => {
    const s = await createTestApp({ env: { REQUIRE_ADMIN_MFA: 'true' } });
    try {
      await s.warden.users.create({ username: 'nomfa2', email: 'nomfa2@example.com', password: 'correct horse battery staple', roles: ['admin'] }, {});
      const { res, jar } = await consoleLogin(s, 'nomfa2');
      assert.equal(res.statusCode, 403);
      assert.match(res.body, /second factor/);
      assert.equal(jar.get('warden_console'), undefined);
    } finally {
      await s.close();
    }
  });
});
