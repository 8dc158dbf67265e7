import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { countAuditEvents, findAuditEvents } from '../../src/features/audit/repository.js';
import { pruneExpiredAuditEvents } from '../../src/features/audit/retention.js';
import { bearer, createAdmin, createTestApp, registerUser, tokensFor, type TestApp } from '../support/app.js';

describe('GET /admin/audit', () => {
  let t: TestApp;
  let admin: Awaited<ReturnType<typeof createAdmin>>;
  before(async () => {
    t = await createTestApp();
    admin = await createAdmin(t);
  });
  after(() => t.close());

  const get = (url: string, token = admin.access_token) => t.app.inject({ method: 'GET', url, headers: bearer(token) });

  it('refuses users without audit:read (401 without a token, 403 for a plain user)', async () => {
    await registerUser(t.app, 'plain');
    const user = await tokensFor(t.app, 'plain');
    assert.equal((await t.app.inject({ method: 'GET', url: '/admin/audit' })).statusCode, 401);
    // A plain user's login is never granted the admin scope; with it, the permission would still be missing.
    const res = await get('/admin/audit', user.access_token);
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().code, 'insufficient_scope');
    t.clock.advance(1);
    const scoped = await t.warden.accessTokens.issue({ subject: (await t.warden.users.list({ q: 'plain', limit: 1 })).items[0]!.id, scope: 'admin', clientId: 'warden' });
    const noPermission = await get('/admin/audit', scoped.token);
    assert.equal(noPermission.statusCode, 403);
    assert.equal(noPermission.json().code, 'missing_permission');
  });

  it('lists newest first with cursor pagination that neither skips nor repeats', async () => {
    for (let i = 0; i < 7; i++) {
      t.clock.advance(1000);
      await t.warden.audit.record(t.warden.db, { type: 'test.paging', subjectId: `s${i}`, details: { i } }, { ip: '192.0.2.10' });
    }
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await get(`/admin/audit?type=test.paging&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['cache-control'], 'no-store');
      const body = res.json();
      seen.push(...body.items.map((e: { details: { i: number } }) => e.details.i));
      cursor = body.next_cursor;
      pages++;
    } while (cursor);
    assert.equal(pages, 3);
    assert.deepEqual(seen, [6, 5, 4, 3, 2, 1, 0]);
  });

  it('filters by type (exact and prefix), actor, subject, ip, flagged and time range', async () => {
    const base = t.clock.now();
    const rec = (type: string, extra: { actorId?: string; subjectId?: string; flagged?: boolean }, ip: string) =>
      t.warden.audit.record(t.warden.db, { type, ...extra }, { ip });
    t.clock.set(base + 10_000);
    await rec('filter.one', { actorId: 'actor-a', subjectId: 'subj-x' }, '198.51.100.1');
    t.clock.set(base + 20_000);
    await rec('filter.two', { actorId: 'actor-b', subjectId: 'subj-y', flagged: true }, '198.51.100.2');
    t.clock.set(base + 30_000);
    await rec('filter.two', { actorId: 'actor-a', subjectId: 'subj-y' }, '198.51.100.1');

    const types = async (qs: string) => {
      const res = await get(`/admin/audit?${qs}`);
      assert.equal(res.statusCode, 200, res.body);
      return res.json().items.map((e: { type: string; actor_id: string }) => `${e.type}/${e.actor_id}`);
    };
    assert.deepEqual(await types('type=filter.one'), ['filter.one/actor-a']);
    assert.deepEqual(await types('type=filter.*'), ['filter.two/actor-a', 'filter.two/actor-b', 'filter.one/actor-a']);
    assert.deepEqual(await types('type=filter.*&actor=actor-a'), ['filter.two/actor-a', 'filter.one/actor-a']);
    assert.deepEqual(await types('type=filter.*&subject=subj-y'), ['filter.two/actor-a', 'filter.two/actor-b']);
    assert.deepEqual(await types('type=filter.*&ip=198.51.100.2'), ['filter.two/actor-b']);
    assert.deepEqual(await types('type=filter.*&flagged=true'), ['filter.two/actor-b']);
    const from = new Date(base + 15_000).toISOString();
    const to = new Date(base + 25_000).toISOString();
    assert.deepEqual(await types(`type=filter.*&from=${from}&to=${to}`), ['filter.two/actor-b']);
  });

  it('answers 422 for a malformed filter and 400 for a forged cursor', async () => {
    assert.equal((await get('/admin/audit?from=yesterday')).statusCode, 422);
    assert.equal((await get('/admin/audit?type=DROP%20TABLE')).statusCode, 422);
    assert.equal((await get('/admin/audit?limit=1000')).statusCode, 422);
    assert.equal((await get('/admin/audit?surprise=1')).statusCode, 422);
    const forged = await get(`/admin/audit?cursor=${Buffer.from("x|1' or 1=1").toString('base64url')}`);
    assert.equal(forged.statusCode, 400);
    assert.equal(forged.json().code, 'invalid_cursor');
  });

  it('audits access to a sensitive route with the actor, and not an anonymous refusal', async () => {
    await registerUser(t.app, 'reader');
    const reader = await tokensFor(t.app, 'reader');
    const res = await t.app.inject({
      method: 'GET',
      url: '/secure-data',
      headers: { ...bearer(reader.access_token), 'user-agent': 'sensitive-test/1.0' },
      remoteAddress: '192.0.2.77',
    });
    assert.equal(res.statusCode, 200);
    assert.equal((await t.app.inject({ method: 'GET', url: '/secure-data' })).statusCode, 401);
    const list = (await get('/admin/audit?type=sensitive.accessed')).json().items;
    assert.equal(list.length, 1);
    const e = list[0];
    const me = (await t.app.inject({ method: 'GET', url: '/users/me', headers: bearer(reader.access_token) })).json();
    assert.equal(e.actor_id, me.id);
    assert.equal(e.ip, '192.0.2.77');
    assert.equal(e.user_agent, 'sensitive-test/1.0');
    assert.ok(e.request_id);
    assert.equal(e.request_id, res.headers['x-request-id']);
    assert.deepEqual(e.details, { method: 'GET', route: '/secure-data', status: 200 });
  });

  it('writes the event before the answer leaves: a slow audit write delays the answer, not the record', async () => {
    await registerUser(t.app, 'slowreader');
    const reader = await tokensFor(t.app, 'slowreader');
    const audit = t.warden.audit;
    const original = audit.record;
    audit.record = async function (this: typeof audit, ...args: Parameters<typeof original>) {
      await new Promise((r) => setTimeout(r, 50));
      return original.apply(this, args);
    };
    try {
      const res = await t.app.inject({ method: 'GET', url: '/secure-data', headers: bearer(reader.access_token) });
      assert.equal(res.statusCode, 200);
      const mine = (await findAuditEvents(t.warden.db, { type: 'sensitive.accessed', limit: 100 })).items.filter(
        (e) => e.requestId === res.headers['x-request-id'],
      );
      assert.equal(mine.length, 1, 'the event is on record when the client has the answer');
    } finally {
      audit.record = original;
    }
  });

  it('withholds the data with 503 when the access cannot be recorded', async () => {
    await registerUser(t.app, 'unrecorded');
    const reader = await tokensFor(t.app, 'unrecorded');
    const audit = t.warden.audit;
    const original = audit.record;
    audit.record = async () => {
      throw new Error('audit table unreachable');
    };
    try {
      const res = await t.app.inject({ method: 'GET', url: '/secure-data', headers: bearer(reader.access_token) });
      assert.equal(res.statusCode, 503);
      assert.equal(res.json().code, 'audit_unavailable');
      assert.ok(res.headers['retry-after']);
      assert.doesNotMatch(res.body, /protected data|unrecorded|unreachable/);
    } finally {
      audit.record = original;
    }
  });
});

describe('audit retention', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ env: { AUDIT_RETENTION_DAYS: '30' } });
  });
  after(() => t.close());

  it('prunes events older than AUDIT_RETENTION_DAYS and keeps the rest', async () => {
    const day = 86_400_000;
    await t.warden.audit.record(t.warden.db, { type: 'old.one' });
    t.clock.advance(20 * day);
    await t.warden.audit.record(t.warden.db, { type: 'newer.one' });
    t.clock.advance(11 * day);
    assert.equal(await countAuditEvents(t.warden.db), 2);
    assert.equal(await pruneExpiredAuditEvents(t.warden), 1);
    assert.equal(await countAuditEvents(t.warden.db), 1);
    assert.equal(await pruneExpiredAuditEvents(t.warden), 0);
  });

  it('registers its retention as a background job of the app', () => {
    const job = t.app.jobs.list().find((j) => j.name === 'audit-events.prune');
    assert.ok(job);
    assert.equal(job.everyMs, 3_600_000);
  });
});
