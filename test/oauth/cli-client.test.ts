import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freshBackend, runCli } from '../support/process.js';

describe('warden client create|list|rotate-secret|delete', () => {
  let env: Record<string, string>;
  let dispose: () => Promise<void> = async () => {};
  before(async () => {
    ({ env, dispose } = await freshBackend('cli-client', { migrated: true }));
  });
  after(() => dispose());

  it('creates (secret once), lists, rotates and deletes; bad input is one line and exit 2', { timeout: 120_000 }, async () => {
    const created = await runCli(['client', 'create', '--name', 'Web', '--redirect-uri', 'https://app.example.com/cb', '--scope', 'openid profile'], env);
    assert.equal(created.code, 0, created.stderr);
    const id = /client_id\s+(\S+)/.exec(created.stdout)![1]!;
    const secret = /client_secret\s+(\S+)/.exec(created.stdout)![1]!;
    assert.match(secret, /^wcs_/);
    const listed = await runCli(['client', 'list'], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`${id}\\s+confidential`));
    assert.ok(!listed.stdout.includes(secret), 'the secret is never shown again');
    const rotated = await runCli(['client', 'rotate-secret', id], env);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.notEqual(/client_secret\s+(\S+)/.exec(rotated.stdout)![1], secret);
    const bad = await runCli(['client', 'create', '--name', 'Bad', '--redirect-uri', 'http://evil.example.com/cb'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /redirect_uris\.0 http is only allowed for loopback/);
    const deleted = await runCli(['client', 'delete', id], env);
    assert.equal(deleted.code, 0, deleted.stderr);
    const again = await runCli(['client', 'delete', id], env);
    assert.notEqual(again.code, 0);
  });

  it('registers logout metadata: post-logout redirect URIs and a back-channel logout URI, checked like the admin API', { timeout: 120_000 }, async () => {
    const created = await runCli(
      [
        'client', 'create', '--name', 'Shop', '--redirect-uri', 'https://shop.example.com/cb',
        '--post-logout-redirect-uri', 'https://shop.example.com/signed-out', '--backchannel-logout-uri', 'https://shop.example.com/bcl', '--backchannel-logout-session-required',
      ],
      env,
    );
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /post-logout redirect URIs https:\/\/shop\.example\.com\/signed-out/);
    assert.match(created.stdout, /back-channel logout URI https:\/\/shop\.example\.com\/bcl \(sid required\)/);
    const bad = await runCli(['client', 'create', '--name', 'Bad', '--redirect-uri', 'https://shop.example.com/cb', '--backchannel-logout-uri', 'ftp://shop.example.com/bcl'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /backchannel_logout_uri must be an http or https URI/);
  });
});
