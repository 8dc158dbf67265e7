import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { countAuditEvents, findAuditEvents } from '../../src/features/audit/repository.js';
import { bearer, createTestApp, type TestApp } from '../support/app.js';
import { adminToken, basic, registerClient, tokenRequest, type RegisteredClient } from '../oauth/support.js';

/**
 * client_credentials tokens store nothing, so their token.issued events are queued and written in
 * batches. Nothing may be lost: the audit API flushes before it reads, and closing writes the rest.
 */
describe('batched audit events (client_credentials token.issued)', () => {
  let t: TestApp;
  let admin: string;
  let rs: RegisteredClient;
  before(async () => {
    t = await createTestApp();
    admin = await adminToken(t);
    rs = await registerClient(t, admin, { client_name: 'Batch RS', grant_types: ['client_credentials'], scope: 'items:read' });
  });
  after(() => t.close());

  const issue = async (n: number) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const res = await tokenRequest(t.app, { grant_type: 'client_credentials' }, basic(rs.client_id, rs.client_secret!));
      assert.equal(res.statusCode, 200, res.body);
      ids.push(res.headers['x-request-id'] as string);
    }
    return ids;
  };

  it('shows every queued event through /admin/audit at once, with its request id', async () => {
    const ids = await issue(3);
    const res = await t.app.inject({ method: 'GET', url: '/admin/audit?type=token.issued&limit=100', headers: bearer(admin) });
    assert.equal(res.statusCode, 200, res.body);
    const seen = res.json().items.filter((e: { subject_id: string }) => e.subject_id === rs.client_id);
    assert.deepEqual(new Set(seen.map((e: { request_id: string }) => e.request_id)), new Set(ids));
    for (const e of seen) {
      // Every column survives the batched write (one JSON parameter expanded by jsonb_to_recordset).
      assert.equal(e.details.grant, 'client_credentials');
      assert.equal(e.actor_id, rs.client_id);
      assert.equal(e.ip, '127.0.0.1');
      assert.equal(typeof e.user_agent, 'string');
      assert.equal(e.flagged, false);
      assert.ok(Math.abs(Date.parse(e.at) - t.clock.now()) < 60_000, e.at);
    }
  });

  it('writes queued events within the flush interval without any reader', async () => {
    const before = await countAuditEvents(t.warden.db);
    await issue(2);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await countAuditEvents(t.warden.db), before + 2);
  });

  it('flush() writes what is queued, and listeners hear each event once it is stored', async () => {
    const heard: string[] = [];
    const off = t.warden.audit.onEvent((e) => {
      if (e.type === 'token.issued') heard.push(e.ctx.requestId ?? '');
    });
    try {
      const ids = await issue(2);
      await t.warden.audit.flush();
      assert.deepEqual(heard, ids);
      const rows = (await findAuditEvents(t.warden.db, { type: 'token.issued', limit: 100 })).items.filter((e) => ids.includes(e.requestId ?? ''));
      assert.equal(rows.length, 2);
    } finally {
      off();
    }
  });
});
