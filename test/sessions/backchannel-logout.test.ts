import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { ManualClock, type Clock } from '../../src/kernel/clock.js';
import { BackchannelLogout } from '../../src/features/sessions/backchannel-logout.js';
import { endSession } from '../../src/features/sessions/end-session.js';
import { createSession, newSessionId } from '../../src/features/sessions/repository.js';
import { auditEvents, backchannelLogouts } from '../../src/kernel/storage/schema.js';
import { createWarden, type Warden } from '../../src/app/warden.js';
import { freePort } from '../support/process.js';
import { resetDatabase, testConfig, testDatabase } from '../support/app.js';

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

  const events = async (type: string) => w.db.select().from(auditEvents).where(eq(auditEvents.type, type));

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
