import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { findAuditEvents } from '../../src/features/audit/repository.js';
import { bearer, createAdmin, createTestApp, form, registerUser, tokensFor, type TestApp } from '../support/app.js';

describe('self-service sessions: /users/me/sessions and /admin/users/{id}/sessions', () => {
  let t: TestApp;
  let alice: { id: string };
  let bob: { id: string };
  let admin: Awaited<ReturnType<typeof createAdmin>>;
  before(async () => {
    t = await createTestApp();
    alice = await registerUser(t.app, 'alice');
    bob = await registerUser(t.app, 'bob');
    admin = await createAdmin(t);
  });
  after(() => t.close());
  beforeEach(() => t.clock.advance(1000));

  const sidOf = (jwt: string) => decodeJwt(jwt).sid as string;
  const me = (token: string) => t.app.inject({ method: 'GET', url: '/users/me', headers: bearer(token) });
  const refresh = (token: string) => t.app.inject({ method: 'POST', url: '/token', ...form({ grant_type: 'refresh_token', refresh_token: token }) });
  const list = (token: string) => t.app.inject({ method: 'GET', url: '/users/me/sessions', headers: bearer(token) });
  const end = (token: string, sid: string) => t.app.inject({ method: 'DELETE', url: `/users/me/sessions/${sid}`, headers: bearer(token) });
  const login = async (username: string, ua: string) => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': ua },
      payload: new URLSearchParams({ grant_type: 'password', username, password: 'correct horse battery staple' }).toString(),
    });
    assert.equal(res.statusCode, 200, res.body);
    return res.json() as { access_token: string; refresh_token: string };
  };

  it('lists the live sessions with the current one marked, and needs a token with the account scope', async () => {
    const laptop = await login('alice', 'laptop/1.0');
    const phone = await login('alice', 'phone/2.0');
    const res = await list(laptop.access_token);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['cache-control'], 'no-store');
    const items = res.json().items as Array<Record<string, unknown>>;
    const mine = items.find((s) => s.sid === sidOf(laptop.access_token))!;
    const other = items.find((s) => s.sid === sidOf(phone.access_token))!;
    assert.equal(mine.current, true);
    assert.equal(other.current, false);
    assert.equal(items.filter((s) => s.current).length, 1);
    assert.equal(mine.user_agent, 'laptop/1.0');
    assert.equal(other.user_agent, 'phone/2.0');
    assert.equal(mine.ip, '127.0.0.1');
    assert.deepEqual(mine.clients, []);
    assert.deepEqual(mine.amr, ['pwd']);
    for (const k of ['created_at', 'last_used_at']) assert.ok(!Number.isNaN(Date.parse(String(mine[k]))));
    // Nobody else's sessions are in the list.
    const bobs = await login('bob', 'bob/1.0');
    assert.ok(!(await list(laptop.access_token)).json().items.some((s: { sid: string }) => s.sid === sidOf(bobs.access_token)));
    assert.equal((await t.app.inject({ method: 'GET', url: '/users/me/sessions' })).statusCode, 401);
    const narrow = await t.app.inject({ method: 'POST', url: '/token', ...form({ grant_type: 'password', username: 'alice', password: 'correct horse battery staple', scope: 'items:read' }) });
    assert.equal((await list(narrow.json().access_token)).statusCode, 403);
  });

  it('ends one own session: its access and refresh tokens stop at once, the caller keeps working, an audit event is written', async () => {
    const laptop = await login('alice', 'laptop/1.0');
    const phone = await login('alice', 'phone/2.0');
    assert.equal((await me(phone.access_token)).statusCode, 200);
    const res = await end(laptop.access_token, sidOf(phone.access_token));
    assert.equal(res.statusCode, 204, res.body);
    assert.equal((await me(phone.access_token)).statusCode, 401);
    assert.equal((await refresh(phone.refresh_token)).statusCode, 400);
    assert.equal((await me(laptop.access_token)).statusCode, 200);
    assert.ok(!(await list(laptop.access_token)).json().items.some((s: { sid: string }) => s.sid === sidOf(phone.access_token)));
    // Ending it again: it is not live any more.
    assert.equal((await end(laptop.access_token, sidOf(phone.access_token))).statusCode, 404);
    await t.warden.audit.flush();
    const events = await findAuditEvents(t.warden.db, { subject: alice.id, type: 'session.ended', limit: 10 });
    assert.ok(events.items.some((e) => (e.details as Record<string, unknown>).sid === sidOf(phone.access_token) && e.actorId === alice.id));
  });

  it('lists only sessions that can still do something: one whose refresh token has expired is gone', async () => {
    const old = await login('alice', 'old-device');
    t.clock.advance(31 * 86400_000);
    const fresh = await login('alice', 'fresh-device');
    const sids = (await list(fresh.access_token)).json().items.map((s: { sid: string }) => s.sid);
    assert.ok(sids.includes(sidOf(fresh.access_token)));
    assert.ok(!sids.includes(sidOf(old.access_token)));
  });

  it("another user's session answers exactly as an unknown one (404) and stays alive", async () => {
    const a = await login('alice', 'a');
    const b = await login('bob', 'b');
    const theirs = await end(a.access_token, sidOf(b.access_token));
    const unknown = await end(a.access_token, randomUUID());
    const malformed = await end(a.access_token, 'not-a-sid');
    assert.equal(theirs.statusCode, 404);
    assert.equal(unknown.statusCode, 404);
    assert.equal(malformed.statusCode, 404);
    const strip = (body: string) => ({ ...JSON.parse(body), instance: undefined });
    assert.deepEqual(strip(theirs.body), strip(unknown.body));
    assert.equal((await me(b.access_token)).statusCode, 200);
    assert.equal((await refresh(b.refresh_token)).statusCode, 200);
    assert.ok(bob.id);
  });

  it('logout-others ends every session but the current one, whose tokens keep working', async () => {
    const keep = await login('alice', 'keep');
    const other1 = await login('alice', 'other1');
    const other2 = await login('alice', 'other2');
    const bobs = await login('bob', 'bob');
    const res = await t.app.inject({ method: 'POST', url: '/users/me/sessions/logout-others', headers: bearer(keep.access_token) });
    assert.equal(res.statusCode, 200, res.body);
    assert.ok(res.json().sessions_ended >= 2);
    // The others' access tokens fail at once (their sids announced: the user's tokens_valid_after did not move).
    assert.equal((await me(other1.access_token)).statusCode, 401);
    assert.equal((await me(other2.access_token)).statusCode, 401);
    assert.equal((await refresh(other1.refresh_token)).statusCode, 400);
    assert.equal((await me(keep.access_token)).statusCode, 200);
    const items = (await list(keep.access_token)).json().items as Array<{ sid: string; current: boolean }>;
    assert.deepEqual(items.map((s) => [s.sid, s.current]), [[sidOf(keep.access_token), true]]);
    assert.equal((await refresh(keep.refresh_token)).statusCode, 200);
    assert.equal((await me(bobs.access_token)).statusCode, 200);
    await t.warden.audit.flush();
    assert.equal((await findAuditEvents(t.warden.db, { subject: alice.id, type: 'session.others_ended', limit: 10 })).items.length, 1);
  });

  it('an admin lists and ends a user\'s sessions; the sid must be that user\'s; a non-admin is refused', async () => {
    const adminAccess = (await login('root', 'admin-console')).access_token;
    const a = await login('alice', 'admin-view');
    const b = await login('bob', 'b2');
    const res = await t.app.inject({ method: 'GET', url: `/admin/users/${alice.id}/sessions`, headers: bearer(adminAccess) });
    assert.equal(res.statusCode, 200, res.body);
    const item = res.json().items.find((s: { sid: string }) => s.sid === sidOf(a.access_token));
    assert.equal(item.user_agent, 'admin-view');
    assert.equal(item.current, false);
    // Bob's sid under Alice's id: 404, and Bob's session lives on.
    assert.equal((await t.app.inject({ method: 'DELETE', url: `/admin/users/${alice.id}/sessions/${sidOf(b.access_token)}`, headers: bearer(adminAccess) })).statusCode, 404);
    assert.equal((await me(b.access_token)).statusCode, 200);
    const del = await t.app.inject({ method: 'DELETE', url: `/admin/users/${alice.id}/sessions/${sidOf(a.access_token)}`, headers: bearer(adminAccess) });
    assert.equal(del.statusCode, 204, del.body);
    assert.equal((await me(a.access_token)).statusCode, 401);
    assert.equal((await t.app.inject({ method: 'GET', url: `/admin/users/${randomUUID()}/sessions`, headers: bearer(adminAccess) })).statusCode, 404);
    const plain = await tokensFor(t.app, 'bob');
    assert.equal((await t.app.inject({ method: 'GET', url: `/admin/users/${alice.id}/sessions`, headers: bearer(plain.access_token) })).statusCode, 403);
    await t.warden.audit.flush();
    const events = await findAuditEvents(t.warden.db, { subject: alice.id, type: 'session.ended', limit: 20 });
    assert.ok(events.items.some((e) => e.actorId === admin.id && (e.details as Record<string, unknown>).by === 'admin'));
  });
});
