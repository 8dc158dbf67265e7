import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Role } from '../../src/features/access/roles.js';
import { bearer, createTestApp, registerUser, tokensFor, type TestApp } from '../support/app.js';

/** Issue 13 item 5: the role → permission map of src/features/access/roles.ts decides the items and /secure-data routes. */
describe('permissions from the role map', () => {
  let t: TestApp;
  let itemId: string;
  const tokens: Record<string, string> = {};
  before(async () => {
    t = await createTestApp();
    const people: [string, Role[]][] = [
      ['owner', ['user']],
      ['guest', ['guest']],
      ['nobody', []],
      ['auditor', ['admin']],
    ];
    for (const [name, roles] of people) {
      const u = await registerUser(t.app, name);
      if (roles.join() !== 'user') await t.warden.users.adminUpdate('test', u.id, { roles }, {});
      tokens[name] = (await tokensFor(t.app, name)).access_token;
    }
    const created = await t.app.inject({ method: 'POST', url: '/items', headers: bearer(tokens.owner!), payload: { title: 'mine' } });
    assert.equal(created.statusCode, 201, created.body);
    itemId = created.json().id;
  });
  after(() => t.close());

  const calls = () => [
    { method: 'POST', url: '/items', payload: { title: 'x' }, permission: '"items:create"' },
    { method: 'GET', url: '/items', permission: '"items:read" or "items:read-any"' },
    { method: 'GET', url: `/items/${itemId}`, permission: '"items:read" or "items:read-any"' },
    { method: 'PATCH', url: `/items/${itemId}`, payload: { title: 'y' }, permission: '"items:update"' },
    { method: 'DELETE', url: `/items/${itemId}`, permission: '"items:delete"' },
  ] as const;

  for (const who of ['guest', 'nobody']) {
    // A guest's token carries the items scopes (its role gives them) but not the permission; a user
    // without a role gets no items scope at all (no role gives it: issue 15).
    it(`refuses a ${who === 'guest' ? 'guest' : 'user without a role'} on every item route (403 ${who === 'guest' ? 'missing_permission' : 'insufficient_scope'})`, async () => {
      for (const c of calls()) {
        const res = await t.app.inject({ method: c.method, url: c.url, headers: bearer(tokens[who]!), ...('payload' in c ? { payload: c.payload } : {}) });
        assert.equal(res.statusCode, 403, `${c.method} ${c.url}: ${res.body}`);
        if (who === 'nobody') assert.equal(res.json().code, 'insufficient_scope');
        else assert.deepEqual([res.json().code, res.json().detail], ['missing_permission', `requires the permission ${c.permission}`]);
      }
    });
  }

  it('lets a guest read /secure-data (secure:read) and refuses a user without a role', async () => {
    assert.equal((await t.app.inject({ url: '/secure-data', headers: bearer(tokens.guest!) })).statusCode, 200);
    const nobody = await t.app.inject({ url: '/secure-data', headers: bearer(tokens.nobody!) });
    assert.equal(nobody.statusCode, 403);
    assert.deepEqual([nobody.json().code, nobody.json().detail], ['missing_permission', 'requires the permission "secure:read"']);
  });

  it('keeps an admin reading every item (items:read-any) but not creating or changing them', async () => {
    const read = await t.app.inject({ url: `/items/${itemId}`, headers: bearer(tokens.auditor!) });
    assert.equal(read.statusCode, 200);
    assert.equal(read.json().title, 'mine');
    assert.equal((await t.app.inject({ method: 'POST', url: '/items', headers: bearer(tokens.auditor!), payload: { title: 'x' } })).statusCode, 403);
    assert.equal((await t.app.inject({ method: 'PATCH', url: `/items/${itemId}`, headers: bearer(tokens.auditor!), payload: { title: 'z' } })).statusCode, 403);
  });

  it('still lets a user do everything with their own items', async () => {
    const owner = bearer(tokens.owner!);
    assert.equal((await t.app.inject({ url: '/items', headers: owner })).json().items.length, 1);
    assert.equal((await t.app.inject({ method: 'PATCH', url: `/items/${itemId}`, headers: owner, payload: { title: 'renamed' } })).json().title, 'renamed');
    assert.equal((await t.app.inject({ method: 'DELETE', url: `/items/${itemId}`, headers: owner })).statusCode, 204);
  });
});
