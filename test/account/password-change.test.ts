import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { auditEvents } from '../../src/features/audit/tables.js';
import { bearer, createTestApp, form, passwordLogin, registerUser, STRONG_PASSWORD, tokensFor, type TestApp } from '../support/app.js';

const NEXT = 'the next long passphrase';

async function change(t: TestApp, accessToken: string, current: string, next: string) {
  return t.app.inject({ method: 'POST', url: '/users/me/password', headers: bearer(accessToken), payload: { current_password: current, new_password: next } });
}

async function refresh(t: TestApp, refreshToken: string) {
  return t.app.inject({ method: 'POST', url: '/token', ...form({ grant_type: 'refresh_token', refresh_token: refreshToken }) });
}

describe('POST /users/me/password', () => {
  let t: TestApp;
  beforeEach(async () => {
    await t?.close();
    t = await createTestApp();
  });
  after(() => t?.close());

  it('refuses a wrong current password with 422 and changes nothing', async () => {
    const u = await registerUser(t.app, 'alice');
    const s = await tokensFor(t.app, 'alice');
    const res = await change(t, s.access_token, 'not my password at all', NEXT);
    assert.equal(res.statusCode, 422);
    assert.equal(res.json().code, 'wrong_password');
    assert.deepEqual(res.json().errors, [{ field: 'current_password', message: 'is not correct' }]);
    assert.equal((await passwordLogin(t.app, 'alice')).statusCode, 200);
    assert.equal((await refresh(t, s.refresh_token)).statusCode, 200);
    const failed = await t.warden.db.select().from(auditEvents).where(and(eq(auditEvents.subjectId, u.id), eq(auditEvents.type, 'password.change_failed'))).orderBy(auditEvents.id);
    assert.equal(failed.length, 1);
  });

  it('applies the password policy to the new password', async () => {
    await registerUser(t.app, 'bob');
    const s = await tokensFor(t.app, 'bob');
    const res = await change(t, s.access_token, STRONG_PASSWORD, 'short');
    assert.equal(res.statusCode, 422);
    assert.equal(res.json().code, 'weak_password');
  });

  it('ends the other sessions, keeps the current refresh family, refuses old access tokens', async () => {
    const u = await registerUser(t.app, 'carol');
    const current = await tokensFor(t.app, 'carol');
    const other = await tokensFor(t.app, 'carol');
    t.clock.advance(1000);

    const res = await change(t, current.access_token, STRONG_PASSWORD, NEXT);
    assert.equal(res.statusCode, 204);
    t.clock.advance(1);

    // The other session: its refresh token is dead, its access token refused.
    const otherRefresh = await refresh(t, other.refresh_token);
    assert.equal(otherRefresh.statusCode, 400);
    assert.equal(otherRefresh.json().error, 'invalid_grant');
    assert.equal((await t.app.inject({ method: 'GET', url: '/users/me', headers: bearer(other.access_token) })).statusCode, 401);

    // Access tokens issued before the change are refused everywhere, the current one included …
    assert.equal((await t.app.inject({ method: 'GET', url: '/users/me', headers: bearer(current.access_token) })).statusCode, 401);
    // … but the current session's refresh family survives: it gets a fresh access token that works.
    const kept = await refresh(t, current.refresh_token);
    assert.equal(kept.statusCode, 200, kept.body);
    const me = await t.app.inject({ method: 'GET', url: '/users/me', headers: bearer(kept.json().access_token) });
    assert.equal(me.statusCode, 200);

    assert.equal((await passwordLogin(t.app, 'carol', STRONG_PASSWORD)).statusCode, 400);
    assert.equal((await passwordLogin(t.app, 'carol', NEXT)).statusCode, 200);
    const changed = await t.warden.db.select().from(auditEvents).where(and(eq(auditEvents.subjectId, u.id), eq(auditEvents.type, 'password.changed'))).orderBy(auditEvents.id);
    assert.equal(changed.length, 1);
  });

  it('refuses the same password as new_password', async () => {
    await registerUser(t.app, 'dave');
    const s = await tokensFor(t.app, 'dave');
    const res = await change(t, s.access_token, STRONG_PASSWORD, STRONG_PASSWORD);
    assert.equal(res.statusCode, 422);
    assert.equal(res.json().code, 'same_password');
  });

  it('needs a bearer token', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/users/me/password', payload: { current_password: STRONG_PASSWORD, new_password: NEXT } });
    assert.equal(res.statusCode, 401);
  });
});
