import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bearer, createTestApp, registerUser, tokensFor, type TestApp } from '../support/app.js';

/** Nothing internal may leak: no stack, SQL, file path or library name in any error body. */
function assertClean(body: string) {
  assert.doesNotMatch(body, /\bat .+:\d+:\d+|node_modules|\/work\/|\/src\/|select |insert |syntax error|drizzle|pglite|postgres|Error:/i, body);
}

describe('error answers', () => {
  let t: TestApp;
  let token: string;
  before(async () => {
    t = await createTestApp();
    await registerUser(t.app, 'alice');
    token = (await tokensFor(t.app, 'alice')).access_token;
  });
  after(() => t.close());

  it('malformed JSON → 400 problem+json', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/users', headers: { 'content-type': 'application/json' }, payload: '{"username": "x",' });
    assert.equal(res.statusCode, 400);
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    assert.equal(res.json().code, 'malformed_json');
    assertClean(res.body);
  });

  it('a wrong content type → 415', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/users', headers: { 'content-type': 'text/xml' }, payload: '<user/>' });
    assert.equal(res.statusCode, 415);
    assertClean(res.body);
  });

  it('a too-long field → 422 naming it', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/users', payload: { username: 'u'.repeat(33), email: 'u@example.com', password: 'correct horse battery staple' } });
    assert.equal(res.statusCode, 422);
    assert.equal(res.json().errors[0].field, 'username');
    const email = await t.app.inject({ method: 'POST', url: '/users', payload: { username: 'okname', email: 'not-an-email', password: 'correct horse battery staple' } });
    assert.equal(email.json().errors[0].field, 'email');
  });

  it('a missing field → 422 naming it', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/users', payload: { username: 'nopass', email: 'n@example.com' } });
    assert.equal(res.statusCode, 422);
    assert.equal(res.json().errors[0].field, 'password');
  });

  it('a body that is not an object, and an empty JSON body → 4xx', async () => {
    for (const payload of ['[]', '"text"', 'null', '42']) {
      const res = await t.app.inject({ method: 'POST', url: '/users', headers: { 'content-type': 'application/json' }, payload });
      assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${payload} → ${res.statusCode}`);
      assertClean(res.body);
    }
    const empty = await t.app.inject({ method: 'POST', url: '/users', headers: { 'content-type': 'application/json' }, payload: '' });
    assert.equal(empty.statusCode, 400);
  });

  it('an oversized body → 413', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/users', payload: { username: 'big', email: 'b@example.com', password: 'x'.repeat(70_000) } });
    assert.equal(res.statusCode, 413);
    assertClean(res.body);
  });

  it('an unknown route → 404 problem+json', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/nope/../../etc/passwd' });
    assert.equal(res.statusCode, 404);
    assert.match(String(res.headers['content-type']), /problem\+json/);
  });

  it('an unexpected failure → 500 with no detail, logged not sent', async () => {
    const original = t.warden.users.updateProfile.bind(t.warden.users);
    t.warden.users.updateProfile = async () => {
      throw new Error('relation "users" does not exist at /work/main/src/features/users/repository.ts:42');
    };
    try {
      const res = await t.app.inject({ method: 'PATCH', url: '/users/me', headers: bearer(token), payload: { full_name: 'A' } });
      assert.equal(res.statusCode, 500);
      assert.equal(res.json().detail, 'the server could not complete the request');
      assertClean(res.body);
    } finally {
      t.warden.users.updateProfile = original;
    }
  });

  it('an unexpected failure on /token → RFC 6749 server_error', async () => {
    const original = t.warden.users.authenticate.bind(t.warden.users);
    t.warden.users.authenticate = async () => {
      throw new Error('connection terminated unexpectedly');
    };
    try {
      const res = await t.app.inject({
        method: 'POST',
        url: '/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'username=alice&password=whatever+password',
      });
      assert.equal(res.statusCode, 500);
      assert.deepEqual(res.json(), { error: 'server_error', error_description: 'the server could not complete the request' });
    } finally {
      t.warden.users.authenticate = original;
    }
  });

  it('PATCH /users/me with nothing to change → 422', async () => {
    const res = await t.app.inject({ method: 'PATCH', url: '/users/me', headers: bearer(token), payload: {} });
    assert.equal(res.statusCode, 422);
  });
});
