import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { findAuditEvents } from '../../src/features/audit/repository.js';
import { ipPrefix } from '../../src/features/sessions/new-device.js';
import { knownDevices, sessionEndLinks } from '../../src/features/sessions/tables.js';
import { bearer, createTestApp, form, registerUser, STRONG_PASSWORD, type TestApp } from '../support/app.js';
import { startSmtp, tokenFrom, type SmtpHarness } from '../account/smtp.js';
import { adminToken, authorizeCode, Jar, pkce, registerClient } from '../oauth/support.js';

const REDIRECT = 'https://app.example.com/cb';

describe('mail on a sign-in from a new device, with a single-use link that ends that session', () => {
  let smtp: SmtpHarness;
  let t: TestApp;
  before(async () => {
    smtp = await startSmtp();
    t = await createTestApp({ env: { SMTP_URL: smtp.url, PUBLIC_URL: 'https://id.example.com' } });
  });
  after(async () => {
    await t.close();
    await smtp.close();
  });

  /** Registered, with the address verified by its mailed link. */
  async function verifiedUser(name: string) {
    const u = await registerUser(t.app, name);
    const { token } = tokenFrom(await smtp.next(u.email), '/email/verify');
    assert.equal((await t.app.inject({ method: 'POST', url: '/email/verify', payload: { token } })).statusCode, 200);
    return u;
  }
  const login = async (username: string, ua: string, ip = '203.0.113.9') => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/token',
      remoteAddress: ip,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': ua },
      payload: new URLSearchParams({ grant_type: 'password', username, password: STRONG_PASSWORD }).toString(),
    });
    assert.equal(res.statusCode, 200, res.body);
    return res.json() as { access_token: string; refresh_token: string };
  };
  const me = async (token: string) => (await t.app.inject({ method: 'GET', url: '/users/me', headers: bearer(token) })).statusCode;
  const newDeviceEvents = async (userId: string) => {
    await t.warden.audit.flush();
    return (await findAuditEvents(t.warden.db, { subject: userId, type: 'session.new_device', limit: 50 })).items;
  };
  const endPage = (token: string) => t.app.inject({ method: 'GET', url: `/sessions/end?token=${encodeURIComponent(token)}` });
  const endPost = (token: string, headers: Record<string, string> = { 'sec-fetch-site': 'same-origin' }) =>
    t.app.inject({ method: 'POST', url: '/sessions/end/form', ...form({ token }), headers: { ...form({ token }).headers, ...headers } });

  it('the first device only is remembered; the same device again sends nothing; a new one mails a link that ends that session once', async () => {
    const alice = await verifiedUser('alice');
    const laptop = await login('alice', 'Laptop/1.0');
    await login('alice', 'Laptop/1.0', '203.0.113.77'); // the same network (/24): the same device
    assert.equal((await newDeviceEvents(alice.id)).length, 0);
    const devices = await t.warden.db.select().from(knownDevices).where(eq(knownDevices.userId, alice.id));
    assert.equal(devices.length, 1);
    // Only a hash is stored.
    assert.match(devices[0]!.deviceHash, /^[0-9a-f]{64}$/);
    assert.ok(!devices[0]!.deviceHash.includes('Laptop'));

    const intruder = await login('alice', 'Intruder/6.6 <x>', '198.51.100.23');
    const mail = await smtp.next('alice@example.com');
    assert.equal(mail.subject, 'New sign-in to your account');
    assert.match(mail.text, /Intruder\/6\.6 <x>/);
    assert.match(mail.text, /198\.51\.100\.23/);
    assert.match(mail.raw, /Intruder\/6\.6 &lt;x&gt;/, 'escaped in the HTML part');
    const { token, link } = tokenFrom(mail, '/sessions/end');
    assert.ok(link.startsWith('https://id.example.com/sessions/end?token='));
    // The link is stored hashed.
    const [row] = await t.warden.db.select().from(sessionEndLinks).where(eq(sessionEndLinks.userId, alice.id));
    assert.notEqual(row!.tokenHash, token);
    assert.ok(!row!.tokenHash.includes(token));

    // Opening the link uses nothing up (mail scanners fetch links): a page with a button.
    const page = await endPage(token);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<form method="post" action="\/sessions\/end\/form">/);
    assert.equal((await endPage(token)).statusCode, 200);
    assert.equal(await me(intruder.access_token), 200);
    // A cross-site post is refused and changes nothing.
    assert.equal((await endPost(token, { 'sec-fetch-site': 'cross-site' })).statusCode, 403);
    assert.equal(await me(intruder.access_token), 200);

    const done = await endPost(token);
    assert.equal(done.statusCode, 200, done.body);
    assert.match(done.body, /That session was ended/);
    assert.equal(await me(intruder.access_token), 401);
    assert.equal((await t.app.inject({ method: 'POST', url: '/token', ...form({ grant_type: 'refresh_token', refresh_token: intruder.refresh_token }) })).statusCode, 400);
    assert.equal(await me(laptop.access_token), 200, 'the other sessions are untouched');
    // Once only.
    const again = await endPost(token);
    assert.equal(again.statusCode, 400);
    assert.match(again.body, /invalid, already used or expired/);
    assert.equal((await endPage(token)).statusCode, 400);
    await t.warden.audit.flush();
    const ended = (await findAuditEvents(t.warden.db, { subject: alice.id, type: 'session.ended', limit: 5 })).items;
    assert.equal((ended[0]!.details as Record<string, unknown>).by, 'mail_link');
  });

  it('the link expires', async () => {
    const bob = await verifiedUser('bob');
    await login('bob', 'Bob-Home/1.0');
    const other = await login('bob', 'Bob-Elsewhere/1.0', '192.0.2.200');
    const { token } = tokenFrom(await smtp.next(bob.email), '/sessions/end');
    t.clock.advance(73 * 3600_000);
    assert.equal((await endPage(token)).statusCode, 400);
    assert.equal((await endPost(token)).statusCode, 400);
    assert.ok(other.access_token);
    assert.equal((await newDeviceEvents(bob.id)).length, 1);
  });

  it('a browser is a device by its cookie: the same browser signs in again silently, another browser is new', async () => {
    const carol = await verifiedUser('carol');
    const web = await registerClient(t, await adminToken(t), { client_name: 'Web <App>', redirect_uris: [REDIRECT], scope: 'openid' });
    const sign = (jar: Jar) => authorizeCode(t.app, { clientId: web.client_id, redirectUri: REDIRECT, scope: 'openid', challenge: pkce().challenge, username: 'carol', password: STRONG_PASSWORD, jar });
    const first = new Jar();
    await sign(first);
    const device = first.cookies.get('warden_device');
    assert.match(device ?? '', /^[A-Za-z0-9_-]{43}$/);
    // The same browser after its sign-in cookie is gone: the device cookie stays, nothing is mailed.
    first.cookies.delete('warden_session');
    await sign(first);
    assert.equal((await newDeviceEvents(carol.id)).length, 0);
    await sign(new Jar());
    const mail = await smtp.next(carol.email);
    assert.match(mail.text, /browser, Web <App>/);
    assert.equal((await newDeviceEvents(carol.id)).length, 1);
  });

  it('sends nothing to an unverified address', async () => {
    const dave = await registerUser(t.app, 'dave');
    await smtp.next(dave.email); // the verification mail
    await login('dave', 'Dave-1/1.0');
    await login('dave', 'Dave-2/1.0', '192.0.2.99');
    assert.equal((await newDeviceEvents(dave.id)).length, 0);
  });

  it('IP networks: IPv4 /24, IPv6 /48', () => {
    assert.equal(ipPrefix('203.0.113.77'), '203.0.113.0/24');
    assert.equal(ipPrefix('::ffff:203.0.113.77'), '203.0.113.0/24');
    assert.equal(ipPrefix('2001:db8:abcd:12::1'), '2001:db8:abcd::/48');
    assert.equal(ipPrefix('2001:db8::1'), '2001:db8:0::/48');
  });
});

describe('NEW_DEVICE_MAIL=false', () => {
  it('remembers devices but mails nothing', async () => {
    const smtp = await startSmtp();
    const t = await createTestApp({ env: { SMTP_URL: smtp.url, NEW_DEVICE_MAIL: 'false' } });
    try {
      const u = await registerUser(t.app, 'erin');
      const { token } = tokenFrom(await smtp.next(u.email), '/email/verify');
      assert.equal((await t.app.inject({ method: 'POST', url: '/email/verify', payload: { token } })).statusCode, 200);
      for (const ua of ['One/1', 'Two/2']) {
        const f = form({ grant_type: 'password', username: 'erin', password: STRONG_PASSWORD });
        const res = await t.app.inject({ method: 'POST', url: '/token', headers: { ...f.headers, 'user-agent': ua }, payload: f.payload });
        assert.equal(res.statusCode, 200);
      }
      assert.equal((await t.warden.db.select().from(knownDevices).where(eq(knownDevices.userId, u.id))).length, 2);
      await t.warden.audit.flush();
      assert.equal((await findAuditEvents(t.warden.db, { subject: u.id, type: 'session.new_device', limit: 5 })).items.length, 0);
      assert.equal(smtp.received.filter((m) => m.subject.startsWith('New sign-in')).length, 0);
    } finally {
      await t.close();
      await smtp.close();
    }
  });
});
