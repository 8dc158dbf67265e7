import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { authenticator } from 'otplib';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { findAuditEvents, type AuditRow } from '../../src/features/audit/repository.js';
import { bearer, createAdmin, createTestApp, STRONG_PASSWORD, type TestApp } from '../support/app.js';

const IP = '203.0.113.50';
const UA = 'events-test/1.0 (audit proof)';

/**
 * Every security event of the foundation and of the capabilities built on it is recorded with time,
 * actor, subject, IP, user agent and request id — and no event contains a password, token, code,
 * secret or hash. Each step makes a real request; its x-request-id must be the event's request_id.
 */
describe('audit events: fields and no secrets', () => {
  let t: TestApp;
  const secrets: string[] = [STRONG_PASSWORD];
  before(async () => {
    t = await createTestApp({ env: { LOCKOUT_THRESHOLD: '3', ARGON2_MEMORY_KIB: '8192', ARGON2_ITERATIONS: '1' } });
  });
  after(() => t.close());

  const call = (opts: InjectOptions) =>
    t.app.inject({ ...opts, remoteAddress: IP, headers: { 'user-agent': UA, ...(opts.headers ?? {}) } } as InjectOptions);
  const tokenCall = (params: Record<string, string>) =>
    call({ method: 'POST', url: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(params).toString() });

  async function expectEvent(
    type: string,
    res: LightMyRequestResponse,
    want: { subject?: string | null; actor?: string | null; details?: Record<string, unknown> },
  ): Promise<AuditRow> {
    const requestId = res.headers['x-request-id'] as string;
    assert.ok(requestId, 'the response names its request id');
    const rows = (await findAuditEvents(t.warden.db, { type, limit: 100 })).items.filter((e) => e.requestId === requestId);
    assert.equal(rows.length, 1, `one ${type} for request ${requestId}`);
    const e = rows[0]!;
    assert.equal(e.at.getTime(), t.clock.now(), `${type}: time`);
    assert.equal(e.ip, IP, `${type}: ip`);
    assert.equal(e.userAgent, UA, `${type}: user agent`);
    if (want.subject !== undefined) assert.equal(e.subjectId, want.subject, `${type}: subject`);
    if (want.actor !== undefined) assert.equal(e.actorId, want.actor, `${type}: actor`);
    for (const [k, v] of Object.entries(want.details ?? {})) assert.deepEqual(e.details[k], v, `${type}: details.${k}`);
    return e;
  }

  let admin: Awaited<ReturnType<typeof createAdmin>>;
  let userId: string;
  let access: string;
  let refresh: string;

  it('user.registered, login.failed (with reason), login.succeeded, token.issued', async () => {
    admin = await createAdmin(t, 'root');
    secrets.push(admin.access_token, admin.refresh_token);
    const reg = await call({ method: 'POST', url: '/users', payload: { username: 'dana', email: 'dana@example.com', password: STRONG_PASSWORD } });
    assert.equal(reg.statusCode, 201);
    userId = reg.json().id;
    await expectEvent('user.registered', reg, { subject: userId, details: { username: 'dana' } });

    const bad = await tokenCall({ grant_type: 'password', username: 'dana', password: 'definitely-wrong-password-1' });
    secrets.push('definitely-wrong-password-1');
    assert.equal(bad.statusCode, 400);
    await expectEvent('login.failed', bad, { subject: userId, details: { reason: 'bad_password' } });
    const unknown = await tokenCall({ grant_type: 'password', username: 'nobody-here', password: STRONG_PASSWORD });
    await expectEvent('login.failed', unknown, { subject: null, details: { reason: 'unknown_user' } });

    const ok = await tokenCall({ grant_type: 'password', username: 'dana', password: STRONG_PASSWORD });
    assert.equal(ok.statusCode, 200);
    ({ access_token: access, refresh_token: refresh } = ok.json());
    secrets.push(access, refresh);
    await expectEvent('login.succeeded', ok, { subject: userId });
    await expectEvent('token.issued', ok, { subject: userId, details: { grant: 'password' } });
  });

  it('token.refreshed and token.refresh_reuse_detected (flagged)', async () => {
    t.clock.advance(10_000);
    const r1 = await tokenCall({ grant_type: 'refresh_token', refresh_token: refresh });
    assert.equal(r1.statusCode, 200);
    secrets.push(r1.json().access_token, r1.json().refresh_token);
    await expectEvent('token.refreshed', r1, { subject: userId });
    t.clock.advance(60_000);
    const reuse = await tokenCall({ grant_type: 'refresh_token', refresh_token: refresh });
    assert.equal(reuse.statusCode, 400);
    const e = await expectEvent('token.refresh_reuse_detected', reuse, { subject: userId });
    assert.equal(e.flagged, true);
  });

  it('password.changed (actor: the user), sensitive.accessed', async () => {
    const fresh = (await tokenCall({ grant_type: 'password', username: 'dana', password: STRONG_PASSWORD })).json();
    secrets.push(fresh.access_token, fresh.refresh_token);
    const seen = await call({ method: 'GET', url: '/secure-data', headers: bearer(fresh.access_token) });
    assert.equal(seen.statusCode, 200);
    await expectEvent('sensitive.accessed', seen, { actor: userId, subject: userId });
    const newPassword = 'another long passphrase entirely';
    secrets.push(newPassword);
    const ch = await call({
      method: 'POST',
      url: '/users/me/password',
      headers: bearer(fresh.access_token),
      payload: { current_password: STRONG_PASSWORD, new_password: newPassword },
    });
    assert.ok(ch.statusCode < 300, ch.body);
    await expectEvent('password.changed', ch, { actor: userId, subject: userId });
  });

  it('user.roles_changed (before/after), user.disabled, user.enabled, user.logged_out — with the admin as actor', async () => {
    const roles = await call({ method: 'PATCH', url: `/admin/users/${userId}`, headers: bearer(admin.access_token), payload: { roles: ['user', 'guest'] } });
    assert.equal(roles.statusCode, 200, roles.body);
    await expectEvent('user.roles_changed', roles, { actor: admin.id, subject: userId, details: { before: ['user'], after: ['guest', 'user'] } });
    const dis = await call({ method: 'PATCH', url: `/admin/users/${userId}`, headers: bearer(admin.access_token), payload: { disabled: true } });
    await expectEvent('user.disabled', dis, { actor: admin.id, subject: userId, details: { before: false, after: true } });
    const en = await call({ method: 'PATCH', url: `/admin/users/${userId}`, headers: bearer(admin.access_token), payload: { disabled: false } });
    await expectEvent('user.enabled', en, { actor: admin.id, subject: userId });
    const out = await call({ method: 'POST', url: `/admin/users/${userId}/logout`, headers: bearer(admin.access_token) });
    assert.equal(out.statusCode, 204);
    await expectEvent('user.logged_out', out, { actor: admin.id, subject: userId });
  });

  it('account.locked after repeated failures and account.unlocked by an admin', async () => {
    let last: LightMyRequestResponse | undefined;
    for (let i = 0; i < 3; i++) {
      // Past the growing pause the lockout imposes between failures.
      t.clock.advance(61_000);
      last = await tokenCall({ grant_type: 'password', username: 'dana', password: `wrong-guess-number-${i}` });
    }
    const locked = (await findAuditEvents(t.warden.db, { type: 'account.locked', subject: userId, limit: 1 })).items[0];
    assert.ok(locked, 'account.locked recorded');
    assert.equal(locked.requestId, last!.headers['x-request-id']);
    assert.equal(locked.ip, IP);
    assert.equal(locked.userAgent, UA);
    const unlock = await call({ method: 'POST', url: `/admin/users/${userId}/unlock`, headers: bearer(admin.access_token) });
    assert.ok(unlock.statusCode < 300, unlock.body);
    await expectEvent('account.unlocked', unlock, { actor: admin.id, subject: userId });
  });

  it('client.created, client.secret_rotated, client.deleted and key.rotated (admin actor)', async () => {
    const c = await call({
      method: 'POST',
      url: '/admin/clients',
      headers: bearer(admin.access_token),
      payload: { client_name: 'Proof app', redirect_uris: ['https://app.example.com/cb'], grant_types: ['authorization_code'] },
    });
    assert.equal(c.statusCode, 201, c.body);
    const { client_id: clientId, client_secret: secret } = c.json();
    secrets.push(secret);
    await expectEvent('client.created', c, { actor: admin.id, subject: clientId });
    const rot = await call({ method: 'POST', url: `/admin/clients/${clientId}/rotate-secret`, headers: bearer(admin.access_token) });
    assert.equal(rot.statusCode, 200, rot.body);
    secrets.push(rot.json().client_secret);
    await expectEvent('client.secret_rotated', rot, { actor: admin.id, subject: clientId });
    const del = await call({ method: 'DELETE', url: `/admin/clients/${clientId}`, headers: bearer(admin.access_token) });
    assert.ok(del.statusCode < 300, del.body);
    await expectEvent('client.deleted', del, { actor: admin.id, subject: clientId });
    const key = await call({ method: 'POST', url: '/admin/keys/rotate', headers: bearer(admin.access_token) });
    assert.ok(key.statusCode < 300, key.body);
    await expectEvent('key.rotated', key, { actor: admin.id });
  });

  it('mfa.enrolled, mfa.failed, mfa.removed (actor: the user)', async () => {
    const login = await tokenCall({ grant_type: 'password', username: 'root', password: STRONG_PASSWORD });
    const token = login.json().access_token as string;
    secrets.push(token, login.json().refresh_token);
    const enrol = await call({ method: 'POST', url: '/users/me/mfa/totp', headers: bearer(token) });
    assert.equal(enrol.statusCode, 200, enrol.body);
    const totpSecret = enrol.json().secret as string;
    secrets.push(totpSecret);
    const code = authenticator.clone({ epoch: t.clock.now() }).generate(totpSecret);
    const confirm = await call({ method: 'POST', url: '/users/me/mfa/totp/confirm', headers: bearer(token), payload: { code } });
    assert.equal(confirm.statusCode, 200, confirm.body);
    secrets.push(...(confirm.json().recovery_codes as string[]));
    await expectEvent('mfa.enrolled', confirm, { actor: admin.id, subject: admin.id });
    t.clock.advance(90_000);
    const mfaLogin = await tokenCall({ grant_type: 'password', username: 'root', password: STRONG_PASSWORD });
    const mfaToken = mfaLogin.json().mfa_token as string;
    assert.ok(mfaToken, mfaLogin.body);
    secrets.push(mfaToken);
    const wrong = await tokenCall({ grant_type: 'urn:warden:mfa', mfa_token: mfaToken, code: '000000' === code ? '111111' : '000000' });
    assert.equal(wrong.statusCode, 400);
    await expectEvent('mfa.failed', wrong, { subject: admin.id });
    const remove = await call({ method: 'DELETE', url: '/users/me/mfa/totp', headers: bearer(token), payload: { password: STRONG_PASSWORD } });
    assert.ok(remove.statusCode < 300, remove.body);
    await expectEvent('mfa.removed', remove, { actor: admin.id, subject: admin.id });
  });

  it('no event anywhere contains a password, token, secret, code or hash', async () => {
    const all = (await findAuditEvents(t.warden.db, { limit: 100 })).items;
    assert.ok(all.length > 20);
    const text = JSON.stringify(all);
    for (const s of secrets) assert.ok(!text.includes(s), `an audit event contains a secret (${s.slice(0, 6)}…)`);
    assert.doesNotMatch(text, /\$argon2|\$2[aby]\$|wcs_|eyJ[A-Za-z0-9_-]{10,}\./);
    for (const e of all) {
      for (const key of Object.keys(e.details)) assert.doesNotMatch(key, /password|secret|token(?!s_)|hash|code$/i, `${e.type}.details.${key}`);
    }
  });
});
