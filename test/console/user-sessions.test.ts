import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { bearer, createAdmin, createTestApp, registerUser, type TestApp } from '../support/app.js';
import { consoleLogin, post } from './support.js';

describe("console: a user's sessions on their page, each with an end button", () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
    await createAdmin(t, 'root');
  });
  after(() => t.close());

  const login = async (username: string, ua: string) => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': ua },
      payload: new URLSearchParams({ grant_type: 'password', username, password: 'correct horse battery staple' }).toString(),
    });
    return res.json() as { access_token: string };
  };
  const me = (token: string) => t.app.inject({ method: 'GET', url: '/users/me', headers: bearer(token) });

  it('lists the live sessions (user agent, IP, sid) and ends exactly the one whose button is pressed', async () => {
    const carol = await registerUser(t.app, 'carol');
    const dave = await registerUser(t.app, 'dave');
    const one = await login('carol', 'Carol-Laptop/1.0');
    const two = await login('carol', 'Carol-Phone/<b>2.0</b>');
    const daves = await login('dave', 'Dave/1.0');
    const { jar, csrf } = await consoleLogin(t, 'root');
    const page = await t.app.inject({ method: 'GET', url: `/admin/console/users/${carol.id}`, headers: { cookie: jar.header() } });
    assert.equal(page.statusCode, 200);
    const sid1 = decodeJwt(one.access_token).sid as string;
    const sid2 = decodeJwt(two.access_token).sid as string;
    assert.match(page.body, /<h2 id="sessions">Sessions<\/h2>/);
    assert.match(page.body, /Live sessions of carol \(2\)/);
    assert.ok(page.body.includes('Carol-Laptop/1.0'));
    // Escaped, never markup.
    assert.ok(page.body.includes('Carol-Phone/&lt;b&gt;2.0&lt;/b&gt;'));
    assert.ok(page.body.includes(`action="/admin/console/users/${carol.id}/sessions/${sid1}/end"`));
    assert.ok(page.body.includes(`action="/admin/console/users/${carol.id}/sessions/${sid2}/end"`));

    // The form needs the console's CSRF token.
    assert.equal((await post(t, `/admin/console/users/${carol.id}/sessions/${sid2}/end`, jar, {})).statusCode, 403);
    assert.equal((await me(two.access_token)).statusCode, 200);
    // Another user's sid under Carol's page: refused as unknown, Dave's session lives on.
    const daveSid = decodeJwt(daves.access_token).sid as string;
    const wrong = await post(t, `/admin/console/users/${carol.id}/sessions/${daveSid}/end`, jar, { _csrf: csrf! });
    assert.equal(wrong.statusCode, 404);
    assert.match(wrong.body, /No such live session of this user/);
    assert.equal((await me(daves.access_token)).statusCode, 200);
    assert.ok(dave.id);

    const ended = await post(t, `/admin/console/users/${carol.id}/sessions/${sid2}/end`, jar, { _csrf: csrf! });
    assert.equal(ended.statusCode, 303);
    assert.equal(ended.headers.location, `/admin/console/users/${carol.id}?done=session_ended`);
    assert.equal((await me(two.access_token)).statusCode, 401);
    assert.equal((await me(one.access_token)).statusCode, 200);
    const after = await t.app.inject({ method: 'GET', url: ended.headers.location as string, headers: { cookie: jar.header() } });
    assert.match(after.body, /The session was ended/);
    assert.match(after.body, /Live sessions of carol \(1\)/);
    assert.ok(!after.body.includes(sid2 + '/end'));
  });
});
