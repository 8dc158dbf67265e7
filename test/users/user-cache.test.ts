import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UserCache } from '../../src/features/users/user-cache.js';
import { createTestApp, registerUser, type TestApp } from '../support/app.js';

describe('UserCache bound', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => {
    await t.close();
  });

  it('at its bound drops the least recently used user only, so the users in use stay cached', async () => {
    const ids: string[] = [];
    for (const name of ['lru-a', 'lru-b', 'lru-c', 'lru-d']) ids.push((await registerUser(t.app, name)).id);
    const [a, b, c, d] = ids as [string, string, string, string];
    const cache = new UserCache(t.warden.db, t.warden.state, t.clock, 60_000, 3);
    for (const id of [a, b, c]) assert.equal((await cache.get(id))?.id, id);
    // a is used again: b is now the least recently used.
    assert.ok(cache.peek(a));
    await cache.get(d);
    assert.equal(cache.peek(b), undefined, 'the least recently used entry is dropped');
    for (const id of [a, c, d]) assert.equal(cache.peek(id)?.user?.id, id, `${id.slice(0, 8)} is still cached`);
  });

  it('forgets a user on invalidate, found by id or by username', async () => {
    const id = (await registerUser(t.app, 'lru-gone')).id;
    const cache = new UserCache(t.warden.db, t.warden.state, t.clock, 60_000, 10);
    await cache.get(id);
    await cache.get('lru-gone', 'username');
    await cache.invalidate(id);
    assert.equal(cache.peek(id), undefined);
    assert.equal(cache.peek('lru-gone', 'username'), undefined);
  });
});
