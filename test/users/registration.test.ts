import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, registerUser, STRONG_PASSWORD, type TestApp } from '../support/app.js';

describe('POST /users (registration)', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  it('registers a user with the default role and no password in the answer', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/users',
      payload: { username: 'alice', email: 'alice@example.com', password: STRONG_PASSWORD, full_name: 'Alice A' },
    });
    assert.equal(res.statusCode, 201);
    const body = res.json();
    assert.deepEqual(Object.keys(body).sort(), ['created_at', 'disabled', 'email', 'email_verified', 'full_name', 'id', 'roles', 'username']);
    assert.deepEqual(body.roles, ['user']);
    assert.equal(body.disabled, false);
    assert.doesNotMatch(res.body, /argon2|password/);
  });

  for (const field of ['roles', 'disabled', 'email_verified', 'id', 'is_admin']) {
    it(`refuses the unknown field "${field}" with 422 naming it (mass assignment)`, async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/users',
        payload: { username: `mass${field.replace('_', '')}`, email: `m-${field}@example.com`, password: STRONG_PASSWORD, [field]: field === 'roles' ? ['admin'] : true },
      });
      assert.equal(res.statusCode, 422);
      assert.match(res.headers['content-type'] as string, /application\/problem\+json/);
      assert.deepEqual(res.json().errors, [{ field, message: 'is not an allowed field' }]);
    });
  }

  it('answers 409 naming the field for a taken username or e-mail, case-insensitively', async () => {
    await registerUser(t.app, 'bob');
    const dupName = await t.app.inject({ method: 'POST', url: '/users', payload: { username: 'BOB', email: 'other@example.com', password: STRONG_PASSWORD } });
    assert.equal(dupName.statusCode, 409);
    assert.equal(dupName.json().errors[0].field, 'username');
    const dupMail = await t.app.inject({ method: 'POST', url: '/users', payload: { username: 'bobby', email: 'BOB@example.com', password: STRONG_PASSWORD } });
    assert.equal(dupMail.statusCode, 409);
    assert.equal(dupMail.json().errors[0].field, 'email');
  });
});
