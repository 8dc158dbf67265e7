import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { after, before, describe, it } from 'node:test';
import { bearer, createTestApp, form, registerUser, STRONG_PASSWORD, tokensFor, type TestApp } from '../support/app.js';
import { startSmtp, tokenFrom, type SmtpHarness } from '../account/smtp.js';
import { eq } from 'drizzle-orm';
import { users } from '../../src/features/users/tables.js';
import { buildApp } from '../../src/app/app.js';

function capture() {
  const lines: string[] = [];
  let buf = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
      cb();
    },
  });
  return { stream, lines, text: () => lines.join('\n') + buf };
}

const CHANGED_PASSWORD = 'a second passphrase, also long';
const RESET_PASSWORD = 'the third passphrase after a reset';

describe('request logging', () => {
  let smtp: SmtpHarness;
  let t: TestApp;
  let log: ReturnType<typeof capture>;
  before(async () => {
    smtp = await startSmtp();
    log = capture();
    // trace: the most a misconfigured production could ever write.
    t = await createTestApp({ env: { LOG_LEVEL: 'trace', SMTP_URL: smtp.url, TRUSTED_PROXIES: '10.0.0.1' }, logStream: log.stream });
  });
  after(async () => {
    await t.close();
    await smtp.close();
  });

  it('never writes a password, token or code during register, login, refresh, password change and reset', async () => {
    const secrets: string[] = [STRONG_PASSWORD, CHANGED_PASSWORD, RESET_PASSWORD];
    const user = await registerUser(t.app, 'logme');
    await smtp.next(user.email).catch(() => undefined); // the verification mail, when that capability sends one
    const first = await tokensFor(t.app, 'logme');
    secrets.push(first.access_token, first.refresh_token);

    const refreshed = await t.app.inject({ method: 'POST', url: '/token', ...form({ grant_type: 'refresh_token', refresh_token: first.refresh_token }) });
    assert.equal(refreshed.statusCode, 200);
    secrets.push(refreshed.json().access_token, refreshed.json().refresh_token);

    // Failed attempts log their reasons; their passwords must not appear either.
    await t.app.inject({ method: 'POST', url: '/token', ...form({ grant_type: 'password', username: 'logme', password: 'wrong-password-secret-1' }) });
    secrets.push('wrong-password-secret-1');
    // A malformed body: the parse error message must not echo the body.
    await t.app.inject({ method: 'POST', url: '/users', headers: { 'content-type': 'application/json' }, payload: '{"password":"unparsed-secret-2"' });
    secrets.push('unparsed-secret-2');

    const change = await t.app.inject({
      method: 'POST',
      url: '/users/me/password',
      headers: bearer(refreshed.json().access_token),
      payload: { current_password: STRONG_PASSWORD, new_password: CHANGED_PASSWORD },
    });
    assert.equal(change.statusCode, 204, change.body);

    // Reset links go to verified addresses only.
    await t.warden.db.update(users).set({ emailVerified: true }).where(eq(users.id, user.id));
    const forgot = await t.app.inject({ method: 'POST', url: '/password/forgot', payload: { email: user.email } });
    assert.equal(forgot.statusCode, 202);
    const { token } = tokenFrom(await smtp.next(user.email), '/password/reset');
    secrets.push(token);
    // The reset link's page carries the token in the query string.
    await t.app.inject({ method: 'GET', url: `/password/reset?token=${encodeURIComponent(token)}` });
    const reset = await t.app.inject({ method: 'POST', url: '/password/reset', payload: { token, new_password: RESET_PASSWORD } });
    assert.equal(reset.statusCode, 204, reset.body);
    const last = await tokensFor(t.app, 'logme', RESET_PASSWORD);
    secrets.push(last.access_token, last.refresh_token);
    await t.app.inject({ method: 'GET', url: '/users/me', headers: { ...bearer(last.access_token), cookie: 'session=cookie-secret-3' } });
    secrets.push('cookie-secret-3');

    const text = log.text();
    assert.ok(log.lines.length > 10, 'the log was captured');
    for (const s of secrets) assert.ok(!text.includes(s), `the log contains a secret: ${s.slice(0, 10)}…`);
    // Nor the parts of a JWT alone (a line that split or re-encoded a token).
    for (const jwt of [first.access_token, last.access_token]) assert.ok(!text.includes(jwt.split('.')[2]!), 'a JWT signature is in the log');
  });

  it('writes one JSON line per request with id, method, route, path without query, status, time and user', async () => {
    const before = log.lines.length;
    await registerUser(t.app, 'lineuser');
    const tokens = await tokensFor(t.app, 'lineuser');
    const res = await t.app.inject({ method: 'GET', url: '/users/me?x=1', headers: bearer(tokens.access_token) });
    const lines = log.lines.slice(before).map((l) => JSON.parse(l) as Record<string, unknown>);
    const requestLines = lines.filter((l) => l.msg === 'request');
    assert.equal(requestLines.length, 3, 'one line for each of the three requests');
    const me = requestLines.at(-1)!;
    assert.equal(me.method, 'GET');
    assert.equal(me.route, '/users/me');
    assert.equal(me.path, '/users/me');
    assert.equal(me.status, 200);
    assert.equal(typeof me.ms, 'number');
    assert.equal(res.statusCode, 200);
    assert.equal(me.user, res.json().id);
    assert.equal(me.reqId, res.headers['x-request-id']);
  });

  it('a line the request logs on its own way carries the same request id as its request line, once each', async () => {
    const before = log.lines.length;
    const res = await t.app.inject({ method: 'GET', url: '/users/me', headers: bearer('not.a-valid.token') });
    assert.equal(res.statusCode, 401);
    const id = res.headers['x-request-id'];
    const raw = log.lines.slice(before);
    const lines = raw.map((l) => JSON.parse(l) as Record<string, unknown>);
    const refused = lines.find((l) => l.msg === 'bearer token refused');
    const request = lines.find((l) => l.msg === 'request');
    assert.ok(refused && request, raw.join('\n'));
    assert.equal(refused.reqId, id, 'the per-request logger is bound to the request id');
    assert.equal(request.reqId, id);
    for (const line of raw) assert.equal(line.split('"reqId"').length, 2, `reqId once: ${line}`);
    const keys = Object.keys(request);
    assert.ok(keys.indexOf('reqId') < keys.indexOf('method'), 'reqId before the fields, as a child logger writes it');
  });

  it('echoes X-Request-Id: kept from a trusted proxy, replaced when anyone else sends one', async () => {
    const trusted = await t.app.inject({ method: 'GET', url: '/healthz', remoteAddress: '10.0.0.1', headers: { 'x-request-id': 'edge-abc-123' } });
    assert.equal(trusted.headers['x-request-id'], 'edge-abc-123');
    const spoofed = await t.app.inject({ method: 'GET', url: '/healthz', remoteAddress: '203.0.113.5', headers: { 'x-request-id': 'edge-abc-123' } });
    assert.notEqual(spoofed.headers['x-request-id'], 'edge-abc-123');
    assert.match(String(spoofed.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    // A trusted proxy's id with characters that could forge log content is replaced as well.
    const odd = await t.app.inject({ method: 'GET', url: '/healthz', remoteAddress: '10.0.0.1', headers: { 'x-request-id': 'a"b\\n{x}' } });
    assert.notEqual(odd.headers['x-request-id'], 'a"b\\n{x}');
  });
});

describe('request.log (pino’s own child logger)', () => {
  it('is the whole logger interface, bound to the request id: isLevelEnabled, bindings, level, child', async () => {
    const out = capture();
    const t = await createTestApp({ env: { LOG_LEVEL: 'info' } });
    // A second app on the same services, with one extra route that uses its request logger.
    const app = await buildApp(t.config, { warden: t.warden, logStream: out.stream });
    app.get('/log-probe', { config: { access: { kind: 'public', reason: 'test route' } } }, async (request) => {
      // Fastify types request.log as its base logger; at run time it is pino's, and used as one.
      const log = request.log as unknown as Logger;
      log.child({ part: 'probe' }).info('from a grandchild');
      return { info: log.isLevelEnabled('info'), debug: log.isLevelEnabled('debug'), level: log.level, reqId: log.bindings().reqId as unknown };
    });
    try {
      const res = await app.inject({ method: 'GET', url: '/log-probe' });
      assert.equal(res.statusCode, 200, res.body);
      const id = res.headers['x-request-id'];
      assert.deepEqual(res.json(), { info: true, debug: false, level: 'info', reqId: id });
      const line = out.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'from a grandchild');
      assert.ok(line, out.lines.join('\n'));
      assert.equal(line.reqId, id);
      assert.equal(line.part, 'probe');
    } finally {
      await app.close();
      await t.close();
    }
  });
});
