import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { count } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { accountTokens } from '../../src/features/account/tables.js';
import { auditEvents } from '../../src/features/audit/tables.js';
import { consoleSessions } from '../../src/features/console/tables.js';
import { authorizationCodes } from '../../src/features/oauth/tables.js';
import { knownDevices, sessionEndLinks, sessions } from '../../src/features/sessions/tables.js';
import { refreshTokens, revokedTokens } from '../../src/features/tokens/tables.js';
import { createTestApp, registerUser, tokensFor, type TestApp } from '../support/app.js';

const MINUTE = 60_000;
const DAY = 86_400_000;

/**
 * Each prune job, run through the scheduler as the timer would, deletes the rows that have expired by
 * the injected clock and keeps the live ones (issue 14: refresh_tokens and revoked_tokens grew for ever).
 */
describe('prune jobs', () => {
  let t: TestApp;
  let userId: string;
  let username: string;
  const rows = async (table: PgTable) => Number((await t.warden.db.select({ n: count() }).from(table))[0]!.n);
  const now = () => new Date(t.clock.now());

  before(async () => {
    t = await createTestApp({ env: { AUDIT_RETENTION_DAYS: '30', REFRESH_TOKEN_EXPIRE_DAYS: '7' } });
  });
  after(() => t.close());
  beforeEach(async () => {
    const u = await registerUser(t.app, `u${Math.random().toString(36).slice(2, 10)}`);
    userId = u.id;
    username = u.username;
  });

  it('refresh-tokens.prune deletes refresh tokens past their expiry and keeps live ones', async () => {
    await tokensFor(t.app, username);
    assert.equal(await rows(refreshTokens), 1);
    t.clock.advance(8 * DAY);
    const u2 = await registerUser(t.app, `fresh${Math.random().toString(36).slice(2, 8)}`);
    await tokensFor(t.app, u2.username);
    assert.equal(await rows(refreshTokens), 2);
    assert.equal(await t.app.jobs.runNow('refresh-tokens.prune'), 'ok');
    const left = await t.warden.db.select().from(refreshTokens);
    assert.deepEqual(
      left.map((r) => r.userId),
      [u2.id],
    );
  });

  it('revoked-tokens.prune deletes revoked jtis whose token has expired anyway, keeps the others', async () => {
    await t.warden.revocations.revoke('jti-short', t.clock.now() + 15 * MINUTE);
    await t.warden.revocations.revoke('jti-long', t.clock.now() + 60 * MINUTE);
    t.clock.advance(16 * MINUTE);
    assert.equal(await t.app.jobs.runNow('revoked-tokens.prune'), 'ok');
    const left = await t.warden.db.select().from(revokedTokens);
    assert.deepEqual(
      left.map((r) => r.jti),
      ['jti-long'],
    );
    assert.equal(t.warden.revocations.isRevoked('jti-long'), true, 'a live revocation still holds');
  });

  it('authorization-codes.prune deletes codes a day past their expiry (kept a while to recognise a replay)', async () => {
    const code = (hash: string, expiresAt: Date) => ({
      codeHash: hash,
      clientId: 'c',
      userId,
      redirectUri: 'https://app.example/cb',
      codeChallenge: 'x'.repeat(43),
      authTime: now(),
      expiresAt,
    });
    await t.warden.db.insert(authorizationCodes).values([code('old', new Date(t.clock.now() + MINUTE)), code('recent', new Date(t.clock.now() + DAY))]);
    t.clock.advance(DAY + 2 * MINUTE);
    assert.equal(await t.app.jobs.runNow('authorization-codes.prune'), 'ok');
    const left = await t.warden.db.select().from(authorizationCodes);
    assert.deepEqual(
      left.map((r) => r.codeHash),
      ['recent'],
    );
  });

  it('sessions.prune deletes sessions ended longer ago than an access token lives (at least a day)', async () => {
    const session = (endedAt: Date | null) => ({ sid: randomUUID(), userId, authTime: now(), lastUsedAt: now(), endedAt });
    const old = session(now());
    const recent = session(new Date(t.clock.now() + 2 * DAY));
    const live = session(null);
    await t.warden.db.insert(sessions).values([old, recent, live]);
    t.clock.advance(DAY + 2 * DAY - MINUTE);
    assert.equal(await t.app.jobs.runNow('sessions.prune'), 'ok');
    const mine = new Set([old.sid, recent.sid, live.sid]);
    const left = (await t.warden.db.select().from(sessions)).map((s) => s.sid).filter((sid) => mine.has(sid as ReturnType<typeof randomUUID>));
    assert.deepEqual(left.sort(), [recent.sid, live.sid].sort());
  });

  it('account-tokens.prune deletes expired mail tokens and used ones after a day', async () => {
    const token = (hash: string, expiresAt: Date, usedAt: Date | null) => ({ userId, purpose: 'verify_email' as const, tokenHash: hash, email: 'a@example.com', expiresAt, usedAt });
    await t.warden.db
      .insert(accountTokens)
      .values([token('expired', new Date(t.clock.now() + MINUTE), null), token('used', new Date(t.clock.now() + 7 * DAY), now()), token('live', new Date(t.clock.now() + 7 * DAY), null)]);
    t.clock.advance(DAY + MINUTE);
    assert.equal(await t.app.jobs.runNow('account-tokens.prune'), 'ok');
    const left = await t.warden.db.select().from(accountTokens);
    assert.deepEqual(
      left.map((r) => r.tokenHash).filter((h) => ['expired', 'used', 'live'].includes(h)),
      ['live'],
    );
  });

  it('console-sessions.prune deletes expired console sessions', async () => {
    await t.warden.db.insert(consoleSessions).values([
      { idHash: 'gone', userId, csrfToken: 'x', expiresAt: new Date(t.clock.now() + MINUTE) },
      { idHash: 'kept', userId, csrfToken: 'y', expiresAt: new Date(t.clock.now() + 60 * MINUTE) },
    ]);
    t.clock.advance(2 * MINUTE);
    assert.equal(await t.app.jobs.runNow('console-sessions.prune'), 'ok');
    const left = await t.warden.db.select().from(consoleSessions);
    assert.deepEqual(
      left.map((r) => r.idHash),
      ['kept'],
    );
  });

  it('known-devices.prune deletes used or expired end-session links and devices unseen for 400 days', async () => {
    const sid = randomUUID();
    await t.warden.db.insert(knownDevices).values([
      { userId, deviceHash: 'stale', lastSeenAt: new Date(t.clock.now()) },
      { userId, deviceHash: 'recent', lastSeenAt: new Date(t.clock.now() + 300 * DAY) },
    ]);
    await t.warden.db.insert(sessionEndLinks).values([
      { tokenHash: 'expired', sid, userId, expiresAt: new Date(t.clock.now() + DAY) },
      { tokenHash: 'used', sid, userId, expiresAt: new Date(t.clock.now() + 500 * DAY), usedAt: new Date(t.clock.now()) },
      { tokenHash: 'live', sid, userId, expiresAt: new Date(t.clock.now() + 500 * DAY) },
    ]);
    t.clock.advance(401 * DAY);
    assert.equal(await t.app.jobs.runNow('known-devices.prune'), 'ok');
    assert.deepEqual((await t.warden.db.select().from(knownDevices)).map((r) => r.deviceHash), ['recent']);
    assert.deepEqual((await t.warden.db.select().from(sessionEndLinks)).map((r) => r.tokenHash), ['live']);
  });

  it('audit-events.prune deletes events older than AUDIT_RETENTION_DAYS', async () => {
    const before = await rows(auditEvents);
    await t.warden.audit.record(t.warden.db, { type: 'old.one' });
    t.clock.advance(31 * DAY);
    await t.warden.audit.record(t.warden.db, { type: 'newer.one' });
    assert.equal(await t.app.jobs.runNow('audit-events.prune'), 'ok');
    const left = await t.warden.db.select({ type: auditEvents.type }).from(auditEvents).orderBy(auditEvents.id);
    assert.deepEqual(
      left.map((r) => r.type),
      ['newer.one'],
      `everything older went (${before} earlier events included)`,
    );
  });
});
