import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/kernel/paths.js';

/**
 * The repository root. Found by walking up (src/kernel/paths.ts), not as '../..': npm test runs the
 * tests transpiled into a directory of their own (scripts/test.mjs), and the files they read or start
 * (README.md, docs/, src/cli/main.ts, test/support/*.ts) are the repository's own.
 */
export const ROOT = PACKAGE_ROOT;
export const CLI = join(ROOT, 'src/cli/main.ts');

/**
 * argon2id at the lowest cost the settings accept (8 MiB, one pass: ~5x cheaper than the production
 * 19 MiB x 2), for tests that hash passwords but do not measure hashing: the same algorithm through the
 * same code, only the ARGON2_* settings differ. testConfig and the spawned `warden` processes use it; a
 * test that needs the production cost passes `{ ARGON2_MEMORY_KIB: '', ARGON2_ITERATIONS: '' }` (an
 * empty setting is unset: its default).
 */
export const TEST_HASH_COST = { ARGON2_MEMORY_KIB: '8192', ARGON2_ITERATIONS: '1' };

/**
 * How to run `warden`: the bundle `npm test` built for this run (what `npm start` runs), or, for a
 * test file run on its own, the sources through tsx.
 */
export function wardenCommand(...args: string[]): string[] {
  const bundle = process.env.WARDEN_TEST_BUNDLE;
  return [...V8_TEST_FLAGS, ...(bundle ? [bundle, ...args] : ['--import', 'tsx', CLI, ...args])];
}

/**
 * V8's baseline WebAssembly compiler only (Liftoff), without the optimising tier-up in the background:
 * PGlite's ~10 MB of WebAssembly is recompiled by TurboFan in every process, about 1 s of CPU that a
 * test-length process never earns back (a `warden user create`: 1.8 -> 0.95 s CPU; the busiest test
 * file, fuzz.test.ts: 13.5 -> 10.0 s). The same code runs; only how V8 compiles it differs. For the
 * test processes (scripts/test.mjs) and the `warden` processes they start.
 */
export const V8_TEST_FLAGS = ['--liftoff-only'];

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `warden <args>` as a user would. */
export function runCli(args: string[], env: Record<string, string>, input?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, wardenCommand(...args), {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', NODE_ENV: 'test', ...TEST_HASH_COST, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end(input ?? '');
    child.on('exit', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  log: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Start `warden serve` in a child process and wait until it answers /healthz. */
export async function startServerProcess(env: Record<string, string>, timeoutMs = 60_000): Promise<ServerProcess> {
  const port = Number(env.PORT) || (await freePort());
  const child = spawn(process.execPath, wardenCommand('serve'), {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'info', HOST: '127.0.0.1', ...TEST_HASH_COST, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  child.once('exit', () => (exited = true));
  while (Date.now() < deadline && !exited) {
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (exited || Date.now() >= deadline) {
    child.kill('SIGKILL');
    throw new Error(`server did not start: ${out.slice(-2000)}`);
  }
  return {
    child,
    url,
    log: () => out,
    stop(signal = 'SIGTERM') {
      return new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill(signal);
      });
    },
  };
}

/**
 * A fresh backend for commands and spawned servers: an empty PGlite data dir, or (in the PostgreSQL
 * pass) a fresh database of this run. `dispose` removes it. With `migrated`, it starts as a copy of the
 * run's migrated template (what `warden migrate` leaves) instead of empty: for tests that do not test
 * the first start, which spares each of them the embedded initdb and the migrations (seconds of CPU).
 */
export async function freshBackend(label: string, opts: { migrated?: boolean } = {}): Promise<{ env: Record<string, string>; dir: string; dispose(): Promise<void> }> {
  const { mkdirSync, mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { testPostgresUrl, withDatabase } = await import('./template.js');
  const dir = mkdtempSync(join(tmpdir(), `warden-${label}-`));
  const pgUrl = testPostgresUrl();
  if (!pgUrl) {
    const template = process.env.WARDEN_TEST_PGLITE_TEMPLATE;
    if (opts.migrated && template) {
      // The dump is the PGlite file system's /pgdata; Warden keeps it in DATA_DIR/pgdata.
      mkdirSync(join(dir, 'pgdata'), { mode: 0o700 });
      const { execFileSync } = await import('node:child_process');
      execFileSync('tar', ['-xf', template, '-C', join(dir, 'pgdata')], { stdio: ['ignore', 'ignore', 'pipe'] });
    }
    return { env: { DATA_DIR: dir }, dir, dispose: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const { default: pg } = await import('pg');
  // Named after this run, so the run's cleanup catches it if the process dies, and no other run touches it.
  const name = `warden_t_${process.env.WARDEN_TEST_RUN ?? 'x'}_${label.replace(/\W/g, '')}_${process.pid}`;
  const template = opts.migrated ? process.env.WARDEN_TEST_PG_TEMPLATE : undefined;
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${name}`);
  await admin.query(`create database ${name}${template ? ` template ${template}` : ''}`);
  return {
    env: { DATABASE_URL: withDatabase(pgUrl, name), DATA_DIR: dir },
    dir,
    async dispose() {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
