import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { findAuditEvents } from '../../src/features/audit/repository.js';
import { createWarden } from '../../src/app/warden.js';
import { bearer, createAdmin, createTestApp, testConfig, testDatabase, type TestApp } from '../support/app.js';
import { consoleLogin, post } from '../console/support.js';
import { freshBackend, runCli } from '../support/process.js';
import type { Clock } from '../../src/kernel/clock.js';

interface Rotated {
  actor: string | null;
  details: Record<string, unknown>;
}

async function rotations(t: TestApp): Promise<Rotated[]> {
  await t.warden.audit.flush();
  const page = await findAuditEvents(t.warden.db, { type: 'key.rotated', limit: 100 });
  return page.items.reverse().map((e) => ({ actor: e.actorId, details: e.details as Record<string, unknown> }));
}

const activeKid = async (t: TestApp) => (await t.warden.keys.list()).find((k) => k.state === 'active')!.kid;

/**
 * Issue 14: one key rotation, whoever asks. The admin API, the console and the key timer (a job) all write
 * the same key.rotated event: the new kid, the keys it replaced, and the reason.
 */
describe('key rotation: one operation, one audit event, from every path', () => {
  let t: TestApp;
  let admin: Awaited<ReturnType<typeof createAdmin>>;
  before(async () => {
    t = await createTestApp({ env: { KEY_ROTATION_DAYS: '1' } });
    admin = await createAdmin(t, 'root');
  });
  after(() => t.close());

  it('the admin API: reason manual, the admin as actor', async () => {
    const previous = await activeKid(t);
    const res = await t.app.inject({ method: 'POST', url: '/admin/keys/rotate', headers: bearer(admin.access_token) });
    assert.ok(res.statusCode < 300, res.body);
    const kid = await activeKid(t);
    assert.notEqual(kid, previous);
    assert.deepEqual((await rotations(t)).at(-1), { actor: admin.id, details: { kid, previous: [previous], reason: 'manual' } });
  });

  it('the console: reason manual, the admin as actor', async () => {
    const { jar, csrf } = await consoleLogin(t, 'root');
    const previous = await activeKid(t);
    const res = await post(t, '/admin/console/keys/rotate', jar, { _csrf: csrf!, confirm: 'yes' });
    assert.equal(res.statusCode, 303, res.body);
    const kid = await activeKid(t);
    assert.notEqual(kid, previous);
    assert.deepEqual((await rotations(t)).at(-1), { actor: admin.id, details: { kid, previous: [previous], reason: 'manual' } });
  });

  it('the timer (the signing-keys.maintain job): nothing before KEY_ROTATION_DAYS, then reason scheduled, actor system', async () => {
    const count = (await rotations(t)).length;
    assert.equal(await t.app.jobs.runNow('signing-keys.maintain'), 'ok');
    assert.equal((await rotations(t)).length, count, 'not due yet');
    const previous = await activeKid(t);
    t.clock.advance(86400_000 + 1000);
    assert.equal(await t.app.jobs.runNow('signing-keys.maintain'), 'ok');
    const kid = await activeKid(t);
    assert.notEqual(kid, previous);
    const all = await rotations(t);
    assert.equal(all.length, count + 1);
    assert.deepEqual(all.at(-1), { actor: 'system', details: { kid, previous: [previous], reason: 'scheduled' } });
  });

  it('a start with a rotation due makes none of its own: the job makes it, audited, once', async () => {
    t.clock.advance(2 * 86400_000);
    const previous = await activeKid(t);
    const count = (await rotations(t)).length;
    // As a second instance, or any CLI command, opening Warden's services on this database would.
    const other = await createWarden(testConfig({ KEY_ROTATION_DAYS: '1' }), { database: await testDatabase(), clock: t.clock as Clock, migrate: false });
    await other.close();
    assert.equal(await activeKid(t), previous, 'opening the services rotated the key');
    assert.equal((await rotations(t)).length, count);
    assert.equal(await t.app.jobs.runNow('signing-keys.maintain'), 'ok');
    assert.notEqual(await activeKid(t), previous);
    const all = await rotations(t);
    assert.equal(all.length, count + 1);
    assert.equal(all.at(-1)!.details.reason, 'scheduled');
  });
});

describe('key rotation from the command line', () => {
  let env: Record<string, string>;
  let dispose: () => Promise<void> = async () => {};
  before(async () => {
    const backend = await freshBackend('keyspaths');
    env = backend.env;
    dispose = backend.dispose;
  });
  after(() => dispose());

  it('warden keys rotate writes the same event: reason manual, actor cli', { timeout: 120_000 }, async () => {
    const r = await runCli(['keys', 'rotate'], env);
    assert.equal(r.code, 0, r.stderr);
    const kid = /new signing key (\S+)/.exec(r.stdout)?.[1];
    assert.ok(kid, r.stdout);
    const tail = await runCli(['audit', 'tail', '--type', 'key.rotated'], env);
    assert.equal(tail.code, 0, tail.stderr);
    const lines = tail.stdout.trim().split('\n');
    assert.equal(lines.length, 1, tail.stdout);
    assert.match(lines[0]!, / {2}key\.rotated {2}actor=cli {2}/);
    const details = JSON.parse(lines[0]!.slice(lines[0]!.lastIndexOf('  ') + 2)) as { kid: string; previous: string[]; reason: string };
    assert.equal(details.kid, kid);
    assert.equal(details.reason, 'manual');
    assert.equal(details.previous.length, 1);
    assert.deepEqual(Object.keys(details).sort(), ['kid', 'previous', 'reason']);
  });
});
