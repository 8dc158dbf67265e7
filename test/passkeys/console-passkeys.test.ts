import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { auditEvents } from '../../src/features/audit/tables.js';
import { passkeys } from '../../src/features/passkeys/tables.js';
import { createAdmin, createTestApp, registerUser, type TestApp } from '../support/app.js';
import { consoleLogin, post } from '../console/support.js';

describe("console: a user's passkeys on their page, each with a remove button", () => {
  let t: TestApp;
  let rootId: string;
  before(async () => {
    t = await createTestApp();
    rootId = (await createAdmin(t, 'root')).id;
  });
  after(() => t.close());

  const addPasskey = async (userId: string, name: string) => {
    const [row] = await t.warden.db
      .insert(passkeys)
      .values({ userId, credentialId: `cred-${name.length}-${Math.random().toString(36).slice(2)}`, publicKey: 'AA', deviceType: 'singleDevice', name })
      .returning();
    return row!;
  };

  it('lists them (names escaped) and removes exactly the one whose button is pressed, with the CSRF token, audited', async () => {
    const carol = await registerUser(t.app, 'carol');
    const dave = await registerUser(t.app, 'dave');
    const laptop = await addPasskey(carol.id, 'Laptop <b>1</b>');
    const phone = await addPasskey(carol.id, 'Phone');
    const daves = await addPasskey(dave.id, 'Dave key');
    const { jar, csrf } = await consoleLogin(t, 'root');
    const page = await t.app.inject({ method: 'GET', url: `/admin/console/users/${carol.id}`, headers: { cookie: jar.header() } });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Passkeys of carol \(2\)/);
    assert.ok(page.body.includes('Laptop &lt;b&gt;1&lt;/b&gt;'));
    const removeUrl = `/admin/console/users/${carol.id}/passkeys/${phone.id}/remove`;
    assert.ok(page.body.includes(`action="${removeUrl}"`));

    assert.equal((await post(t, removeUrl, jar, {})).statusCode, 403, 'the console CSRF token is needed');
    const wrong = await post(t, `/admin/console/users/${carol.id}/passkeys/${daves.id}/remove`, jar, { _csrf: csrf! });
    assert.equal(wrong.statusCode, 404, "another user's passkey under Carol's page is unknown");
    const removed = await post(t, removeUrl, jar, { _csrf: csrf! });
    assert.equal(removed.statusCode, 303);
    const left = await t.warden.db.select().from(passkeys);
    assert.deepEqual(left.map((p) => p.id).sort(), [laptop.id, daves.id].sort());
    await t.warden.audit.flush();
    const [event] = await t.warden.db.select().from(auditEvents).where(eq(auditEvents.type, 'passkey.removed')).orderBy(auditEvents.id);
    assert.equal(event!.subjectId, carol.id);
    assert.equal(event!.actorId, rootId, 'the admin is the actor');
  });
});
