import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import { WebhookAlertSink, type AlertPayload } from '../../src/features/audit/alerts.js';
import { findAuditEvents } from '../../src/features/audit/repository.js';
import { bearer, createAdmin, createTestApp, form, registerUser, type TestApp } from '../support/app.js';

async function events(t: TestApp, type: string) {
  return (await findAuditEvents(t.warden.db, { type, limit: 100 })).items;
}

function failedLogin(t: TestApp, username: string, ip: string) {
  return t.app.inject({
    method: 'POST',
    url: '/token',
    remoteAddress: ip,
    ...form({ grant_type: 'password', username, password: 'not the right password at all' }),
  });
}

/** A local webhook receiver on 127.0.0.1:0 that records what it gets and answers `statuses` in turn. */
async function receiver(statuses: number[] = []) {
  const got: Array<{ body: AlertPayload; headers: IncomingMessage['headers'] }> = [];
  let calls = 0;
  const waiters: Array<() => void> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = statuses[calls++] ?? 204;
      if (status < 300) got.push({ body: JSON.parse(Buffer.concat(chunks).toString('utf8')), headers: req.headers });
      res.writeHead(status).end();
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    url,
    got,
    calls: () => calls,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('admin routes outside ADMIN_ALLOWED_NETWORKS', () => {
  let t: TestApp;
  let hook: Awaited<ReturnType<typeof receiver>>;
  before(async () => {
    hook = await receiver();
    t = await createTestApp({ env: { ADMIN_ALLOWED_NETWORKS: '10.0.0.0/8,::1/128', ALERT_WEBHOOK_URL: hook.url } });
  });
  after(async () => {
    await t.close();
    await hook.close();
  });

  it('refuses 403 from a disallowed network, audits admin.access_refused flagged, and alerts the webhook', async () => {
    const admin = await createAdmin(t);
    for (const url of ['/admin/users', '/admin-only', '/admin/audit']) {
      const res = await t.app.inject({ method: 'GET', url, headers: bearer(admin.access_token), remoteAddress: '203.0.113.9' });
      assert.equal(res.statusCode, 403, url);
      assert.equal(res.json().code, 'network_not_allowed');
    }
    const refused = await events(t, 'admin.access_refused');
    assert.equal(refused.length, 3);
    for (const e of refused) {
      assert.equal(e.flagged, true);
      assert.equal(e.ip, '203.0.113.9');
      assert.ok(e.requestId);
    }
    assert.deepEqual(refused.map((e) => e.details.path).sort(), ['/admin-only', '/admin/audit', '/admin/users']);
    await t.app.monitor.sink!.drained();
    const alerts = hook.got.filter((g) => g.body.type === 'admin.access_refused');
    assert.equal(alerts.length, 3);
    assert.equal(alerts[0]!.headers['content-type'], 'application/json');
    assert.equal(alerts[0]!.body.ip, '203.0.113.9');
    assert.equal(alerts[0]!.body.flagged, true);
    assert.doesNotMatch(JSON.stringify(alerts), new RegExp(admin.access_token.slice(-20)));
  });

  it('lets an allowed network through (guards still apply), and non-admin routes are unaffected', async () => {
    const admin = await createAdmin(t, 'root2');
    const ok = await t.app.inject({ method: 'GET', url: '/admin/users', headers: bearer(admin.access_token), remoteAddress: '10.20.30.40' });
    assert.equal(ok.statusCode, 200);
    const v6 = await t.app.inject({ method: 'GET', url: '/admin-only', headers: bearer(admin.access_token), remoteAddress: '::1' });
    assert.equal(v6.statusCode, 200);
    const noToken = await t.app.inject({ method: 'GET', url: '/admin/users', remoteAddress: '10.20.30.40' });
    assert.equal(noToken.statusCode, 401);
    const me = await t.app.inject({ method: 'GET', url: '/users/me', headers: bearer(admin.access_token), remoteAddress: '203.0.113.9' });
    assert.equal(me.statusCode, 200);
  });
});

describe('failed-login burst rules', () => {
  let t: TestApp;
  afterEach(() => t?.close());

  it('flags credential stuffing: many accounts failing from one IP, once per window', async () => {
    t = await createTestApp({ env: { MONITOR_STUFFING_ACCOUNTS: '4', MONITOR_DISTRIBUTED_IPS: '50', MONITOR_WINDOW_SECONDS: '60' } });
    await registerUser(t.app, 'victim1');
    for (const u of ['victim1', 'nobody1', 'nobody2']) assert.equal((await failedLogin(t, u, '198.51.100.7')).statusCode, 400);
    // The same account again does not count twice.
    await failedLogin(t, 'nobody2', '198.51.100.7');
    await t.app.monitor.settled();
    assert.equal((await events(t, 'monitor.credential_stuffing')).length, 0);
    // Another IP's failures are not this IP's burst.
    await failedLogin(t, 'nobody4', '198.51.100.8');
    await t.app.monitor.settled();
    assert.equal((await events(t, 'monitor.credential_stuffing')).length, 0);

    await failedLogin(t, 'nobody3', '198.51.100.7');
    await failedLogin(t, 'nobody5', '198.51.100.7');
    await t.app.monitor.settled();
    const flagged = await events(t, 'monitor.credential_stuffing');
    assert.equal(flagged.length, 1);
    assert.equal(flagged[0]!.flagged, true);
    assert.equal(flagged[0]!.ip, '198.51.100.7');
    assert.equal(flagged[0]!.details.distinct_accounts, 4);
    assert.doesNotMatch(JSON.stringify(flagged[0]!.details), /password/);
  });

  it('flags a distributed attack: many IPs failing on one account', async () => {
    t = await createTestApp({ env: { MONITOR_STUFFING_ACCOUNTS: '50', MONITOR_DISTRIBUTED_IPS: '3', MONITOR_WINDOW_SECONDS: '60' } });
    const victim = await registerUser(t.app, 'target');
    await failedLogin(t, 'target', '192.0.2.1');
    await failedLogin(t, 'TARGET@example.com', '192.0.2.2');
    await t.app.monitor.settled();
    assert.equal((await events(t, 'monitor.distributed_attack')).length, 0);
    await failedLogin(t, 'target', '192.0.2.3');
    await t.app.monitor.settled();
    const flagged = await events(t, 'monitor.distributed_attack');
    assert.equal(flagged.length, 1);
    assert.equal(flagged[0]!.subjectId, victim.id);
    assert.equal(flagged[0]!.details.distinct_ips, 3);
  });

  it('forgets failures once the sliding window has passed', async () => {
    t = await createTestApp({ env: { MONITOR_STUFFING_ACCOUNTS: '3', MONITOR_DISTRIBUTED_IPS: '50', MONITOR_WINDOW_SECONDS: '60' } });
    await failedLogin(t, 'a1', '198.51.100.20');
    await failedLogin(t, 'a2', '198.51.100.20');
    t.clock.advance(125_000);
    await failedLogin(t, 'a3', '198.51.100.20');
    await t.app.monitor.settled();
    assert.equal((await events(t, 'monitor.credential_stuffing')).length, 0);
  });
});

describe('alert webhook delivery', () => {
  const log = { warnings: [] as string[], warn(_o: object, msg: string) { this.warnings.push(msg); } };
  const payload = (type: string): AlertPayload => ({
    source: 'warden', issuer: 'http://x', type, at: new Date().toISOString(), flagged: true,
    actor_id: null, subject_id: null, ip: '127.0.0.1', user_agent: null, request_id: null, details: {},
  });

  it('retries a failing receiver with backoff until it accepts', async () => {
    const hook = await receiver([500, 503]);
    const sink = new WebhookAlertSink({ url: hook.url, queueLimit: 10, attempts: 4, backoffMs: 5, timeoutMs: 2000, log });
    sink.send(payload('monitor.credential_stuffing'));
    await sink.drained();
    assert.equal(hook.calls(), 3);
    assert.equal(hook.got.length, 1);
    assert.equal(sink.delivered, 1);
    sink.close();
    await hook.close();
  });

  it('drops (with a warning) instead of growing when the queue is full, and send never waits', async () => {
    const hook = await receiver();
    const sink = new WebhookAlertSink({ url: hook.url, queueLimit: 2, attempts: 1, backoffMs: 5, timeoutMs: 2000, log });
    const started = performance.now();
    for (let i = 0; i < 10; i++) sink.send(payload(`t${i}`));
    assert.ok(performance.now() - started < 50);
    await sink.drained();
    // The first is taken off the queue at once; two more fit; the rest are dropped.
    assert.equal(sink.delivered, 3);
    assert.equal(sink.dropped, 7);
    assert.ok(log.warnings.some((w) => /queue full/.test(w)));
    sink.close();
    await hook.close();
  });

  it('gives up on a receiver that refuses the payload (4xx) without retrying', async () => {
    const hook = await receiver([400]);
    const sink = new WebhookAlertSink({ url: hook.url, queueLimit: 10, attempts: 5, backoffMs: 5, timeoutMs: 2000, log });
    sink.send(payload('x'));
    await sink.drained();
    assert.equal(hook.calls(), 1);
    assert.equal(sink.failed, 1);
    sink.close();
    await hook.close();
  });
});
