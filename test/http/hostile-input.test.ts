import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { bearer, createAdmin, createTestApp, form, registerUser, STRONG_PASSWORD, tokensFor, type TestApp } from '../support/app.js';

/**
 * Issue 13 item 9: NUL bytes, lone surrogates, empty and malformed ids and tampered cursors used to
 * reach the database and answer 500, and the error log printed the statement's parameters.
 */
describe('hostile input never reaches the database', () => {
  let t: TestApp;
  let log = '';
  let user: string;
  let admin: string;
  let itemId: string;
  let client: { client_id: string; client_secret: string };
  const basic = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` });

  before(async () => {
    const logStream = new Writable({
      write(chunk, _enc, cb) {
        log += chunk;
        cb();
      },
    });
    t = await createTestApp({ env: { LOG_LEVEL: 'info' }, logStream });
    admin = (await createAdmin(t)).access_token;
    await registerUser(t.app, 'mallory');
    user = (await tokensFor(t.app, 'mallory')).access_token;
    const item = await t.app.inject({ method: 'POST', url: '/items', headers: bearer(user), payload: { title: 'mine' } });
    itemId = item.json().id;
    const c = await t.app.inject({ method: 'POST', url: '/admin/clients', headers: bearer(admin), payload: { client_name: 'rs', grant_types: ['client_credentials'] } });
    client = c.json();
  });
  after(() => t.close());

  /** A problem answer naming `field`, or an RFC 6749 invalid_request whose description names it. */
  function assertNames(res: { statusCode: number; body: string; json(): unknown }, status: number, field: string) {
    assert.equal(res.statusCode, status, res.body);
    const body = res.json() as { errors?: Array<{ field: string }>; error?: string; error_description?: string };
    if (body.error !== undefined) {
      assert.equal(body.error, 'invalid_request');
      assert.match(body.error_description!, new RegExp(`^${field}: `));
    } else {
      assert.deepEqual(body.errors?.map((e) => e.field), [field]);
    }
  }

  it('POST /items with a NUL or a lone surrogate in the title → 422 naming title', async () => {
    const nul = await t.app.inject({ method: 'POST', url: '/items', headers: bearer(user), payload: { title: 'a\u0000b' } });
    assertNames(nul, 422, 'title');
    assert.equal(nul.json().detail, 'title: must not contain a NUL character');
    const lone = await t.app.inject({
      method: 'POST',
      url: '/items',
      headers: { ...bearer(user), 'content-type': 'application/json' },
      payload: '{"title":"a\\ud800b"}',
    });
    assertNames(lone, 422, 'title');
    assert.equal(lone.json().detail, 'title: must be well-formed Unicode (a lone surrogate)');
    const nested = await t.app.inject({ method: 'POST', url: '/admin/clients', headers: bearer(admin), payload: { client_name: 'x', redirect_uris: ['https://a.example/cb', 'https://b.example/\u0000'] } });
    assertNames(nested, 422, 'redirect_uris.1');
  });

  it('PATCH and DELETE /items/{id} with a malformed, NUL or empty id → 422 naming id, or 404', async () => {
    for (const method of ['PATCH', 'DELETE'] as const) {
      const payload = method === 'PATCH' ? { title: 'x' } : undefined;
      assertNames(await t.app.inject({ method, url: '/items/not-a-uuid', headers: bearer(user), payload }), 422, 'id');
      assertNames(await t.app.inject({ method, url: '/items/%00', headers: bearer(user), payload }), 422, 'id');
      const empty = await t.app.inject({ method, url: '/items/', headers: bearer(user), payload });
      assert.equal(empty.statusCode, 404, empty.body);
      assert.equal(empty.json().code, 'not_found');
    }
    const own = await t.app.inject({ method: 'GET', url: `/items/${itemId}`, headers: bearer(user) });
    assert.equal(own.statusCode, 200, 'a well-formed id still works');
  });

  it('/admin/clients/{id}* with a NUL id → 422 naming id; with an empty id → 404', async () => {
    assertNames(await t.app.inject({ method: 'GET', url: '/admin/clients/a%00b', headers: bearer(admin) }), 422, 'id');
    assertNames(await t.app.inject({ method: 'DELETE', url: '/admin/clients/a%00b', headers: bearer(admin) }), 422, 'id');
    assertNames(await t.app.inject({ method: 'POST', url: '/admin/clients/a%00b/rotate-secret', headers: bearer(admin) }), 422, 'id');
    assert.equal((await t.app.inject({ method: 'DELETE', url: '/admin/clients/', headers: bearer(admin) })).statusCode, 404);
    assert.equal((await t.app.inject({ method: 'GET', url: '/admin/users/', headers: bearer(admin) })).statusCode, 404);
  });

  it('/revoke and /introspect with a NUL in a form field → 400 invalid_request naming it', async () => {
    const auth = basic(client.client_id, client.client_secret);
    for (const url of ['/revoke', '/introspect']) {
      const f = form({ token: 'a\u0000b' });
      assertNames(await t.app.inject({ method: 'POST', url, ...f, headers: { ...f.headers, ...auth } }), 400, 'token');
      const g = form({ token: 'x', client_id: 'a\u0000b', client_secret: 'y' });
      assertNames(await t.app.inject({ method: 'POST', url, ...g }), 400, 'client_id');
    }
    const login = await t.app.inject({ method: 'POST', url: '/token', ...form({ username: 'mal\u0000lory', password: STRONG_PASSWORD }) });
    assertNames(login, 400, 'username');
  });

  it('Basic client credentials that decode to NUL or a lone surrogate → 401 invalid_client, not a database error', async () => {
    const b64 = (s: string) => Buffer.from(s, 'latin1').toString('base64');
    // A raw NUL, and form-encoded ones (RFC 6749 2.3.1) in the id and in the secret.
    for (const credentials of ['\u0000:x', 'a%00b:secret', 'x:%00']) {
      for (const url of ['/token', '/revoke', '/introspect']) {
        const f = form(url === '/token' ? { grant_type: 'client_credentials' } : { token: 'x' });
        const res = await t.app.inject({ method: 'POST', url, ...f, headers: { ...f.headers, authorization: `Basic ${b64(credentials)}` } });
        assert.equal(res.statusCode, 401, `${url} ${JSON.stringify(credentials)}: ${res.body}`);
        assert.deepEqual(res.json(), { error: 'invalid_client', error_description: 'malformed Basic credentials' });
      }
    }
  });

  it('a NUL in the query string → 422 naming the parameter', async () => {
    assertNames(await t.app.inject({ method: 'GET', url: '/admin/users?q=a%00b', headers: bearer(admin) }), 422, 'q');
    assertNames(await t.app.inject({ method: 'GET', url: '/admin/audit?actor=%00', headers: bearer(admin) }), 422, 'actor');
  });

  it('a tampered pagination cursor → 400 invalid_cursor naming cursor, on every list', async () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64url');
    const tampered = [
      b64('-271821-04-20T00:00:00.000Z|1'),
      b64('0000-01-01T00:00:00.000Z|1'),
      b64('2020-01-01|1'),
      b64('2020-01-01T00:00:00.000Z|a\u0000b'),
      b64('2020-01-01T00:00:00.000Z|'),
      'not base64 at all!',
    ];
    // Ids that the list's key column cannot hold (client ids are text: any text without NUL is one).
    const badIds = { uuid: ['not-a-uuid', '1'], integer: ['not-a-number', '99999999999999999999999', '-1', '1.5'], text: ['x'.repeat(201)] };
    for (const [url, token, kind] of [
      ['/items', user, 'uuid'],
      ['/admin/users', admin, 'uuid'],
      ['/admin/clients', admin, 'text'],
      ['/admin/audit', admin, 'integer'],
    ] as const) {
      for (const cursor of [...tampered, ...badIds[kind].map((id) => b64(`2020-01-01T00:00:00.000Z|${id}`))]) {
        const res = await t.app.inject({ method: 'GET', url: `${url}?cursor=${encodeURIComponent(cursor)}`, headers: bearer(token) });
        assert.ok(res.statusCode === 400 || res.statusCode === 422, `${url} ${cursor} → ${res.statusCode} ${res.body}`);
        assert.deepEqual(res.json().errors.map((e: { field: string }) => e.field), ['cursor'], `${url} ${cursor}`);
      }
    }
    // A cursor the server handed out still pages.
    for (let i = 0; i < 2; i++) await t.app.inject({ method: 'POST', url: '/items', headers: bearer(user), payload: { title: `p${i}` } });
    const first = await t.app.inject({ method: 'GET', url: '/items?limit=1', headers: bearer(user) });
    const next = await t.app.inject({ method: 'GET', url: `/items?limit=1&cursor=${first.json().next_cursor}`, headers: bearer(user) });
    assert.equal(next.statusCode, 200);
    assert.equal(next.json().items.length, 1);
  });

  it('a database "invalid input" error that slips past validation → 400 without SQL; its log line has neither the SQL nor the parameters', async () => {
    const original = t.warden.users.updateProfile.bind(t.warden.users);
    t.warden.users.updateProfile = async () => {
      await t.warden.db.execute(sql`select ${'$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA'}::text, ${'typed-login-secret'}::uuid`);
      throw new Error('unreachable');
    };
    const before = log.length;
    try {
      const res = await t.app.inject({ method: 'PATCH', url: '/users/me', headers: bearer(user), payload: { full_name: 'A' } });
      assert.equal(res.statusCode, 400);
      assert.deepEqual(res.json(), {
        type: `${t.config.publicUrl}/docs/errors#invalid_input`,
        title: 'Bad Request',
        status: 400,
        detail: 'a value in the request cannot be stored or compared',
        code: 'invalid_input',
      });
    } finally {
      t.warden.users.updateProfile = original;
    }
    const lines = log.slice(before);
    assert.match(lines, /"code":"22P02"/, 'the SQLSTATE is logged');
    for (const leak of ['$argon2', 'typed-login-secret', 'select', 'params']) assert.ok(!lines.includes(leak), `log carries ${leak}: ${lines}`);
  });

  it('any other database error → 500, logged without SQL text, parameters or the driver message', async () => {
    const original = t.warden.users.updateProfile.bind(t.warden.users);
    t.warden.users.updateProfile = async () => {
      await t.warden.db.execute(sql`select * from no_such_table where name = ${'typed-login-secret'}`);
      throw new Error('unreachable');
    };
    const before = log.length;
    try {
      const res = await t.app.inject({ method: 'PATCH', url: '/users/me', headers: bearer(user), payload: { full_name: 'A' } });
      assert.equal(res.statusCode, 500);
    } finally {
      t.warden.users.updateProfile = original;
    }
    const lines = log.slice(before);
    assert.match(lines, /"level":50.*"code":"42P01"/);
    for (const leak of ['typed-login-secret', 'no_such_table', 'select', 'params']) assert.ok(!lines.includes(leak), `log carries ${leak}: ${lines}`);
  });

  it('none of these requests put a secret or a statement parameter in the log', () => {
    for (const secret of [STRONG_PASSWORD, user, admin, client.client_secret, '$argon2', 'a\\u0000b', 'Failed query']) {
      assert.ok(!log.includes(secret), `log carries ${secret.slice(0, 16)}`);
    }
    assert.equal(log.match(/"level":50/g)?.length, 1, 'no error line but the deliberate one');
  });
});
