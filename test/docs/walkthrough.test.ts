import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freshBackend, ROOT, runCli, startServerProcess, type ServerProcess } from '../support/process.js';

/**
 * The README's first session, run as written: its `warden user create` line makes the admin (the
 * password from stdin instead of the prompt), a server starts, and its curl block runs in bash against
 * it, with only the address and the admin's password put in. Each curl call must answer the status its
 * comment names (`# 403`), and a call without one a 2xx; the console and the pages it names must open.
 */
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const SECTION = /<!-- section:walkthrough -->([\s\S]*?)<!-- \/section:walkthrough -->/.exec(README)?.[1] ?? '';
const BLOCKS = [...SECTION.matchAll(/^```sh\n([\s\S]*?)^```/gm)].map((m) => m[1]!);
const ADDRESS = 'http://127.0.0.1:8420';
const ADMIN_PASSWORD = 'seven quiet lanterns drift';

const hasCurl = spawnSync('curl', ['--version']).status === 0;
const skip = hasCurl || process.env.CI === 'true' ? false : 'curl is not installed';

/** The shell block's commands, a backslash-continued line joined into one. */
function commands(block: string): string[] {
  return block
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.trim().startsWith('#'));
}

describe("the README's first session", { skip }, () => {
  let env: Record<string, string>;
  let dispose: () => Promise<void> = async () => {};
  let server: ServerProcess | undefined;
  before(async () => {
    ({ env, dispose } = await freshBackend('walkthrough'));
  });
  after(async () => {
    await server?.stop();
    await dispose();
  });

  it('has the setup block (install, the first admin, start) and the curl block', () => {
    assert.equal(BLOCKS.length, 2, 'two sh blocks in the walkthrough section');
    const setup = commands(BLOCKS[0]!);
    const steps = ['npm install', 'npx warden user create', 'npm start'];
    assert.deepEqual(setup.map((c) => steps.find((s) => c.startsWith(s)) ?? c), steps);
  });

  it('runs as written: the statuses its comments name, the console and the pages it names', { timeout: 180_000 }, async () => {
    const create = commands(BLOCKS[0]!).find((c) => c.startsWith('npx warden user create'))!;
    const made = await runCli([...create.split(/\s+/).slice(2), '--password-stdin'], env, `${ADMIN_PASSWORD}\n`);
    assert.equal(made.code, 0, made.stderr);

    server = await startServerProcess(env);
    const session = BLOCKS[1]!;
    assert.equal(session.split('<the admin password>').length, 2, 'one placeholder for the admin password');
    const calls = commands(session).filter((c) => /\bcurl /.test(c));
    const expected = calls.map((c) => [...c.matchAll(/\s#\s*(\d{3})\b/g)].pop()?.[1] ?? '2xx');
    assert.ok(expected.includes('403') && expected.includes('401'), 'the session shows a refusal');

    // Every curl call also writes its status to stderr; its standard output is untouched.
    const script = [
      'set -euo pipefail',
      `curl() { command curl -w '%{stderr}%{http_code}\\n' "$@"; }`,
      session.replaceAll(ADDRESS, server.url).replace('<the admin password>', ADMIN_PASSWORD),
    ].join('\n');
    const run = spawnSync('bash', ['-c', script], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` },
      timeout: 120_000,
    });
    const { stdout, stderr } = run;
    assert.equal(run.status, 0, `the curl block failed:\n${stderr}\n${stdout}\nserver log:\n${server.log().slice(-3000)}`);
    const statuses = stderr.split('\n').filter((l) => /^\d{3}$/.test(l));
    assert.equal(statuses.length, calls.length, `one status per curl call: ${stderr}`);
    statuses.forEach((status, i) => {
      const want = expected[i]!;
      assert.ok(want === '2xx' ? status.startsWith('2') : status === want, `${calls[i]}\n→ ${status}, the README says ${want}`);
    });
    assert.match(stdout, /"username":"alice"/, 'GET /users/me answers alice');

    // The prose after the curl block names the console and the pages to open next.
    const closing = SECTION.slice(SECTION.lastIndexOf('```'));
    const pages = [...closing.matchAll(/http:\/\/127\.0\.0\.1:8420(\/[\w/-]*)/g)].map((m) => m[1]!);
    assert.ok(pages.includes('/admin'), 'the walkthrough ends at the console');
    for (const path of pages) {
      const res: Response = await fetch(`${server.url}${path}`);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', /text\/html/, path);
    }
  });
});
