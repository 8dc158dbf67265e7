import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { bearer, createTestApp, registerUser, tokensFor } from '../support/app.js';

/** Secrets never reach a log line (request lines, and objects handed to log calls at any usual depth). */
describe('log redaction', () => {
  it('redacts secret keys at every depth, and the Authorization header, without touching the caller’s object', async () => {
    let out = '';
    const logStream = new Writable({
      write(chunk, _enc, cb) {
        out += chunk;
        cb();
      },
    });
    const t = await createTestApp({ env: { LOG_LEVEL: 'info' }, logStream });
    try {
      await registerUser(t.app, 'logger');
      const tokens = await tokensFor(t.app, 'logger');
      await t.app.inject({ method: 'GET', url: '/users/me', headers: bearer(tokens.access_token) });
      const given = { password: 'pw-top-secret', body: { refresh_token: 'rt-secret', list: [{ client_secret: 'cs-secret' }] }, a: { b: { c: { code: 'code-secret' } } } };
      t.app.log.info(given, 'with secrets');
      t.app.log.info({ req: { headers: { authorization: `Bearer ${tokens.access_token}`, cookie: 'sid=cookie-secret' } } }, 'request object');
      assert.equal(given.password, 'pw-top-secret', 'the logged object is not modified');
      for (const secret of ['pw-top-secret', 'rt-secret', 'cs-secret', 'code-secret', 'cookie-secret', tokens.access_token, tokens.refresh_token, 'correct horse']) {
        assert.ok(!out.includes(secret), `log contains ${secret.slice(0, 12)}…`);
      }
      const line = out.split('\n').find((l) => l.includes('with secrets'))!;
      const parsed = JSON.parse(line);
      assert.equal(parsed.password, '[redacted]');
      assert.equal(parsed.body.list[0].client_secret, '[redacted]');
      assert.equal(parsed.a.b.c.code, '[redacted]');
      assert.match(out, /"route":"\/users\/me"/, 'the request line is still written');
    } finally {
      await t.close();
    }
  });

  it('redacts at any depth (20 and beyond), survives cycles and bounds its work, never leaking what it did not walk', async () => {
    let out = '';
    const logStream = new Writable({
      write(chunk, _enc, cb) {
        out += chunk;
        cb();
      },
    });
    const t = await createTestApp({ env: { LOG_LEVEL: 'info' }, logStream });
    try {
      let deep: Record<string, unknown> = { password: 'depth-20-secret', keep: 'visible' };
      for (let i = 0; i < 19; i++) deep = { [`level${19 - i}`]: deep };
      t.app.log.info({ deep }, 'deep');
      const line = JSON.parse(out.split('\n').find((l) => l.includes('"msg":"deep"'))!);
      let at = line.deep;
      for (let i = 1; i <= 19; i++) at = at[`level${i}`];
      assert.deepEqual(at, { password: '[redacted]', keep: 'visible' }, 'redacted at depth 20, the rest kept');

      const cyclic: Record<string, unknown> = { token: 'cycle-secret', name: 'loop' };
      cyclic.self = cyclic;
      cyclic.list = [cyclic, { refresh_token: 'cycle-secret-2' }];
      t.app.log.info({ cyclic }, 'cyclic');
      const c = JSON.parse(out.split('\n').find((l) => l.includes('"msg":"cyclic"'))!);
      assert.deepEqual(c.cyclic, { token: '[redacted]', name: 'loop', self: '[circular]', list: ['[circular]', { refresh_token: '[redacted]' }] });

      const error = Object.assign(new Error('boom'), { client_secret: 'error-secret', details: { password: 'error-secret-2' } });
      t.app.log.error({ err: new Error('outer', { cause: error }) }, 'an error');
      const e = JSON.parse(out.split('\n').find((l) => l.includes('"msg":"an error"'))!);
      assert.equal(e.err.message, 'outer');
      assert.equal(e.err.cause.client_secret, '[redacted]');
      assert.equal(e.err.cause.details.password, '[redacted]');

      // Far more than one walk may do: what is left unwalked is cut, never written unredacted.
      const wide = Array.from({ length: 30_000 }, () => ({ nested: { password: 'wide-secret' } }));
      const started = process.hrtime.bigint();
      t.app.log.info({ wide }, 'wide');
      assert.ok(process.hrtime.bigint() - started < 2_000_000_000n, 'bounded in time');
      assert.match(out, /\[truncated\]/);
      for (const secret of ['depth-20-secret', 'cycle-secret', 'error-secret', 'wide-secret']) assert.ok(!out.includes(secret), `log contains ${secret}`);
    } finally {
      await t.close();
    }
  });

  it('shows error codes (an OAuth error, an error’s own code) while authorization codes in bodies and queries stay redacted', async () => {
    let out = '';
    const logStream = new Writable({
      write(chunk, _enc, cb) {
        out += chunk;
        cb();
      },
    });
    const t = await createTestApp({ env: { LOG_LEVEL: 'info' }, logStream });
    try {
      // A real refused exchange: the code sent is unknown, the answer and the log say invalid_grant.
      const res = await t.app.inject({
        method: 'POST',
        url: '/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ grant_type: 'authorization_code', code: 'authz-code-secret-1', redirect_uri: 'https://app.example/cb', client_id: 'nobody', code_verifier: 'v'.repeat(43) }).toString(),
      });
      assert.equal(res.statusCode >= 400 && res.statusCode < 500, true, res.body);
      const refused = (res.json() as { error: string }).error;
      const lines = out
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { msg: string; err?: { code?: string } });
      const oauth = lines.find((l) => l.msg === 'oauth error');
      assert.ok(oauth, out);
      assert.equal(oauth.err?.code, refused, 'the OAuth error code is readable');

      t.app.log.info({ body: { grant_type: 'authorization_code', code: 'authz-code-secret-2' }, query: { code: 'authz-code-secret-3', state: 's' } }, 'callback');
      t.app.log.info({ err: { code: 'invalid_grant', message: 'm' }, request: { code: 'authz-code-secret-4' } }, 'refused');
      t.app.log.error({ err: Object.assign(new Error('no such client'), { code: 'invalid_client', details: { code: 'authz-code-secret-5' } }) }, 'failed');
      const byMsg = (msg: string) => JSON.parse(out.split('\n').find((l) => l.includes(`"msg":"${msg}"`))!);
      assert.equal(byMsg('callback').body.code, '[redacted]');
      assert.equal(byMsg('callback').query.code, '[redacted]');
      assert.equal(byMsg('callback').query.state, 's');
      assert.equal(byMsg('refused').err.code, 'invalid_grant');
      assert.equal(byMsg('refused').request.code, '[redacted]');
      assert.equal(byMsg('failed').err.code, 'invalid_client');
      assert.equal(byMsg('failed').err.details.code, '[redacted]');
      for (let i = 1; i <= 5; i++) assert.ok(!out.includes(`authz-code-secret-${i}`), `log contains authz-code-secret-${i}`);
    } finally {
      await t.close();
    }
  });
});
