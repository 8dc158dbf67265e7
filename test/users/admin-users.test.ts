import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bearer, createAdmin, createTestApp, registerUser, tokensFor, type TestApp } from '../support/app.js';

describe('/admin/users', () => {
  let t: TestApp;
  let admin: { id: string; access_token: string };
  let user: string;
  let bobId: string;
  before(async () => {
    t = await createTestApp();
    admin = await createAdmin(t);
    for (const name of ['bob', 'carol', 'dave', 'erin', 'frank']) {
      const u = await registerUser(t.app, name);
      if (name === 'bob') bobId = u.id;
      t.clock.advance(1000);
    }
    user = (await tokensFor(t.app, 'bob')).access_token;
  });
  after(() => t.close());

  it('refuses a non-admin with 403 and an anonymous caller with 401 (and /admin-only likewise)', async () => {
    for (const url of ['/admin/users', `/admin/users/${bobId}`, '/admin-only']) {
      // A non-admin's login is never granted the admin scope, so the scope check refuses first.
      const forbidden = await t.app.inject({ method: 'GET', url, headers: bearer(user) });
      assert.equal(forbidden.statusCode, 403, url);
      assert.equal(forbidden.json().code, 'insufficient_scope');
      assert.equal((await t.app.inject({ method: 'GET', url })).statusCode, 401, url);
    }
    const patch = await t.app.inject({ method: 'PATCH', url: `/admin/users/${bobId}`, headers: bearer(user), payload: { roles: ['admin'] } });
    assert.equal(patch.statusCode, 403);
    const ok = await t.app.inject({ method: 'GET', url: '/admin-only', headers: bearer(admin.access_token) });
    assert.equal(ok.statusCode, 200);
  });

  it('lists newest first with cursor pagination and searches username or e-mail', async () => {
    const page1 = (await t.app.inject({ method: 'GET', url: '/admin/users?limit=2', headers: bearer(admin.access_token) })).json();
    assert.deepEqual(
      page1.items.map((u: { username: string }) => u.username),
      ['frank', 'erin'],
    );
    const page2 = (await t.app.inject({ method: 'GET', url: `/admin/users?limit=2&cursor=${page1.next_cursor}`, headers: bearer(admin.access_token) })).json();
    assert.deepEqual(
      page2.items.map((u: { username: string }) => u.username),
      ['dave', 'carol'],
    );
    const search = (await t.app.inject({ method: 'GET', url: '/admin/users?q=CAROL%40example', headers: bearer(admin.access_token) })).json();
    assert.deepEqual(
      search.items.map((u: { username: string }) => u.username),
      ['carol'],
    );
    const wildcard = (await t.app.inject({ method: 'GET', url: '/admin/users?q=%25', headers: bearer(admin.access_token) })).json();
    assert.equal(wildcard.items.length, 0, 'a % in q is a literal, not a wildcard');
    const tooMany = await t.app.inject({ method: 'GET', url: '/admin/users?limit=101', headers: bearer(admin.access_token) });
    assert.equal(tooMany.statusCode, 422);
  });

  it('changes roles (audited with before/after) and takes effect on the next request', async () => {
    const res = await t.app.inject({ method: 'PATCH', url: `/admin/users/${bobId}`, headers: bearer(admin.access_token), payload: { roles: ['admin', 'user'] } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json().roles, ['admin', 'user']);
    // The admin scope is decided at sign-in: bob signs in again to use his new role.
    const promoted = (await tokensFor(t.app, 'bob')).access_token;
    assert.equal((await t.app.inject({ method: 'GET', url: '/admin-only', headers: bearer(promoted) })).statusCode, 200);
    const demote = await t.app.inject({ method: 'PATCH', url: `/admin/users/${bobId}`, headers: bearer(admin.access_token), payload: { roles: ['user'] } });
    assert.equal(demote.statusCode, 200);
    // Demotion takes effect on the next request: the role is read from the database, not the token.
    const demoted = await t.app.inject({ method: 'GET', url: '/admin-only', headers: bearer(promoted) });
    assert.equal(demoted.statusCode, 403);
    assert.equal(demoted.json().code, 'missing_role');
    const { auditEvents } = await import('../../src/features/audit/tables.js');
    const { eq } = await import('drizzle-orm');
    const events = await t.warden.db.select().from(auditEvents).where(eq(auditEvents.type, 'user.roles_changed')).orderBy(auditEvents.id);
    assert.ok(events.some((e) => e.actorId === admin.id && e.subjectId === bobId && JSON.stringify(e.details.after) === '["user"]'));
  });

  it('refuses unknown roles and unknown fields with 422 naming the field', async () => {
    const bad = await t.app.inject({ method: 'PATCH', url: `/admin/users/${bobId}`, headers: bearer(admin.access_token), payload: { roles: ['superuser'] } });
    assert.equal(bad.statusCode, 422);
    assert.match(bad.json().errors[0].field, /^roles/);
    const extra = await t.app.inject({ method: 'PATCH', url: `/admin/users/${bobId}`, headers: bearer(admin.access_token), payload: { email: 'x@example.com' } });
    assert.equal(extra.statusCode, 422);
    assert.equal(extra.json().errors[0].field, 'email');
    const notFound = await t.app.inject({ method: 'PATCH', url: '/admin/users/00000000-0000-4000-8000-000000000000', headers: bearer(admin.access_token), payload: { disabled: true } });
    assert.equal(notFound.statusCode, 404);
  });

  it('disables a user: their tokens stop working at once and login fails; enabling restores login', async () => {
    const res = await t.app.inject({ method: 'PATCH', url: `/admin/users/${bobId}`, headers: bearer(admin.access_token), payload: { disabled: true } });
    assert.equal(res.json().disabled, true);
    assert.equal((await t.app.inject({ method: 'GET', url: '/users/me', headers: bearer(user) })).statusCode, 401);
    await t.app.inject({ method: 'PATCH', url: `/admin/users/${bobId}`, headers: bearer(admin.access_token), payload: { disabled: false } });
    // Disabling ended every token issued up to its instant (the same millisecond included): sign in after it.
    t.clock.advance(1);
    const again = await tokensFor(t.app, 'bob');
    assert.equal((await t.app.inject({ method: 'GET', url: '/users/me', headers: bearer(again.access_token) })).statusCode, 200);
  });

  it('force logout ends access and refresh tokens', async () => {
    const tokens = await tokensFor(t.app, 'carol');
    const carol = (await t.app.inject({ method: 'GET', url: '/users/me', headers: bearer(tokens.access_token) })).json();
    t.clock.advance(1);
    const res = await t.app.inject({ method: 'POST', url: `/admin/users/${carol.id}/logout`, headers: bearer(admin.access_token) });
    assert.equal(res.statusCode, 204);
    assert.equal((await t.app.inject({ method: 'GET', url: '/users/me', headers: bearer(tokens.access_token) })).statusCode, 401);
    const refresh = await t.app.inject({
      method: 'POST',
      url: '/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `grant_type=refresh_token&refresh_token=${tokens.refresh_token}`,
    });
    assert.equal(refresh.json().error, 'invalid_grant');
  });

  it('does not let an admin disable themself or drop their own admin role', async () => {
    const res = await t.app.inject({ method: 'PATCH', url: `/admin/users/${admin.id}`, headers: bearer(admin.access_token), payload: { disabled: true } });
    assert.equal(res.statusCode, 409);
    assert.equal(res.json().code, 'self_lockout');
  });
});
