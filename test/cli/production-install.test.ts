import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { envFile, execForm, runCommand, runtimeStage } from '../support/deploy-files.js';
import { freePort, freshBackend, ROOT } from '../support/process.js';

/**
 * The production path, on a clean directory, exactly as deploy/Dockerfile's runtime stage writes it:
 * its COPY lines (from a tree where the bundle is built: `npm ci` + `prepare`), its `npm ci --omit=dev`
 * (no esbuild, no TypeScript: `prepare` must not need them), its ENV and CMD with the settings of
 * deploy/warden.env.example, and its HEALTHCHECK. npm reads the local cache first (--prefer-offline:
 * the npm registry is the only network it may use). Run as root (CI), the server runs as `nobody` over
 * files it cannot write, as the image's `USER node` over a root-owned /app: only DATA_DIR is its own.
 */

/** An unprivileged user for the server when the tests run as root. */
const UNPRIVILEGED = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined;
describe('production install (deploy/Dockerfile runtime stage)', () => {
  const stage = runtimeStage();
  let work: string;
  let app: string;
  let bundleDir: string;
  let ownBundle = false;
  let backend: Awaited<ReturnType<typeof freshBackend>>;

  before(() => {
    // The run's own temporary directory is root's alone: an unprivileged server could not reach into it.
    work = mkdtempSync(join(UNPRIVILEGED ? tmpdir() : (process.env.WARDEN_TEST_TMP ?? tmpdir()), 'warden-prod-'));
    app = join(work, 'app');
    mkdirSync(app);
    // The build stage's dist/: this run's bundle (npm test builds it with scripts/bundle.mjs, as `prepare` does).
    const bundle = process.env.WARDEN_TEST_BUNDLE;
    if (bundle) bundleDir = dirname(dirname(bundle));
    else {
      bundleDir = join(ROOT, `.test-dist-prod-${process.pid}`);
      ownBundle = true;
      const r = spawnSync(process.execPath, [join(ROOT, 'scripts/bundle.mjs'), bundleDir], { stdio: 'inherit' });
      assert.equal(r.status, 0, 'the bundle builds');
    }
  });
  after(async () => {
    if (ownBundle) rmSync(bundleDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
    await backend?.dispose();
  });

  /** `/app/x` of the build stage → the file here. */
  const buildPath = (p: string) => {
    assert.match(p, /^\/app\//, `COPY --from=build copies from /app: ${p}`);
    const rel = p.slice('/app/'.length);
    return rel === 'dist' ? bundleDir : join(ROOT, rel);
  };

  it('copies the built output and installs the runtime dependencies with npm ci --omit=dev', () => {
    const copies = stage.instructions.filter((i) => i.op === 'COPY');
    assert.ok(copies.length > 0);
    for (const c of copies) {
      const parts = c.args.split(' ');
      assert.equal(parts[0], '--from=build', `runtime COPY comes from the build stage: ${c.args}`);
      const dest = parts.at(-1)!;
      const sources = parts.slice(1, -1);
      const target = join(app, dest.replace(/^\.\//, ''));
      for (const s of sources) {
        const from = buildPath(s);
        assert.ok(existsSync(from), `${s} exists in the build output`);
        if (statSync(from).isDirectory()) cpSync(from, target, { recursive: true });
        else {
          const to = dest.endsWith('/') || sources.length > 1 ? join(target, basename(from)) : target;
          mkdirSync(dirname(to), { recursive: true });
          cpSync(from, to);
        }
      }
    }
    // The shell steps of the stage: the install (run here) and the data directory's ownership (the
    // test's DATA_DIR is its own temporary directory).
    const runs = stage.instructions.filter((i) => i.op === 'RUN').map(runCommand);
    const installs = runs.filter((r) => r.startsWith('npm '));
    assert.deepEqual(installs.length, 1, `one npm step: ${runs.join(' | ')}`);
    assert.match(installs[0]!, /^npm ci --omit=dev\b/);
    for (const r of runs.filter((x) => !x.startsWith('npm '))) assert.match(r, /^mkdir -p \/data\b/, `an untested RUN step: ${r}`);

    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('npm_')) env[k] = v;
    const r = spawnSync('sh', ['-c', installs[0]!], {
      cwd: app,
      env: { ...env, ...stage.env, npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, `npm ci --omit=dev failed:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /prepare: esbuild is not installed/);
    assert.ok(!existsSync(join(app, 'node_modules/esbuild')), 'no dev dependency installed');
    assert.ok(!existsSync(join(app, 'node_modules/typescript')), 'no dev dependency installed');
    assert.ok(existsSync(join(app, 'node_modules/fastify')));
  });

  it('starts with the production settings of deploy/warden.env.example, passes its HEALTHCHECK and /readyz, and stops on SIGTERM', async () => {
    assert.ok(existsSync(join(app, 'node_modules/fastify')), 'the install step ran');
    backend = await freshBackend('prod');
    const example = envFile('deploy/warden.env.example');
    delete example.DATABASE_URL; // the example's placeholder; the backend's own (PGlite or PostgreSQL) instead
    const port = await freePort();
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('npm_')) env[k] = v;
    Object.assign(env, stage.env, example, {
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      ...backend.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
    });
    if (process.env.WARDEN_TEST_REDIS_URL) Object.assign(env, { REDIS_URL: process.env.WARDEN_TEST_REDIS_URL, REDIS_PREFIX: `prod-${process.pid}:` });
    assert.equal(env.NODE_ENV, 'production');
    if (UNPRIVILEGED) {
      // Readable by everyone, writable by root only (like the image's /app); DATA_DIR belongs to the server.
      for (const dir of [work, app]) chmodSync(dir, 0o755);
      chownSync(backend.dir, UNPRIVILEGED.uid, UNPRIVILEGED.gid);
    }

    const cmd = execForm(stage.instructions.find((i) => i.op === 'CMD')!.args);
    assert.equal(cmd[0], 'node');
    const child = spawn(process.execPath, cmd.slice(1), { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'], ...UNPRIVILEGED });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const url = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 120_000;
      let ready = false;
      while (!ready && Date.now() < deadline && child.exitCode === null) {
        ready = await fetch(`${url}/readyz`).then((r) => r.status === 200, () => false);
        if (!ready) await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(ready, `the server did not become ready:\n${out.slice(-3000)}`);
      const readyz = (await (await fetch(`${url}/readyz`)).json()) as { checks: Record<string, string> };
      assert.equal(readyz.checks.database, 'ok');

      const health = execForm(stage.instructions.find((i) => i.op === 'HEALTHCHECK')!.args.replace(/^.*?CMD\s+/, ''));
      assert.equal(health[0], 'node');
      const probe = spawnSync(process.execPath, health.slice(1), { cwd: app, env, encoding: 'utf8' });
      assert.equal(probe.status, 0, `the HEALTHCHECK fails: ${probe.stderr}`);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, `a clean stop on SIGTERM:\n${out.slice(-2000)}`);
  });
});
