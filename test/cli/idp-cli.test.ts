import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freshBackend, runCli } from '../support/process.js';

/** Issue 19: `warden idp add|list|delete` (docs/federation.md). */
describe('warden idp commands', () => {
  let env: Record<string, string>;
  let dispose: () => Promise<void> = async () => {};
  before(async () => {
    ({ env, dispose } = await freshBackend('idpcli', { migrated: true }));
    assert.equal((await runCli(['migrate'], env)).code, 0);
  });
  after(() => dispose());

  it('adds a GitHub provider with the secret from stdin, lists it without the secret, deletes it; bad input is one line', { timeout: 180_000 }, async () => {
    const added = await runCli(['idp', 'add', '--kind', 'github', '--name', 'GitHub', '--client-id', 'Iv1.abc', '--client-secret-stdin'], env, 'gh-secret-value\n');
    assert.equal(added.code, 0, added.stderr);
    const id = /\(([0-9a-f-]{36})\)/.exec(added.stdout)![1]!;
    assert.match(added.stdout, new RegExp(`redirect URI: .*/federation/${id}/callback`));
    const list = await runCli(['idp', 'list'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`^${id} {2}github {2}GitHub {2}https://github.com {2}client Iv1.abc {2}scopes: read:user user:email$`, 'm'));
    assert.doesNotMatch(list.stdout, /gh-secret-value/);
    const noIssuer = await runCli(['idp', 'add', '--kind', 'oidc', '--name', 'Corp', '--client-id', 'x', '--client-secret-stdin'], env, 's\n');
    assert.equal(noIssuer.code, 2);
    assert.match(noIssuer.stderr, /issuer is required for kind oidc/);
    const badKind = await runCli(['idp', 'add', '--kind', 'saml', '--name', 'X', '--client-id', 'x', '--client-secret-stdin'], env, 's\n');
    assert.notEqual(badKind.code, 0);
    assert.match(badKind.stderr, /--kind: oidc or github/);
    const deleted = await runCli(['idp', 'delete', id], env);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.doesNotMatch((await runCli(['idp', 'list'], env)).stdout, /GitHub/);
    assert.notEqual((await runCli(['idp', 'delete', id], env)).code, 0);
  });
});
