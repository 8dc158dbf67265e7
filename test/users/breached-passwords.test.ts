import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/app/config.js';
import { ConfigError } from '../../src/kernel/config/load.js';
import { isBreached, sha1Upper } from '../../src/features/users/breached-passwords.js';
import { bearer, createTestApp, registerUser, STRONG_PASSWORD, tokensFor } from '../support/app.js';

const dir = mkdtempSync(join(tmpdir(), 'warden-breached-'));

/** A sorted HASH:COUNT file of `n` generated passwords plus `extra`, as the Pwned Passwords downloader writes it. */
function breachedFile(n: number, extra: string[], name = 'pwned.txt', eol = '\n'): { path: string; passwords: string[] } {
  const passwords = [...Array.from({ length: n }, (_, i) => `generated-password-${i}`), ...extra];
  const lines = passwords.map((p, i) => `${sha1Upper(p)}:${(i % 97) + 1}`).sort();
  const path = join(dir, name);
  writeFileSync(path, lines.join(eol) + eol);
  return { path, passwords };
}

describe('breached-password file (binary search by byte offsets)', () => {
  it('finds every listed hash, first, last and middle, and nothing else', async () => {
    const { path, passwords } = breachedFile(5000, []);
    const sorted = [...passwords].sort((a, b) => (sha1Upper(a) < sha1Upper(b) ? -1 : 1));
    for (const p of [sorted[0]!, sorted.at(-1)!, sorted[2500]!, sorted[1]!, sorted.at(-2)!]) assert.equal(await isBreached(path, p), true, p);
    for (let i = 0; i < 5000; i += 37) assert.equal(await isBreached(path, passwords[i]!), true);
    for (let i = 0; i < 300; i++) assert.equal(await isBreached(path, `not-listed-${i}`), false);
  });
  it('works on tiny, empty and CRLF files', async () => {
    const one = breachedFile(0, ['only one'], 'one.txt');
    assert.equal(await isBreached(one.path, 'only one'), true);
    assert.equal(await isBreached(one.path, 'another'), false);
    const empty = join(dir, 'empty.txt');
    writeFileSync(empty, '');
    assert.equal(await isBreached(empty, 'x'), false);
    const crlf = breachedFile(2000, ['crlf listed'], 'crlf.txt', '\r\n');
    assert.equal(await isBreached(crlf.path, 'crlf listed'), true);
    assert.equal(await isBreached(crlf.path, 'crlf not listed'), false);
  });
  it('an unreadable BREACHED_PASSWORDS_FILE is a configuration problem at start', () => {
    assert.throws(
      () => parseConfig({ NODE_ENV: 'test', BREACHED_PASSWORDS_FILE: join(dir, 'missing.txt') }),
      (e: unknown) => e instanceof ConfigError && e.problems.some((p) => p.variable === 'BREACHED_PASSWORDS_FILE'),
    );
  });
});

describe('a breached password is refused wherever the policy applies', () => {
  const listed = 'a long breached passphrase';
  it('registration and password change answer 422 naming the field; an unlisted password passes', async () => {
    const { path } = breachedFile(3000, [listed], 'app.txt');
    const t = await createTestApp({ env: { BREACHED_PASSWORDS_FILE: path } });
    try {
      const res = await t.app.inject({ method: 'POST', url: '/users', payload: { username: 'zed', email: 'zed@example.com', password: listed } });
      assert.equal(res.statusCode, 422);
      const errors = res.json().errors as { field: string; message: string }[];
      assert.deepEqual(
        errors.map((e) => e.field),
        ['password'],
      );
      assert.match(errors[0]!.message, /breach/);
      await registerUser(t.app, 'zed');
      const s = await tokensFor(t.app, 'zed');
      const change = await t.app.inject({
        method: 'POST',
        url: '/users/me/password',
        headers: bearer(s.access_token),
        payload: { current_password: STRONG_PASSWORD, new_password: listed },
      });
      assert.equal(change.statusCode, 422, change.body);
      assert.deepEqual(
        (change.json().errors as { field: string }[]).map((e) => e.field),
        ['new_password'],
      );
    } finally {
      await t.close();
    }
  });
});
