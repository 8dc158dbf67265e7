import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import type { AlertPayload } from '../../src/features/audit/alerts.js';
import { auditEvents } from '../../src/features/audit/tables.js';
import { loginDigest } from '../../src/features/users/service.js';
import { createTestApp, passwordLogin, registerUser, type TestApp } from '../support/app.js';

// What people type into the username box by mistake: their password.
const TYPED = 'Hunter2-my-real-password';

describe('account.locked for an unknown login (issue 13 item 13)', () => {
  let t: TestApp;
  const lines: string[] = [];
  const alerts: AlertPayload[] = [];
  let server: ReturnType<typeof createServer>;
  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        alerts.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as AlertPayload);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const logStream = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    t = await createTestApp({
      env: {
        LOG_LEVEL: 'warn',
        LOCKOUT_THRESHOLD: '3',
        ALERT_WEBHOOK_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
        ARGON2_MEMORY_KIB: '8192',
        ARGON2_ITERATIONS: '1',
      },
      logStream,
    });
  });
  after(async () => {
    await t.close();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('keeps only the digest of the typed text in the audit row, the warn line and the alert', async () => {
    for (let i = 0; i < 3; i++) {
      assert.equal((await passwordLogin(t.app, TYPED, 'whatever was typed')).statusCode, 400);
      t.clock.advance(60_000);
    }
    const [row] = await t.warden.db.select().from(auditEvents).where(eq(auditEvents.type, 'account.locked')).orderBy(auditEvents.id);
    assert.ok(row, 'the lock is audited');
    assert.equal(row.subjectId, null);
    assert.deepEqual(row.details, { login_sha256: loginDigest(TYPED), keys: ['login'], level: 1, minutes: 15 });

    await t.app.monitor.sink!.drained();
    const alert = alerts.find((a) => a.type === 'account.locked');
    assert.ok(alert, 'the lock is alerted');
    assert.deepEqual(alert.details, row.details);

    const warn = lines.find((l) => l.includes('security alert: account.locked'));
    assert.ok(warn, 'the lock is logged at warn');
    assert.equal(JSON.parse(warn).audit.details.login_sha256, loginDigest(TYPED));
    for (const text of [...lines, JSON.stringify(alerts), JSON.stringify(row)]) assert.doesNotMatch(text, /Hunter2/i);
  });

  it('a known account is named by its username, as login.failed does', async () => {
    const u = await registerUser(t.app, 'lena');
    for (let i = 0; i < 3; i++) {
      await passwordLogin(t.app, 'LENA@example.com', 'not the password at all');
      t.clock.advance(60_000);
    }
    const rows = await t.warden.db.select().from(auditEvents).where(eq(auditEvents.subjectId, u.id)).orderBy(auditEvents.id);
    const locked = rows.find((r) => r.type === 'account.locked');
    assert.equal(locked?.details.login, 'lena');
    assert.ok(!('login_sha256' in (locked?.details ?? {})));
  });
});
