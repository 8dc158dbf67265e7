import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { sessions } from '../../src/features/sessions/tables.js';
import { users } from '../../src/features/users/tables.js';
import { findAuditEvents } from '../../src/features/audit/repository.js';
import { bearer, createTestApp, STRONG_PASSWORD, tokensFor, type TestApp } from '../support/app.js';
import { fakeProvider } from '../support/fake-op.js';
import { freePort } from '../support/process.js';
import { registerClient } from '../oauth/support.js';

/** With REGISTRATION=closed an upstream sign-in with no link and no account makes no account. */
describe('federation with registration closed', () => {
  let t: TestApp;
  let issuer: string;
  let fake: Awaited<ReturnType<typeof fakeProvider>>;
  let providerId: string;
  let clientId: string;

  before(async () => {
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    t = await createTestApp({ env: { ISSUER: issuer, REGISTRATION: 'closed' } });
    await t.app.listen({ host: '127.0.0.1', port });
    // Registration is closed: the admin is made as `warden user create` would.
    await t.warden.users.create({ username: 'root', email: 'root@example.com', password: STRONG_PASSWORD, roles: ['admin', 'user'], emailVerified: true }, {});
    const admin = await tokensFor(t.app, 'root');
    clientId = (await registerClient(t, admin.access_token, { client_name: 'App', redirect_uris: ['http://127.0.0.1:9/cb'], scope: 'openid' })).client_id;
    fake = await fakeProvider();
    const res = await t.app.inject({
      method: 'POST',
      url: '/admin/identity-providers',
      headers: bearer(admin.access_token),
      payload: { kind: 'oidc', name: 'Fake', issuer: fake.base, client_id: 'fake-client', client_secret: 'fake-secret' },
    });
    providerId = res.json().id;
  });
  after(async () => {
    await fake?.close();
    await t?.close();
  });

  it('refuses on the error page, creates no user and no session, and audits registration_closed', async () => {
    const jar = new Map<string, string>();
    const get = async (url: string) => {
      const res = await fetch(url, { redirect: 'manual', headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } });
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const i = pair!.indexOf('=');
        jar.set(pair!.slice(0, i), pair!.slice(i + 1));
      }
      return res;
    };
    const q = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: 'http://127.0.0.1:9/cb', scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' });
    const sessionsBefore = (await t.warden.db.select().from(sessions)).length;
    const login = await get(`${issuer}/authorize?${q.toString()}`);
    const page = await login.text();
    assert.match(page, /Sign in with Fake/);
    const ix = /name="interaction" value="([^"]+)"/.exec(page)![1]!;
    const start = await get(`${issuer}/federation/${providerId}/start?interaction=${ix}`);
    const up = new URL(start.headers.get('location')!);
    fake.next.nonce = up.searchParams.get('nonce')!;
    fake.next.sub = 'nobody-here';
    fake.next.email = 'newcomer@upstream.test';
    const res = await get(`${issuer}/federation/${providerId}/callback?code=c&state=${up.searchParams.get('state')}`);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /new accounts cannot be created here/);
    assert.equal((await t.warden.db.select().from(users).where(eq(users.email, 'newcomer@upstream.test'))).length, 0);
    assert.equal((await t.warden.db.select().from(sessions)).length, sessionsBefore);
    assert.ok(![...jar.keys()].includes('warden_session'));
    await t.warden.audit.flush();
    const rows = (await findAuditEvents(t.warden.db, { type: 'federation.failed', limit: 20 })).items as Array<{ details: { reason?: string } | null }>;
    assert.ok(rows.some((r) => r.details?.reason === 'registration_closed'));
  });
});
