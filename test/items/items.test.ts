import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bearer, createAdmin, createTestApp, registerUser, tokensFor, type TestApp } from '../support/app.js';

describe('/items: ownership, validation, HTML', () => {
  let t: TestApp;
  let alice: string;
  let bob: string;
  let admin: string;
  let aliceItem: string;
  before(async () => {
    t = await createTestApp();
    await registerUser(t.app, 'alice');
    await registerUser(t.app, 'bob');
    alice = (await tokensFor(t.app, 'alice')).access_token;
    bob = (await tokensFor(t.app, 'bob')).access_token;
    admin = (await createAdmin(t)).access_token;
  });
  after(() => t.close());

  const post = (token: string, payload: unknown) => t.app.inject({ method: 'POST', url: '/items', headers: bearer(token), payload: payload as object });

  it('creates an item owned by the caller (201, Location)', async () => {
    const res = await post(alice, { title: 'First', description: 'mine' });
    assert.equal(res.statusCode, 201);
    const item = res.json();
    aliceItem = item.id;
    assert.equal(res.headers.location, `/items/${item.id}`);
    assert.deepEqual(Object.keys(item).sort(), ['created_at', 'description', 'id', 'owner_id', 'title']);
  });

  it("answers 404 (not 403) for another user's item on read, update and delete (IDOR)", async () => {
    const get = await t.app.inject({ method: 'GET', url: `/items/${aliceItem}`, headers: bearer(bob) });
    assert.equal(get.statusCode, 404);
    const patch = await t.app.inject({ method: 'PATCH', url: `/items/${aliceItem}`, headers: bearer(bob), payload: { title: 'pwned' } });
    assert.equal(patch.statusCode, 404);
    const del = await t.app.inject({ method: 'DELETE', url: `/items/${aliceItem}`, headers: bearer(bob) });
    assert.equal(del.statusCode, 404);
    const still = await t.app.inject({ method: 'GET', url: `/items/${aliceItem}`, headers: bearer(alice) });
    assert.equal(still.json().title, 'First');
  });

  it("lists only the caller's own items", async () => {
    await post(bob, { title: 'Bob item' });
    const list = await t.app.inject({ method: 'GET', url: '/items', headers: bearer(bob) });
    assert.deepEqual(
      list.json().items.map((i: { title: string }) => i.title),
      ['Bob item'],
    );
  });

  it('lets an admin read any item, but not change it', async () => {
    assert.equal((await t.app.inject({ method: 'GET', url: `/items/${aliceItem}`, headers: bearer(admin) })).statusCode, 200);
    assert.equal((await t.app.inject({ method: 'PATCH', url: `/items/${aliceItem}`, headers: bearer(admin), payload: { title: 'x' } })).statusCode, 404);
  });

  it('updates and deletes own items', async () => {
    const patch = await t.app.inject({ method: 'PATCH', url: `/items/${aliceItem}`, headers: bearer(alice), payload: { description: null } });
    assert.equal(patch.statusCode, 200);
    assert.equal(patch.json().description, null);
    const created = (await post(alice, { title: 'temp' })).json();
    assert.equal((await t.app.inject({ method: 'DELETE', url: `/items/${created.id}`, headers: bearer(alice) })).statusCode, 204);
    assert.equal((await t.app.inject({ method: 'GET', url: `/items/${created.id}`, headers: bearer(alice) })).statusCode, 404);
  });

  it('validates title (1-200) and description (up to 2000), naming the field', async () => {
    for (const [payload, field] of [
      [{ title: '' }, 'title'],
      [{ title: 'x'.repeat(201) }, 'title'],
      [{ title: 'ok', description: 'y'.repeat(2001) }, 'description'],
      [{}, 'title'],
      [{ title: 'ok', owner_id: '00000000-0000-0000-0000-000000000000' }, 'owner_id'],
      [{ title: 5 }, 'title'],
    ] as const) {
      const res = await post(alice, payload);
      assert.equal(res.statusCode, 422, JSON.stringify(payload));
      assert.equal(res.json().errors[0].field, field);
    }
  });

  it('paginates with a cursor and refuses absurd page sizes and bad cursors', async () => {
    for (let i = 0; i < 5; i++) {
      await post(bob, { title: `page ${i}` });
      t.clock.advance(1000);
    }
    const first = await t.app.inject({ method: 'GET', url: '/items?limit=2', headers: bearer(bob) });
    const p1 = first.json();
    assert.equal(p1.items.length, 2);
    assert.equal(p1.items[0].title, 'page 4');
    assert.ok(p1.next_cursor);
    const second = (await t.app.inject({ method: 'GET', url: `/items?limit=2&cursor=${p1.next_cursor}`, headers: bearer(bob) })).json();
    assert.deepEqual(
      second.items.map((i: { title: string }) => i.title),
      ['page 2', 'page 1'],
    );
    const big = await t.app.inject({ method: 'GET', url: '/items?limit=1000000', headers: bearer(bob) });
    assert.equal(big.statusCode, 422);
    assert.equal(big.json().errors[0].field, 'limit');
    const neg = await t.app.inject({ method: 'GET', url: '/items?limit=-1', headers: bearer(bob) });
    assert.equal(neg.statusCode, 422);
    const bad = await t.app.inject({ method: 'GET', url: '/items?cursor=%27%3B%20drop%20table%20items', headers: bearer(bob) });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().code, 'invalid_cursor');
  });

  it('answers 422 naming id, not 500, for an id that is not a UUID', async () => {
    const res = await t.app.inject({ method: 'GET', url: "/items/1'%20or%201=1--", headers: bearer(alice) });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json().errors, [{ field: 'id', message: 'must match format "uuid"' }]);
    assert.doesNotMatch(res.body, /select|syntax|node_modules|\/work\//i);
  });

  it('renders an escaped HTML page for Accept: text/html', async () => {
    const evil = (await post(alice, { title: '<script>alert(1)</script>', description: '"onmouseover="alert(2)' })).json();
    const res = await t.app.inject({ method: 'GET', url: `/items/${evil.id}`, headers: { ...bearer(alice), accept: 'text/html,application/xhtml+xml' } });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    assert.match(String(res.headers['content-security-policy']), /default-src 'none'/);
    assert.ok(!res.body.includes('<script>alert(1)</script>'));
    assert.ok(res.body.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(!res.body.includes('"onmouseover="'));
    assert.ok(res.body.includes('&quot;onmouseover=&quot;alert(2)'));
    const json = await t.app.inject({ method: 'GET', url: `/items/${evil.id}`, headers: { ...bearer(alice), accept: 'application/json' } });
    assert.equal(json.json().title, '<script>alert(1)</script>');
  });

  it('needs the items scopes: a token without them gets 403 insufficient_scope', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'username=alice&password=correct+horse+battery+staple&scope=openid+profile',
    });
    const narrow = res.json().access_token;
    const list = await t.app.inject({ method: 'GET', url: '/items', headers: bearer(narrow) });
    assert.equal(list.statusCode, 403);
    assert.match(String(list.headers['www-authenticate']), /insufficient_scope/);
    // Neither does the account API answer it: /users/me needs `account`.
    const me = await t.app.inject({ method: 'GET', url: '/users/me', headers: bearer(narrow) });
    assert.equal(me.statusCode, 403);
    assert.equal(me.json().code, 'insufficient_scope');
  });
});
