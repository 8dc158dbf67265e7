import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { freshBackend, runCli } from '../support/process.js';

const ORDERS = 'https://orders.example';
const oneLine = (stderr: string) => stderr.trim().split('\n').filter((l) => !/ExperimentalWarning|FSTDEP|trace-warnings|nodedir/.test(l));

/** Issue 15: `warden api …` and `warden role …`, and defined roles in `user create|set-roles|import`. */
describe('warden api and role commands', () => {
  let env: Record<string, string>;
  let dir: string;
  let dispose: () => Promise<void> = async () => {};
  before(async () => {
    ({ env, dir, dispose } = await freshBackend('apicli', { migrated: true }));
    assert.equal((await runCli(['migrate'], env)).code, 0);
  });
  after(() => dispose());

  it('creates an API with scopes, adds and removes one, and lists it beside the built-in API', { timeout: 120_000 }, async () => {
    const created = await runCli(['api', 'create', '--identifier', ORDERS, '--name', 'Orders', '--scope', 'orders:read=Read orders', '--scope', 'orders:write=Change orders', '--ttl', '600'], env);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /created API https:\/\/orders.example \([0-9a-f-]{36}\) with scopes orders:read orders:write/);
    const added = await runCli(['api', 'scope', 'add', ORDERS, '--scope', 'orders:refund=Refund'], env);
    assert.equal(added.code, 0, added.stderr);
    const removed = await runCli(['api', 'scope', 'remove', ORDERS, 'orders:refund'], env);
    assert.equal(removed.code, 0, removed.stderr);
    const list = await runCli(['api', 'list'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /https:\/\/orders.example {2}Orders {2}ttl 600s {2}scopes: orders:read orders:write\n/);
    assert.match(list.stdout, /\(built in\).*scopes: .*account/);
  });

  it('creates a role with a permission, grants and revokes another, and lists it', { timeout: 120_000 }, async () => {
    const created = await runCli(['role', 'create', '--name', 'clerk', '--description', 'Shop clerks', '--permission', `${ORDERS}:orders:read`], env);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /created role clerk with https:\/\/orders.example:orders:read/);
    assert.equal((await runCli(['role', 'grant', 'clerk', '--permission', `${ORDERS}:orders:write`], env)).code, 0);
    assert.equal((await runCli(['role', 'revoke', 'clerk', '--permission', `${ORDERS}:orders:write`], env)).code, 0);
    const list = await runCli(['role', 'list'], env);
    assert.match(list.stdout, /^clerk {2}https:\/\/orders.example:orders:read$/m);
    assert.match(list.stdout, /^admin {2}\(built in\)/m);
  });

  it('assigns a defined role with user create, set-roles and import', { timeout: 180_000 }, async () => {
    const made = await runCli(['user', 'create', '--username', 'carol', '--email', 'carol@example.com', '--role', 'clerk', '--password-stdin'], env, 'correct horse battery staple\n');
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /with roles clerk/);
    const set = await runCli(['user', 'set-roles', 'carol', '--role', 'clerk,user'], env);
    assert.equal(set.code, 0, set.stderr);
    const hashed = await bcryptHash('imported password 1', 4);
    const file = join(dir, 'clerks.jsonl');
    writeFileSync(file, JSON.stringify({ username: 'dan', email: 'dan@example.com', hashed_password: hashed, roles: ['clerk'] }));
    const imported = await runCli(['user', 'import', '--file', file], env);
    assert.equal(imported.code, 0, imported.stderr);
    const bad = join(dir, 'wizards.jsonl');
    writeFileSync(bad, JSON.stringify({ username: 'eve', email: 'eve@example.com', hashed_password: hashed, roles: ['wizard'] }));
    const refused = await runCli(['user', 'import', '--file', bad], env);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /line 1: unknown role "wizard"/);
  });

  it('refuses to delete a held role without --force, then deletes it; built-in ones never', { timeout: 120_000 }, async () => {
    const held = await runCli(['role', 'delete', 'clerk'], env);
    assert.notEqual(held.code, 0);
    assert.match(held.stderr, /hold the role "clerk"/);
    assert.equal((await runCli(['role', 'delete', 'clerk', '--force'], env)).code, 0);
    const builtIn = await runCli(['role', 'delete', 'admin', '--force'], env);
    assert.notEqual(builtIn.code, 0);
    assert.match(builtIn.stderr, /built-in role/);
  });

  it('answers bad input with one line and a non-zero exit', { timeout: 180_000 }, async () => {
    const cases: [string[], RegExp][] = [
      [['api', 'create', '--name', 'X'], /--identifier is required/],
      [['api', 'create', '--identifier', ORDERS, '--name', 'Again'], /exists/],
      [['api', 'scope', 'remove', ORDERS], /which scope\?/],
      [['api', 'delete', 'https://nope.example'], /no such API|nope/],
      [['role', 'create', '--name', 'x', '--permission', 'https://nope.example:read'], /no registered API identifier/],
      [['role', 'grant', 'ghost', '--permission', `${ORDERS}:orders:read`], /no such role/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args, env);
      assert.notEqual(r.code, 0, args.join(' '));
      const lines = oneLine(r.stderr);
      assert.equal(lines.length, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(lines[0]!, message, args.join(' '));
    }
  });

  it('deletes the API', { timeout: 60_000 }, async () => {
    const r = await runCli(['api', 'delete', ORDERS], env);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch((await runCli(['api', 'list'], env)).stdout, /orders.example/);
  });
});
