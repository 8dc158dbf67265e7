import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { findAuditEvents } from '../../src/features/audit/repository.js';
import { consoleSessions } from '../../src/features/console/tables.js';
import { createAdmin, createTestApp, registerUser, type TestApp } from '../support/app.js';
import { consoleLogin, cookieJar, csrfFrom, post } from './support.js';

describe('admin console (inject)', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
    await createAdmin(t, 'root');
  });
  after(() => t.close());

  it('sends an unauthenticated visitor to the sign-in page', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/admin' });
    assert.equal(res.statusCode, 303);
    const users = await t.app.inject({ method: 'GET', url: '/admin/console/users' });
    assert.equal(users.statusCode, 303);
    assert.equal(users.headers.location, '/admin/console/login');
  });

  it('signs an admin in with a HttpOnly SameSite=Strict session cookie whose id is stored only hashed', async () => {
    const { res, jar, csrf } = await consoleLogin(t, 'root');
    assert.equal(res.statusCode, 303);
    const setCookie = [res.headers['set-cookie']].flat().find((c) => c!.startsWith('warden_console='))!;
    assert.match(setCookie, /HttpOnly/i);
    assert.match(setCookie, /SameSite=Strict/i);
    assert.match(setCookie, /Path=\//);
    assert.doesNotMatch(setCookie, /Secure/i, 'plain http in development: no Secure');
    assert.ok(csrf);
    const id = jar.get('warden_console')!;
    const rows = await t.warden.db.select().from(consoleSessions);
    assert.equal(rows.length, 1);
    assert.notEqual(rows[0]!.idHash, id);
    assert.ok(!JSON.stringify(rows).includes(id));
    const page = await t.app.inject({ method: 'GET', url: '/admin/console/users', headers: { cookie: jar.header() } });
    assert.equal(page.statusCode, 200);
    assert.match(page.headers['content-security-policy'] as string, /default-src 'none'/);
    assert.doesNotMatch(page.headers['content-security-policy'] as string, /unsafe-inline/);
    assert.doesNotMatch(page.body, /<script|style=/i);
    const ok = await findAuditEvents(t.warden.db, { type: 'login.succeeded', limit: 5 });
    assert.equal(ok.items[0]!.details.via, 'console');
  });

  it('refuses a wrong password and a non-admin, auditing both', async () => {
    await registerUser(t.app, 'plainuser');
    const wrong = await consoleLogin(t, 'root', 'wrong password entirely');
    assert.equal(wrong.res.statusCode, 401);
    assert.match(wrong.res.body, /Invalid username or password/);
    const plain = await consoleLogin(t, 'plainuser');
    assert.equal(plain.res.statusCode, 403);
    assert.equal(plain.jar.get('warden_console'), undefined);
    const failed = await findAuditEvents(t.warden.db, { type: 'login.failed', limit: 5 });
    assert.deepEqual(failed.items.map((e) => e.details.reason).sort(), ['bad_password', 'not_admin']);
  });

  it('refuses a form post without the session CSRF token, or from another site, and changes nothing', async () => {
    const victim = await registerUser(t.app, 'csrfvictim');
    const { jar, csrf } = await consoleLogin(t, 'root');
    const url = `/admin/console/users/${victim.id}/disable`;
    const noToken = await post(t, url, jar, {});
    assert.equal(noToken.statusCode, 403);
    const badToken = await post(t, url, jar, { _csrf: 'A'.repeat(43) });
    assert.equal(badToken.statusCode, 403);
    const crossSite = await post(t, url, jar, { _csrf: csrf! }, { 'sec-fetch-site': 'cross-site' });
    assert.equal(crossSite.statusCode, 403);
    const foreignOrigin = await post(t, url, jar, { _csrf: csrf! }, { origin: 'https://evil.example' });
    assert.equal(foreignOrigin.statusCode, 403);
    const noSession = await post(t, url, cookieJar(), { _csrf: csrf! });
    assert.equal(noSession.statusCode, 403);
    assert.equal((await t.warden.users.get(victim.id)).disabled, false);
    // The same post done right works.
    const ok = await post(t, url, jar, { _csrf: csrf!, confirm: 'yes' });
    assert.equal(ok.statusCode, 303);
    assert.equal((await t.warden.users.get(victim.id)).disabled, true);
  });

  it('refuses a sign-in form posted from another site (login CSRF)', async () => {
    const jar = cookieJar();
    const page = await t.app.inject({ method: 'GET', url: '/admin/console/login' });
    jar.take(page.headers['set-cookie']);
    const res = await post(t, '/admin/console/login', jar, { _csrf: csrfFrom(page.body)!, login: 'root', password: 'x' }, { 'sec-fetch-site': 'cross-site' });
    assert.equal(res.statusCode, 403);
    const noCookie = await post(t, '/admin/console/login', cookieJar(), { _csrf: csrfFrom(page.body)!, login: 'root', password: 'x' });
    assert.equal(noCookie.statusCode, 403);
  });

  it('ends console sessions on sign-out and when the admin is force-logged-out', async () => {
    const a = await consoleLogin(t, 'root');
    const out = await post(t, '/admin/console/logout', a.jar, { _csrf: a.csrf! });
    assert.equal(out.statusCode, 303);
    const after1 = await t.app.inject({ method: 'GET', url: '/admin/console/users', headers: { cookie: `warden_console=${a.jar.get('warden_console') ?? ''}` } });
    assert.equal(after1.statusCode, 303);

    const b = await consoleLogin(t, 'root');
    const root = (await t.warden.users.list({ q: 'root', limit: 1 })).items[0]!;
    t.clock.advance(1000);
    await t.warden.users.forceLogout(null, root.id, {});
    const after2 = await t.app.inject({ method: 'GET', url: '/admin/console/users', headers: { cookie: b.jar.header() } });
    assert.equal(after2.statusCode, 303);
  });

  it('names the cookie __Host-warden_console with Secure when the issuer is https', async () => {
    const s = await createTestApp({ env: { ISSUER: 'https://auth.example.com' } });
    try {
      await createAdmin(s, 'secureroot');
      const { res, jar } = await consoleLogin(s, 'secureroot');
      assert.equal(res.statusCode, 303);
      const c = [res.headers['set-cookie']].flat().find((x) => x!.startsWith('__Host-warden_console='))!;
      assert.ok(c, 'the __Host- session cookie');
      assert.match(c, /; Secure/i);
      assert.match(c, /HttpOnly/i);
      assert.match(c, /SameSite=Strict/i);
      assert.doesNotMatch(c, /Domain=/i);
      assert.ok(jar.get('__Host-warden_console'));
    } finally {
      await s.close();
    }
  });
});
