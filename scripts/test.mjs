#!/usr/bin/env node
// Runs the test suite with node's test runner. Prepares, once per run, a migrated database template
// that every test process copies (PGlite: a dumped data dir; PostgreSQL: a template database),
// instead of an initdb per test. Usage: npm test [-- file-or-substring ...]
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { build as esbuild } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

function findFiles(dir, keep) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findFiles(p, keep));
    else if (keep(name)) out.push(p);
  }
  return out;
}

const files = findFiles(join(root, 'test'), (n) => n.endsWith('.test.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (!files.length) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), 'warden-test-'));
// A tag for this run's throw-away databases, so that concurrent runs never drop each other's.
const run = `${process.pid.toString(36)}${Date.now().toString(36)}`;
const env = { ...process.env, NODE_ENV: 'test', WARDEN_TEST_TMP: work, WARDEN_TEST_RUN: run };
const prep = spawn(process.execPath, ['--import', 'tsx', join(root, 'test/support/template-cli.ts'), work], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env,
  cwd: root,
});
let out = '';
prep.stdout.on('data', (d) => (out += d));
if ((await new Promise((r) => prep.on('exit', r))) !== 0) {
  console.error('could not prepare the test database template');
  process.exit(1);
}
const template = JSON.parse(out);
Object.assign(env, template.env);
writeFileSync(join(work, 'template.json'), JSON.stringify(template));

// The tests that start `warden` as a process run what `npm start` runs: this run's own bundle of the
// sources (scripts/bundle.mjs), built once, beside dist/ so a stale or missing dist/ cannot matter.
const bundleDir = join(root, `.test-dist-${run}`);
const bundle = spawn(process.execPath, [join(root, 'scripts/bundle.mjs'), bundleDir], { stdio: ['ignore', 'ignore', 'inherit'], env, cwd: root });
if ((await new Promise((r) => bundle.on('exit', r))) !== 0) {
  console.error('could not build the bundle the process tests run');
  process.exit(1);
}
env.WARDEN_TEST_BUNDLE = join(bundleDir, 'cli/main.js');

// The tests and the sources they import, transpiled once for the run (esbuild, file by file, as tsx would
// do in every test process: ~2.4 s of CPU per file through tsx, ~1.2 s as plain JavaScript). Paths the code
// and tests read (assets/, drizzle/, README.md, test/support/*.ts) are found from the repository root
// (src/kernel/paths.ts), so the transpiled tree needs nothing beside it. The type check is npm run typecheck's.
const jsDir = join(root, `.test-js-${run}`);
const sources = ['src', 'test', 'packages/resource-server/src'].flatMap((d) => findFiles(join(root, d), (n) => /\.(ts|mjs)$/.test(n)));
await esbuild({
  absWorkingDir: root,
  entryPoints: sources,
  outdir: jsDir,
  outbase: root,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  loader: { '.mjs': 'copy' },
  sourcemap: 'inline',
  logLevel: 'error',
});
const jsFiles = files.map((f) => join(jsDir, relative(root, f)).replace(/\.ts$/, '.js'));

// A few test processes, each running many files one after another (test/support/group.ts), instead of
// one process a file: every process pays for the imports and a PGlite start (~2.3 s of CPU), and a file
// should pay only for its own tests (figures: docs/development.md). The processes claim files from one list;
// the files that wait on processes of their own (warden, Chromium, python, the 20-s stale lock) go first,
// so that no process is left with one of them at the end.
const slowFirst = [/cli\/cli\./, /data-dir-lock/, /durability/, /api-role-cli/, /federation\.e2e/, /pages-browser/, /production-install/, /password-reset/, /shutdown/, /account-page/, /multi-instance/, /\/cli\/|\/kit\/|\/storage\/|browser|e2e|walkthrough|fuzz/];
const rank = (f) => {
  const i = slowFirst.findIndex((re) => re.test(relative(jsDir, f)));
  return i < 0 ? slowFirst.length : i;
};
const ordered = [...jsFiles].sort((a, b) => rank(a) - rank(b));
// WARDEN_TEST_CONCURRENCY: the number of test processes. Measured on 2 cores (docs/development.md).
const processes = Math.min(ordered.length, Number(process.env.WARDEN_TEST_CONCURRENCY) || availableParallelism() + 1);
const planFile = join(work, 'plan.json');
writeFileSync(planFile, JSON.stringify({ files: ordered, claims: join(work, 'claims'), jsRoot: jsDir }));
mkdirSync(join(work, 'claims'));
env.WARDEN_TEST_PLAN = planFile;
const entries = Array.from({ length: processes }, (_, i) => {
  const entry = join(jsDir, `test-process-${i + 1}.js`);
  writeFileSync(entry, `import './test/support/group.js';\n`);
  return entry;
});

// A test file that hangs fails by name after 10 minutes (its suite's timeout, test/support/group.ts)
// instead of holding the whole run (and CI) until killed; --test-timeout bounds a whole test process, which
// runs many files (about 3 minutes on 2 cores, far longer on a loaded machine). A process whose tests have
// all finished but that leaves a handle open (a Redis connection, a server) is ended too
// (--test-force-exit, Node 20.14+), instead of keeping the run waiting for ever.
const [major, minor] = process.versions.node.split('.').map(Number);
const forceExit = major > 20 || (major === 20 && minor >= 14) ? ['--test-force-exit'] : [];
// --liftoff-only: V8's baseline WebAssembly compiler only, see V8_TEST_FLAGS in test/support/process.ts
// (the test processes inherit it; the `warden` processes they start get it from there).
const args = ['--liftoff-only', '--enable-source-maps', '--test', `--test-concurrency=${processes}`, '--test-timeout=3600000', ...forceExit, '--test-reporter=spec', ...entries];
const child = spawn(process.execPath, args, { stdio: 'inherit', env, cwd: root });
let code = await new Promise((r) => child.on('exit', (c, s) => r(c ?? (s ? 1 : 0))));
// Every file must have been taken by a process: one that died early (a crash, a failing `after` hook
// that ends its chain) leaves its files to the others, but the last ones could be left to none.
const unrun = ordered.filter((_, i) => !existsSync(join(work, 'claims', String(i))));
if (unrun.length) {
  console.error(`${unrun.length} test files never ran: ${unrun.map((f) => relative(jsDir, f)).join(', ')}`);
  code = 1;
}

const cleanup = spawn(process.execPath, ['--import', 'tsx', join(root, 'test/support/template-cli.ts'), work, '--drop'], { stdio: 'inherit', env, cwd: root });
await new Promise((r) => cleanup.on('exit', r));
rmSync(work, { recursive: true, force: true });
rmSync(bundleDir, { recursive: true, force: true });
rmSync(jsDir, { recursive: true, force: true });
process.exit(code);
