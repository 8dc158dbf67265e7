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
});
