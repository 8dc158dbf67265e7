import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { authenticator } from 'otplib';
import { startSmtp } from '../account/smtp.js';
import { freshBackend, startServerProcess, type ServerProcess } from '../support/process.js';

const PASSWORD = 'correct horse battery staple';

/**
 * The built server — what `npm start` runs (one bundled file and its chunks; `npm test` builds this
 * run's own) — does what the sources do in the parts a bundle can break: files read beside the code
 * (the common-password list, the migrations, swagger-ui's assets), the hashing threads, and the
 * libraries loaded only on demand (PGlite or pg, nodemailer, otplib).
 */
describe('the built server (npm start)', () => {
  let backend: Awaited<ReturnType<typeof freshBackend>>;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let server: ServerProcess;
  const json = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${server.url}${path}`, init);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  before(async () => {
    backend = await freshBackend('bundle');
    smtp = await startSmtp();
    server = await startServerProcess({ ...backend.env, SMTP_URL: smtp.url, MAIL_FROM: 'Warden <warden@example.com>', LOG_LEVEL: 'warn' });
  });
  after(async () => {
    await server?.stop();
    await smtp?.close();
    await backend?.dispose();
  });

  it('is ready after its migrations, and serves the API docs with their assets', async () => {
    assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
    const page = await fetch(`${server.url}/docs`);
    assert.equal(page.status, 200);
    const assets = [...(await page.text()).matchAll(/(?:href|src)="(\/docs\/static\/[\w.-]+\.(?:css|js))"/g)].map((m) => m[1]!);
    assert.ok(assets.length >= 3, 'the docs page links its assets');
    for (const path of assets) assert.equal((await fetch(`${server.url}${path}`)).status, 200, path);
    const spec = await json('/openapi.json');
    assert.equal(spec.status, 200);
    assert.ok((spec.body.paths as Record<string, unknown>)['/token']);
  });

  it('sets cookies: the console and account sign-in pages answer 200 with their cookies (@fastify/cookie loads `cookie` on demand)', async () => {
    for (const path of ['/admin/console/login', '/account']) {
      const res = await fetch(`${server.url}${path}`);
      assert.equal(res.status, 200, path);
      assert.ok(res.headers.getSetCookie().some((c) => /HttpOnly/i.test(c)), `${path} sets its cookie`);
    }
  });

  it('refuses a common password, registers, mails the verification link, logs in, and enrols TOTP', async () => {
    const post = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const common = await json('/users', post({ username: 'bundled', email: 'bundled@example.com', password: 'password1234' }));
    assert.equal(common.status, 422);
    assert.ok(JSON.stringify(common.body.errors).includes('password'));

    const reg = await json('/users', post({ username: 'bundled', email: 'bundled@example.com', password: PASSWORD }));
    assert.equal(reg.status, 201);
    const mail = await smtp.next('bundled@example.com');
    assert.match(mail.text, /verify/i);

    const token = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', username: 'bundled', password: PASSWORD }),
    });
    assert.equal(token.status, 200);
    const { access_token } = (await token.json()) as { access_token: string };
    const auth = { authorization: `Bearer ${access_token}` };
    const me = await json('/users/me', { headers: auth });
    assert.equal(me.status, 200);
    assert.equal(me.body.username, 'bundled');

    const enrol = await json('/users/me/mfa/totp', { method: 'POST', headers: auth });
    assert.equal(enrol.status, 200);
    const code = authenticator.generate(enrol.body.secret as string);
    const confirm = await json('/users/me/mfa/totp/confirm', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ code }) });
    assert.equal(confirm.status, 200);
    assert.equal((confirm.body.recovery_codes as string[]).length, 10);
  });
});
