import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { eq } from 'drizzle-orm';
import { ManualClock, type Clock } from '../../src/kernel/clock.js';
import { BackchannelLogout } from '../../src/features/sessions/backchannel-logout.js';
import { endSession } from '../../src/features/sessions/end-session.js';
import { createSession, newSessionId } from '../../src/features/sessions/repository.js';
import { auditEvents } from '../../src/features/audit/tables.js';
import { backchannelLogouts } from '../../src/features/sessions/tables.js';
import { createWarden, type Warden } from '../../src/app/warden.js';
import { freePort } from '../support/process.js';
import { createTestApp, resetDatabase, testConfig, testDatabase, type TestApp } from '../support/app.js';

const quiet = { info() {}, warn() {}, error() {} };

/**
 * The outbox worker on its own (no app, so no worker of the app's races these): bounded retries, and
 * one delivery per row however many workers run.
 */
describe('back-channel logout outbox worker', () => {
  let w: Warden;
  let clock: ManualClock;
  before(async () => {
    const database = await testDatabase();
    await resetDatabase(database);
    clock = new ManualClock(Date.now());
    w = await createWarden(testConfig(), { database, clock: clock as Clock, migrate: false });
  });
  after(() => w.close());

  async function endedSessionOf(uri: string) {
    const user = await w.users.create({ username: `u${Math.random().toString(36).slice(2, 8)}`, email: `${Math.random().toString(36).slice(2, 8)}@example.com`, password: 'correct horse battery staple' }, {});
    const { client } = await w.clients.create({ client_name: 'RP', redirect_uris: ['https://rp.example/cb'], backchannel_logout_uri: uri }, {});
    const sid = newSessionId();
    const now = new Date(clock.now());
    await createSession(w.db, { sid, userId: user.id, clientId: client.client_id, authTime: now, amr: ['pwd'], now });
    await endSession(w, { sid }, 'logout', () => ({ type: 'session.logout', subjectId: user.id }), {});
    return { sid, userId: user.id, clientId: client.client_id };
  }

  const events = async (type: string) => w.db.select().from(auditEvents).where(eq(auditEvents.type, type)).orderBy(auditEvents.id);

  it('gives up after the last attempt, with backoff between attempts, and audits each (the last flagged)', async () => {
    const { sid } = await endedSessionOf(`http://127.0.0.1:${await freePort()}/nobody-listens`);
    const worker = new BackchannelLogout(w, quiet, { attempts: 3, retryDelayMs: 1000 });
    await worker.runOnce();
    assert.equal((await events('backchannel_logout.failed')).length, 1);
    // Not due yet: nothing is tried.
    await worker.runOnce();
    assert.equal((await events('backchannel_logout.failed')).length, 1);
    clock.advance(1000);
    await worker.runOnce();
    assert.equal((await events('backchannel_logout.failed')).length, 2);
    clock.advance(1999);
    await worker.runOnce();
    assert.equal((await events('backchannel_logout.failed')).length, 2, 'the second retry waits twice as long');
    clock.advance(1);
    await worker.runOnce();
    const [abandoned] = await events('backchannel_logout.abandoned');
    assert.ok(abandoned);
    assert.equal(abandoned.flagged, true);
    assert.equal(abandoned.details.sid, sid);
    assert.equal(abandoned.details.attempt, 3);
    assert.equal((await w.db.select().from(backchannelLogouts).where(eq(backchannelLogouts.sid, sid))).length, 0);
  });

  it('several workers (instances) deliver a row once', async () => {
    let received = 0;
    const port = await freePort();
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        received++;
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    try {
      await endedSessionOf(`http://127.0.0.1:${port}/bcl`);
      const workers = [1, 2, 3].map(() => new BackchannelLogout(w, quiet));
      await Promise.all(workers.map((x) => x.runOnce()));
      await Promise.all(workers.map((x) => x.runOnce()));
      assert.equal(received, 1);
      assert.equal((await w.db.select().from(backchannelLogouts)).length, 0);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

async function until(check: () => Promise<boolean>, ms = 5000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(10);
  }
}

/** The worker as the app runs it: the job backchannel-logouts.deliver, every second, on every instance. */
describe('back-channel logout as the app\'s job', () => {
  let t: TestApp;
  let received: number[] = [];
  let server: ReturnType<typeof createServer>;
  let port: number;
  before(async () => {
    port = await freePort();
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        received.push(performance.now());
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    t = await createTestApp();
  });
  after(async () => {
    await t.close();
    await new Promise((r) => server.close(r));
  });

  async function endSessionFor(uri: string) {
    const w = t.warden;
    const user = await w.users.create({ username: `u${Math.random().toString(36).slice(2, 8)}`, email: `${Math.random().toString(36).slice(2, 8)}@example.com`, password: 'correct horse battery staple' }, {});
    const { client } = await w.clients.create({ client_name: 'RP', redirect_uris: ['https://rp.example/cb'], backchannel_logout_uri: uri }, {});
    const sid = newSessionId();
    const now = new Date(t.clock.now());
    await createSession(w.db, { sid, userId: user.id, clientId: client.client_id, authTime: now, amr: ['pwd'], now });
    await endSession(w, { sid }, 'logout', () => ({ type: 'session.logout', subjectId: user.id }), {});
    return sid;
  }
  const events = async (type: string) => t.warden.db.select().from(auditEvents).where(eq(auditEvents.type, type)).orderBy(auditEvents.id);

  it('is a registered job of every instance, every second', () => {
    const job = t.app.jobs.list().find((j) => j.name === 'backchannel-logouts.deliver');
    assert.ok(job);
    assert.equal(job.everyMs, 1000);
    assert.equal(job.firstAfterMs, 0);
    assert.equal(job.singleRunner ?? false, false);
  });

  it('delivers the end of a session within about a second, by itself', async () => {
    received = [];
    const ended = performance.now();
    await endSessionFor(`http://127.0.0.1:${port}/bcl`);
    await until(async () => received.length === 1, 3000);
    assert.ok(received[0]! - ended < 1500, `delivered after ${Math.round(received[0]! - ended)} ms`);
    await until(async () => (await events('backchannel_logout.delivered')).length === 1);
    assert.equal((await t.warden.db.select().from(backchannelLogouts)).length, 0);
  });

  it('retries a failed delivery when the backoff has passed by the clock, not before', async () => {
    const sid = await endSessionFor(`http://127.0.0.1:${await freePort()}/nobody-listens`);
    await until(async () => (await events('backchannel_logout.failed')).length === 1);
    // Two turns of the job later, the clock has not moved: nothing is due.
    await sleep(2200);
    assert.equal((await events('backchannel_logout.failed')).length, 1);
    t.clock.advance(10_000);
    await until(async () => (await events('backchannel_logout.failed')).length === 2, 3000);
    const [row] = await t.warden.db.select().from(backchannelLogouts).where(eq(backchannelLogouts.sid, sid));
    assert.equal(row!.attempts, 2);
  });

  it('is counted in /metrics', async () => {
    const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(metrics.statusCode, 200);
    const ok = /warden_job_runs_total\{job="backchannel-logouts\.deliver",outcome="ok"\} (\d+)/.exec(metrics.body);
    assert.ok(ok && Number(ok[1]) >= 3, 'runs counted');
    assert.match(metrics.body, /warden_job_duration_seconds_count\{job="backchannel-logouts\.deliver"\} \d+/);
  });
});
