import assert from 'node:assert/strict';
import type { MemoryStateStore } from '../../src/kernel/storage/state/memory.js';
import { after, before, describe, it } from 'node:test';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { insertUser, findUserByUsername } from '../../src/features/users/repository.js';
import { bearer, createTestApp, form, passwordLogin, registerUser, STRONG_PASSWORD, type TestApp } from '../support/app.js';

// Tests that build a second app (which empties the shared database) come last.
describe('POST /token, password grant', () => {
  let t: TestApp;
  before(async () => {
    // At the production argon2id cost (an empty setting is unset: its default), not the tests' cheap one:
    // the tests below check what a login spends and what it rehashes to.
    t = await createTestApp({ env: { ARGON2_MEMORY_KIB: '', ARGON2_ITERATIONS: '' } });
    await registerUser(t.app, 'alice');
  });
  after(() => t.close());

  it('answers a Bearer token with expires_in, refresh_token, scope and Cache-Control: no-store', async () => {
    const res = await passwordLogin(t.app, 'alice');
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['cache-control'], 'no-store');
    const body = res.json();
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 900);
    assert.match(body.refresh_token, /^wrt_/);
    assert.equal(typeof body.scope, 'string');
    // The sign-in is audited with the user as both actor and subject.
    const { auditEvents } = await import('../../src/features/audit/tables.js');
    const { eq } = await import('drizzle-orm');
    const [ev] = await t.warden.db.select().from(auditEvents).where(eq(auditEvents.type, 'login.succeeded')).orderBy(auditEvents.id);
    assert.ok(ev?.actorId && ev.actorId === ev.subjectId);
  });

  it('issues tokens whose /users/me answer has exactly the contract fields', async () => {
    const { access_token } = (await passwordLogin(t.app, 'alice')).json();
    const me = await t.app.inject({ method: 'GET', url: '/users/me', headers: bearer(access_token) });
    assert.deepEqual(Object.keys(me.json()).sort(), ['created_at', 'disabled', 'email', 'email_verified', 'full_name', 'id', 'roles', 'username']);
  });

  it('accepts a form without grant_type, as FastAPI’s OAuth2PasswordRequestForm allows', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/token', ...form({ username: 'alice', password: STRONG_PASSWORD }) });
    assert.equal(res.statusCode, 200);
  });

  it('accepts the e-mail address as the username, case-insensitively', async () => {
    assert.equal((await passwordLogin(t.app, 'ALICE@example.com')).statusCode, 200);
  });

  it('answers wrong password and unknown user identically (RFC 6749 invalid_grant)', async () => {
    const wrong = await passwordLogin(t.app, 'alice', 'not the right password at all');
    const unknown = await passwordLogin(t.app, 'nobody-here', 'not the right password at all');
    assert.equal(wrong.statusCode, 400);
    assert.deepEqual(wrong.json(), { error: 'invalid_grant', error_description: 'invalid username or password' });
    assert.equal(unknown.statusCode, wrong.statusCode);
    assert.deepEqual(unknown.json(), wrong.json());
    // What was typed for an unknown login may be a misplaced password: only a hash of it is audited.
    const { auditEvents } = await import('../../src/features/audit/tables.js');
    const failed = await t.warden.db.select().from(auditEvents).orderBy(auditEvents.id);
    assert.ok(!JSON.stringify(failed).includes('nobody-here'));
    assert.ok(failed.some((e) => e.type === 'login.failed' && typeof e.details.login_sha256 === 'string'));
    assert.equal(wrong.headers['cache-control'], 'no-store');
  });

  it('spends a full argon2 verification on an unknown user (dummy hash), so timing does not reveal accounts', async () => {
    let calls = 0;
    const original = t.warden.hasher.verify.bind(t.warden.hasher);
    t.warden.hasher.verify = async (stored, password) => {
      calls++;
      assert.equal(stored, undefined);
      return original(stored, password);
    };
    try {
      const started = performance.now();
      await passwordLogin(t.app, 'ghost', 'whatever password here');
      assert.equal(calls, 1);
      // A real argon2id (m=19456, t=2) takes milliseconds; a short-circuit would take microseconds.
      assert.ok(performance.now() - started > 2);
    } finally {
      t.warden.hasher.verify = original;
    }
  });

  it('refuses missing fields, an unknown grant type, and a JSON body, with RFC 6749 errors', async () => {
    const noPassword = await t.app.inject({ method: 'POST', url: '/token', ...form({ grant_type: 'password', username: 'alice' }) });
    assert.equal(noPassword.statusCode, 400);
    assert.equal(noPassword.json().error, 'invalid_request');
    const unknown = await t.app.inject({ method: 'POST', url: '/token', ...form({ grant_type: 'urn:nope' }) });
    assert.equal(unknown.json().error, 'unsupported_grant_type');
    const json = await t.app.inject({ method: 'POST', url: '/token', payload: { username: 'alice', password: STRONG_PASSWORD } });
    assert.equal(json.statusCode, 400);
    assert.equal(json.json().error, 'invalid_request');
    const empty = await t.app.inject({ method: 'POST', url: '/token', ...form({}) });
    assert.equal(empty.json().error, 'invalid_request');
  });

  it('refuses an unknown scope with invalid_scope', async () => {
    const res = await passwordLogin(t.app, 'alice', STRONG_PASSWORD, { scope: 'openid superpowers' });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error, 'invalid_scope');
  });

  it('verifies an imported bcrypt ($2b$/$2a$/$2y$) hash and rehashes it to argon2id at login', async () => {
    for (const [i, prefix] of (['$2b$', '$2a$', '$2y$'] as const).entries()) {
      const bcrypt = (await bcryptHash('legacy password 123', 4)).replace(/^\$2[aby]\$/, prefix);
      await insertUser(t.warden.db, { username: `legacy${i}`, email: `legacy${i}@example.com`, passwordHash: bcrypt, roles: ['user'], now: new Date() });
      assert.equal((await passwordLogin(t.app, `legacy${i}`, 'wrong password')).statusCode, 400);
      const res = await passwordLogin(t.app, `legacy${i}`, 'legacy password 123');
      assert.equal(res.statusCode, 200, res.body);
      const after = await findUserByUsername(t.warden.db, `legacy${i}`);
      assert.match(after!.passwordHash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      assert.equal((await passwordLogin(t.app, `legacy${i}`, 'legacy password 123')).statusCode, 200);
    }
  });

  it('sheds excess logins with 503 + Retry-After instead of queueing without bound', async () => {
    const s = await createTestApp({ env: { HASH_CONCURRENCY: '1', HASH_QUEUE: '1' } });
    try {
      await registerUser(s.app, 'bob');
      const results = await Promise.all(Array.from({ length: 8 }, () => passwordLogin(s.app, 'bob')));
      const codes = results.map((r) => r.statusCode);
      assert.ok(codes.includes(200), codes.join(','));
      const shed = results.filter((r) => r.statusCode === 503);
      assert.ok(shed.length >= 5, codes.join(','));
      assert.equal(shed[0]!.json().error, 'temporarily_unavailable');
      assert.ok(Number(shed[0]!.headers['retry-after']) >= 1);
    } finally {
      await s.close();
    }
  });

  it('sheds a login at once while the hashing queue is full, before any lockout bookkeeping', async () => {
    const s = await createTestApp({ env: { HASH_CONCURRENCY: '1', HASH_QUEUE: '1' } });
    try {
      await registerUser(s.app, 'carol');
      const state = s.warden.state as MemoryStateStore;
      const before = state.size();
      // One hash running, one waiting: the queue is full.
      const busy = [s.warden.hasher.hash('keep the thread busy 1'), s.warden.hasher.hash('keep the thread busy 2')];
      const res = await passwordLogin(s.app, 'carol');
      assert.equal(res.statusCode, 503);
      assert.equal(state.size(), before, 'no lockout counter was reserved (nor given back)');
      await Promise.all(busy);
      assert.equal((await passwordLogin(s.app, 'carol')).statusCode, 200);
    } finally {
      await s.close();
    }
  });

  it('keeps the event loop free while hashing', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    await Promise.all(Array.from({ length: 4 }, () => t.warden.hasher.hash('some password to hash')));
    clearInterval(timer);
    // Four argon2id hashes take tens of ms; a blocked loop would not tick at all meanwhile.
    assert.ok(ticks >= 3, `ticks=${ticks}`);
  });

  it('refuses a disabled user (and says so only after the right password)', async () => {
    const u = await registerUser(t.app, 'mallory');
    await t.warden.users.adminUpdate('test', u.id, { disabled: true }, {});
    const right = await passwordLogin(t.app, 'mallory');
    assert.equal(right.statusCode, 400);
    assert.equal(right.json().error, 'invalid_grant');
    const wrong = await passwordLogin(t.app, 'mallory', 'wrong password entirely');
    assert.equal(wrong.json().error_description, 'invalid username or password');
  });

  it('refuses login when REQUIRE_VERIFIED_EMAIL=true and the address is unverified', async () => {
    const s = await createTestApp({ env: { REQUIRE_VERIFIED_EMAIL: 'true' } });
    try {
      await registerUser(s.app, 'newbie');
      const res = await passwordLogin(s.app, 'newbie');
      assert.equal(res.statusCode, 400);
      assert.match(res.json().error_description, /verify/);
    } finally {
      await s.close();
    }
  });

  it('answers PASSWORD_GRANT=disabled with unsupported_grant_type', async () => {
    const s = await createTestApp({ env: { PASSWORD_GRANT: 'disabled' } });
    try {
      await registerUser(s.app, 'carol');
      const res = await passwordLogin(s.app, 'carol');
      assert.equal(res.json().error, 'unsupported_grant_type');
    } finally {
      await s.close();
    }
  });

});
