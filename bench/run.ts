/**
 * npm run bench [-- --profile] [-- --quick] [-- <part> ...]
 *
 * Parts (all when none is named; naming some runs only those and leaves docs/benchmarks.md alone):
 * me (bare Fastify, the floor, GET /users/me), login (argon2id, password grant, overload, fewer threads),
 * refresh, cc (client_credentials and introspection against oidc-provider), resource, rss (idle RSS on
 * PostgreSQL), pglite (idle RSS and ready time on PGlite), kit.
 *
 * One run, one machine, real sockets on loopback. Every server under test runs in its own process, and
 * every load generator (autocannon) in another, so nothing shares an event loop with what it measures.
 * Prints a table and writes it into docs/benchmarks.md and README.md (between the bench:results markers).
 *
 * Needs PostgreSQL (WARDEN_BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres: a
 * throw-away database is created there and dropped at the end).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { SourceMap } from 'node:module';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { LoadResult, LoadSpec } from './load.js';
import { freePort, ROOT, runJson, startPortPrinter, startProcess, type Running } from './lib/processes.js';
import { kitRows } from './kit.js';
import { resourceRow } from './resource.js';

const argv = new Set(process.argv.slice(2));
const QUICK = argv.has('--quick');
const PROFILE = argv.has('--profile');
const PARTS = ['me', 'login', 'refresh', 'cc', 'resource', 'rss', 'pglite', 'kit'] as const;
const named = [...argv].filter((a) => !a.startsWith('--'));
for (const n of named) if (!(PARTS as readonly string[]).includes(n)) throw new Error(`unknown bench part "${n}"; parts: ${PARTS.join(', ')}`);
/** Whether this run measures a part (every part when none is named). */
const part = (name: (typeof PARTS)[number]) => !named.length || named.includes(name);
const SECONDS = QUICK ? 3 : 10;
const PG_URL = process.env.WARDEN_BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const PASSWORD = 'correct horse battery staple';
const NA = 'not available';
const BENCH_ENCRYPTION_KEY = randomBytes(32).toString('base64');

interface Row {
  what: string;
  result: string;
  target: string;
  verdict: 'met' | 'missed' | 'n/a' | '';
}
const rows: Row[] = [];
const notes: string[] = [];
const row = (what: string, result: string, target = '', verdict: Row['verdict'] = '') => {
  rows.push({ what, result, target, verdict });
  console.log(`  ${what}: ${result}${target ? `  (target ${target}: ${verdict})` : ''}`);
};
const fmt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const ms = (n: number) => `${n.toFixed(n < 10 ? 1 : 0)} ms`;
const verdict = (ok: boolean): Row['verdict'] => (ok ? 'met' : 'missed');

function load(spec: LoadSpec): Promise<LoadResult> {
  return runJson<LoadResult>(['--import', 'tsx', join(ROOT, 'bench/load.ts'), JSON.stringify(spec)]);
}

function withDatabase(url: string, name: string) {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>, url = PG_URL): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const formBody = (p: Record<string, string>) => new URLSearchParams(p).toString();
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

async function post(url: string, body: string | object, headers: Record<string, string> = {}) {
  const json = typeof body !== 'string';
  const res = await fetch(url, {
    method: 'POST',
    headers: { ...(json ? { 'content-type': 'application/json' } : FORM), ...headers },
    body: json ? JSON.stringify(body) : body,
  });
  const text = await res.text();
  let data: Record<string, unknown> = {};
  try {
    data = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON
  }
  return { status: res.status, data, text };
}

/** Build dist/ (`npm run build`) so `npm start` (node dist/cli/main.js serve) runs today's code. */
function build(): boolean {
  const r = spawnSync(process.execPath, ['scripts/bundle.mjs'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) notes.push(`the build failed, so the bench ran the sources through tsx: ${(r.stderr || r.stdout).split('\n')[0]}`);
  return r.status === 0 && existsSync(join(ROOT, 'dist/cli/main.js'));
}

interface Warden {
  base: string;
  proc: Running;
}

async function startWarden(env: Record<string, string>, opts: { npm?: boolean; node?: string[]; useDist: boolean }): Promise<Warden> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const fullEnv = {
    NODE_ENV: 'production',
    // Production refuses an http:// issuer unless a TLS-terminating proxy is declared: the bench is that proxy.
    TRUSTED_PROXIES: '127.0.0.1',
    ISSUER: base,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    // One client address sends everything: per-IP limits would measure the limiter, not the server.
    RATE_LIMIT_ENABLED: 'false',
    // Production refuses to keep signing keys unencrypted; a throw-away key for a throw-away database.
    ENCRYPTION_KEY: BENCH_ENCRYPTION_KEY,
    ...env,
  };
  const [cmd, args] = opts.npm
    ? ['npm', ['start', '--silent']]
    : opts.useDist
      ? [process.execPath, [...(opts.node ?? []), 'dist/cli/main.js', 'serve']]
      : [process.execPath, [...(opts.node ?? []), '--import', 'tsx', 'src/cli/main.ts', 'serve']];
  const proc = await startProcess(cmd, args, { env: fullEnv, readyUrl: `${base}/readyz`, timeoutMs: 120_000 });
  return { base, proc };
}

async function main() {
  const started = performance.now();
  const cores = availableParallelism();
  console.log(`Warden benchmark: ${cores} cores (${cpus()[0]?.model ?? 'cpu'}), node ${process.version}, ${SECONDS} s per run${QUICK ? ' (quick)' : ''}`);
  const useDist = build();
  const dbName = `warden_bench_${process.pid}`;
  await admin((c) => c.query(`create database ${dbName}`));
  const databaseUrl = withDatabase(PG_URL, dbName);
  const work = mkdtempSync(join(tmpdir(), 'warden-bench-'));
  const stops: Array<() => Promise<void>> = [];
  try {
    const w = await startWarden({ DATABASE_URL: databaseUrl }, { useDist, node: PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${work}/prof`] : [] });
    stops.push(w.proc.stop);
    const reg = await post(`${w.base}/users`, { username: 'bench', email: 'bench@example.com', password: PASSWORD });
    if (reg.status !== 201) throw new Error(`register: ${reg.status} ${reg.text}`);
    const login = await post(`${w.base}/token`, formBody({ grant_type: 'password', username: 'bench', password: PASSWORD }));
    if (login.status !== 200) throw new Error(`login: ${login.status} ${login.text}`);
    const accessToken = login.data.access_token as string;
    const meSpec: LoadSpec = { url: `${w.base}/users/me`, headers: { authorization: `Bearer ${accessToken}` }, connections: 50, seconds: SECONDS };
    const better = (a: LoadResult, b: LoadResult) => (b.ok > a.ok ? b : a);

    // --- bare Fastify and Warden's GET /users/me, measured in turn (A B A B), best of two each ---
    // This VM's speed drifts within a minute (another tenant's load); alternating the two servers and
    // keeping each one's better run compares them under the same conditions.
    if (part('me')) {
      const hello = await startPortPrinter(['--import', 'tsx', 'bench/targets/hello.ts']);
      stops.push(hello.stop);
      const helloUrl = `http://127.0.0.1:${hello.port}/`;
      // The floor: bare Fastify + Warden's header hook and request-log line, no authentication.
      const floorPort = await freePort();
      const floor = await startProcess(process.execPath, ['--import', 'tsx', 'bench/targets/floor.ts'], {
        env: { PORT: String(floorPort) },
        readyUrl: `http://127.0.0.1:${floorPort}/`,
      });
      stops.push(floor.stop);
      const helloSpec: LoadSpec = { url: helloUrl, connections: 50, seconds: SECONDS };
      const floorSpec: LoadSpec = { url: `http://127.0.0.1:${floorPort}/`, connections: 50, seconds: SECONDS };
      for (const spec of [helloSpec, floorSpec, meSpec]) await load({ ...spec, seconds: 2 });
      let base = await load(helloSpec);
      let floorRun = await load(floorSpec);
      let me = await load(meSpec);
      base = better(base, await load(helloSpec));
      floorRun = better(floorRun, await load(floorSpec));
      me = better(me, await load(meSpec));
      await hello.stop();
      await floor.stop();
      row('bare Fastify hello-world (best of 2, alternating with the next two rows)', `${fmt(base.ok)} req/s, p99 ${ms(base.p99)}`);
      row(
        'the floor: bare Fastify + Warden’s security headers and request-log line, no authentication (bench/targets/floor.ts; best of 2)',
        `${fmt(floorRun.ok)} req/s, p99 ${ms(floorRun.p99)}, ${((floorRun.ok / base.ok) * 100).toFixed(0)}% of bare Fastify`,
      );
      if (me.ok < me.rps * 0.99) notes.push(`GET /users/me answered non-2xx: ${JSON.stringify(me.statuses)}`);
      const share = me.ok / base.ok;
      row(
        'GET /users/me (JWT verify + disabled/revocation check; best of 2)',
        `${fmt(me.ok)} req/s, p99 ${ms(me.p99)}, ${(share * 100).toFixed(0)}% of bare Fastify, ${((me.ok / floorRun.ok) * 100).toFixed(0)}% of the floor`,
        '≥ 60% of bare Fastify',
        verdict(share >= 0.6),
      );
      row('GET /users/me vs the seeds’ FastAPI (~2,300 req/s)', `${(me.ok / 2300).toFixed(1)}x`, '≥ 10x', verdict(me.ok >= 23_000));
    }

    // --- password grant under saturating load, /users/me alongside ---
    if (part('login')) {
      const raw = await runJson<{ perSecond: number; msPerHash: number; threads: number }>(['--import', 'tsx', 'bench/targets/argon2-rate.ts', QUICK ? '2' : '5']);
      row('raw argon2id m=19456 t=2 p=1 (@node-rs/argon2, all cores)', `${fmt(raw.perSecond)} hashes/s (${raw.msPerHash.toFixed(1)} ms each, ${raw.threads} threads)`);
      // Logins spread over many accounts, as real traffic is: hundreds of concurrent attempts on ONE
      // account is what the per-account lockout exists to stop, and it would (rightly) refuse them.
      // Each run gets its own accounts: attempts refused with 503 still count toward an account's lockout
      // budget, and one run's leftovers must not turn into the next run's refusals.
      const accounts = QUICK ? 64 : 256;
      const accountsFor = async (prefix: string) => {
        for (let i = 0; i < accounts; i += 8) {
          await Promise.all(
            Array.from({ length: Math.min(8, accounts - i) }, (_, j) =>
              post(`${w.base}/users`, { username: `${prefix}${i + j}`, email: `${prefix}${i + j}@example.com`, password: PASSWORD }),
            ),
          );
        }
        return Array.from({ length: accounts }, (_, i) => formBody({ grant_type: 'password', username: `${prefix}${i}`, password: PASSWORD }));
      };
      const [steadyBodies, fewerBodies, floodBodies] = [await accountsFor('steady'), await accountsFor('fewer'), await accountsFor('flood')];
      const loginSeconds = QUICK ? 5 : 15;
      const loginRun = (base: string, bodies: string[], connections: number, seconds: number) =>
        load({ url: `${base}/token`, method: 'POST', headers: FORM, bodies, connections, seconds });
      // Saturating: every hashing slot busy and the queue never empty, below the shedding point (HASH_QUEUE 64).
      const [logins, meDuring] = await Promise.all([loginRun(w.base, steadyBodies, 48, loginSeconds), load({ ...meSpec, connections: 8, rate: 500, seconds: loginSeconds })]);
      const loginShare = logins.ok / raw.perSecond;
      row(
        `POST /token password grant, 48 connections (default HASH_CONCURRENCY: all ${cores} cores, hashing threads at nice 19)`,
        `${fmt(logins.ok)} logins/s = ${(loginShare * 100).toFixed(0)}% of raw; p99 ${ms(logins.p99)}`,
        '≥ 70% of raw argon2id',
        verdict(loginShare >= 0.7),
      );
      row('GET /users/me p99 during that login load (500 req/s)', `p99 ${ms(meDuring.p99)} (${fmt(meDuring.ok)} req/s ok)`, '< 25 ms', verdict(meDuring.p99 < 25));
      const unexpected = (r: LoadResult, what: string) => {
        const other = Object.entries(r.statuses).filter(([s]) => s !== '200' && s !== '503');
        if (other.length) notes.push(`${what} also answered ${JSON.stringify(Object.fromEntries(other))}`);
      };
      unexpected(logins, 'password grant load');
      // Overload: far more logins than slots + queue. The excess must be refused at once, not queued.
      const flood = await loginRun(w.base, floodBodies, 256, QUICK ? 3 : 5);
      row(
        'POST /token password grant overload, 256 connections',
        `${fmt(flood.ok)} logins/s; ${fmt(flood.shed * 1)} answers were 503 + Retry-After (${((flood.shed / Math.max(1, flood.rps * (QUICK ? 3 : 5))) * 100).toFixed(0)}%); p99 ${ms(flood.p99)}`,
        'shed, not queued',
        verdict(flood.shed > 0 && flood.p99 < 10_000),
      );
      unexpected(flood, 'password grant overload');
      // The same with one core left to the event loop (HASH_CONCURRENCY = cores - 1, the default before
      // hashing moved to low-priority threads): what the niced threads buy.
      const fewer = Math.max(1, cores - 1);
      const oneLess = await startWarden({ DATABASE_URL: databaseUrl, HASH_CONCURRENCY: String(fewer) }, { useDist });
      stops.push(oneLess.proc.stop);
      const meFewer: LoadSpec = { ...meSpec, url: `${oneLess.base}/users/me`, connections: 8, rate: 500, seconds: loginSeconds };
      const [loginsFewer, meDuringFewer] = await Promise.all([loginRun(oneLess.base, fewerBodies, 48, loginSeconds), load(meFewer)]);
      await oneLess.proc.stop();
      row(
        `… with HASH_CONCURRENCY=${fewer} (a core left to the event loop)`,
        `${fmt(loginsFewer.ok)} logins/s = ${((loginsFewer.ok / raw.perSecond) * 100).toFixed(0)}% of raw; /users/me p99 meanwhile ${ms(meDuringFewer.p99)}`,
      );
      unexpected(loginsFewer, `password grant load (HASH_CONCURRENCY=${fewer})`);
    }

    // --- refresh_token rotation on PostgreSQL ---
    if (part('refresh')) {
      const rtConnections = 16;
      const refreshTokens: string[] = [];
      for (let i = 0; i < rtConnections * 3; i++) {
        const r = await post(`${w.base}/token`, formBody({ grant_type: 'password', username: 'bench', password: PASSWORD }));
        if (r.status === 200) refreshTokens.push(r.data.refresh_token as string);
    }
    const refresh = await load({ url: `${w.base}/token`, method: 'POST', headers: FORM, connections: rtConnections, seconds: SECONDS, refreshTokens });
    row('refresh_token rotation (PostgreSQL)', `${fmt(refresh.ok)} rotations/s, p99 ${ms(refresh.p99)}`, '≥ 1,000/s', verdict(refresh.ok >= 1000));
    if (refresh.ok < refresh.rps * 0.99) notes.push(`refresh rotation answered ${JSON.stringify(refresh.statuses)}`);
    }

    const client = part('cc') || part('resource') ? await benchClient(w.base, databaseUrl) : undefined;
    // --- client_credentials and introspection: Warden and oidc-provider in turn, best of two each ---
    if (part('cc')) {
      const { OIDC_CLIENT, OIDC_RESOURCE } = { OIDC_CLIENT: { client_id: 'bench', client_secret: 'bench-secret-0123456789abcdef0123456789abcdef' }, OIDC_RESOURCE: 'https://api.bench.local' };
      const op = await startPortPrinter(['--import', 'tsx', 'bench/targets/oidc-provider.ts']);
      stops.push(op.stop);
      const opBase = `http://127.0.0.1:${op.port}`;
      const opAuth = basic(OIDC_CLIENT.client_id, OIDC_CLIENT.client_secret);
      const opCcBody = formBody({ grant_type: 'client_credentials', scope: 'api', resource: OIDC_RESOURCE });
      const opCheck = await post(`${opBase}/token`, opCcBody, { authorization: opAuth });
      if (opCheck.status !== 200) throw new Error(`oidc-provider client_credentials: ${opCheck.status} ${opCheck.text}`);
      const opaque = await post(`${opBase}/token`, formBody({ grant_type: 'client_credentials', scope: 'api' }), { authorization: opAuth });
      const opCcSpec: LoadSpec = { url: `${opBase}/token`, method: 'POST', headers: { ...FORM, authorization: opAuth }, body: opCcBody, connections: 32, seconds: SECONDS };
      const opIntroSpec: LoadSpec = {
        url: `${opBase}/token/introspection`,
        method: 'POST',
        headers: { ...FORM, authorization: opAuth },
        body: formBody({ token: opaque.data.access_token as string }),
        connections: 50,
        seconds: SECONDS,
      };
      /** A then B, twice; each keeps its better run (this VM's speed drifts within a minute). */
      const alternate = async (a: LoadSpec | undefined, b: LoadSpec) => {
        let ra = a ? await load(a) : undefined;
        let rb = await load(b);
        if (a) ra = better(ra!, await load(a));
        rb = better(rb, await load(b));
        return [ra, rb] as const;
      };
      let wardenCcSpec: LoadSpec | undefined;
      let wardenIntroSpec: LoadSpec | undefined;
      if (client) {
        const auth = basic(client.id, client.secret);
        const cc = await post(`${w.base}/token`, formBody({ grant_type: 'client_credentials' }), { authorization: auth });
        if (cc.status === 200) {
          wardenCcSpec = { url: `${w.base}/token`, method: 'POST', headers: { ...FORM, authorization: auth }, body: formBody({ grant_type: 'client_credentials' }), connections: 32, seconds: SECONDS };
        } else notes.push(`client_credentials: ${cc.status} ${cc.text.slice(0, 200)}`);
        const intro = await post(`${w.base}/introspect`, formBody({ token: accessToken }), { authorization: auth });
        if (intro.status === 200 && intro.data.active === true) {
          wardenIntroSpec = { url: `${w.base}/introspect`, method: 'POST', headers: { ...FORM, authorization: auth }, body: formBody({ token: accessToken }), connections: 50, seconds: SECONDS };
        } else notes.push(`introspection: ${intro.status} ${intro.text.slice(0, 200)}`);
    }
    const [wardenCc, opCc] = await alternate(wardenCcSpec, opCcSpec);
    const [wardenIntro, opIntro] = await alternate(wardenIntroSpec, opIntroSpec);
    await op.stop();
    if (wardenCc) {
      row(
        'client_credentials (signed JWT; best of 2, alternating with oidc-provider)',
        `${fmt(wardenCc.ok)} tokens/s, p99 ${ms(wardenCc.p99)}; oidc-provider RS256: ${fmt(opCc.ok)}/s → ${(wardenCc.ok / opCc.ok).toFixed(1)}x`,
        '≥ 2,000/s and ≥ 2x oidc-provider',
        verdict(wardenCc.ok >= 2000 && wardenCc.ok >= 2 * opCc.ok),
      );
    } else row('client_credentials (signed JWT)', `${NA} (oidc-provider RS256: ${fmt(opCc.ok)}/s)`, '≥ 2,000/s and ≥ 2x oidc-provider', 'n/a');
    if (wardenIntro) {
      row(
        'POST /introspect (best of 2, alternating with oidc-provider)',
        `${fmt(wardenIntro.ok)} req/s, p99 ${ms(wardenIntro.p99)}; oidc-provider: ${fmt(opIntro.ok)}/s`,
        '≥ 10,000/s',
        verdict(wardenIntro.ok >= 10_000),
      );
    } else row('POST /introspect', `${NA} (oidc-provider: ${fmt(opIntro.ok)}/s)`, '≥ 10,000/s', 'n/a');
    }
    if (part('resource') && client) await resourceRow(row, load, SECONDS, w.base, client.adminToken);

    // Idle memory on PostgreSQL: this server after its load, and a fresh one.
    await sleep(1000);
    const loadedRss = w.proc.rssMb();
    await w.proc.stop();
    if (part('rss')) {
      const fresh = await startWarden({ DATABASE_URL: databaseUrl }, { useDist });
      stops.push(fresh.proc.stop);
      await fetch(`${fresh.base}/healthz`).then((r) => r.arrayBuffer());
      await sleep(2000);
      const pgRss = fresh.proc.rssMb();
      await fresh.proc.stop();
      row('idle RSS on PostgreSQL (fresh server)', `${fmt(pgRss)} MB (after the load above: ${fmt(loadedRss)} MB)`, '< 120 MB', verdict(pgRss < 120));
    }

    // --- PGlite: first start (initdb), then `npm start` on the existing data dir ---
    if (part('pglite')) {
      const dataDir = join(work, 'data');
      const first = await startWarden({ DATA_DIR: dataDir }, { useDist });
      const firstReady = first.proc.readyMs;
      await first.proc.stop();
      const second = useDist ? await startWarden({ DATA_DIR: dataDir }, { useDist, npm: true }) : await startWarden({ DATA_DIR: dataDir }, { useDist });
      stops.push(second.proc.stop);
      await fetch(`${second.base}/healthz`).then((r) => r.arrayBuffer());
      await sleep(2000);
      const pgliteRss = second.proc.rssMb();
      await second.proc.stop();
      row('idle RSS on embedded PGlite', `${fmt(pgliteRss)} MB`, '< 250 MB', verdict(pgliteRss < 250));
      row(
        `ready from \`${useDist ? 'npm start' : 'tsx src/cli/main.ts serve'}\` on an existing PGlite data dir`,
        `${(second.proc.readyMs / 1000).toFixed(2)} s (first start with initdb: ${(firstReady / 1000).toFixed(1)} s)`,
        '< 1.5 s',
        verdict(second.proc.readyMs < 1500),
      );
    }

    // --- the resource-server kit (issue 16): its own processes, no Warden ---
    if (part('kit')) await kitRows(row, load, SECONDS);

    if (PROFILE) summariseProfile(join(work, 'prof'));
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    await admin((c) => c.query(`drop database if exists ${dbName} with (force)`)).catch(() => {});
    rmSync(work, { recursive: true, force: true });
  }
  const wall = (performance.now() - started) / 1000;
  writeReport(cores, wall);
}

/** A client_credentials client made through the admin API; undefined when the API is not there yet. */
async function benchClient(base: string, databaseUrl: string): Promise<{ id: string; secret: string; adminToken: string } | undefined> {
  const reg = await post(`${base}/users`, { username: 'benchadmin', email: 'benchadmin@example.com', password: PASSWORD });
  if (reg.status !== 201) throw new Error(`register admin: ${reg.status} ${reg.text}`);
  // What `warden user set-roles` does, without a second process on the CLI.
  await admin((c) => c.query(`insert into user_roles (user_id, role) values ($1, 'admin') on conflict do nothing`, [reg.data.id]), databaseUrl);
  const login = await post(`${base}/token`, formBody({ grant_type: 'password', username: 'benchadmin', password: PASSWORD }));
  const headers = { authorization: `Bearer ${login.data.access_token as string}` };
  const created = await post(
    `${base}/admin/clients`,
    { client_name: 'bench', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic', redirect_uris: [], response_types: [] },
    headers,
  );
  if (created.status !== 201 && created.status !== 200) {
    notes.push(`POST /admin/clients: ${created.status} ${created.text.slice(0, 200)}`);
    return undefined;
  }
  return { id: created.data.client_id as string, secret: created.data.client_secret as string, adminToken: login.data.access_token as string };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

/** A frame of the bundle (dist/) named by the source file it came from, through the bundle's source map. */
function sourceMapper() {
  const maps = new Map<string, SourceMap | null>();
  return (url: string, line: number, column: number): { url: string; line: number } => {
    if (!url.startsWith(`file://${ROOT}dist/`)) return { url, line };
    let map = maps.get(url);
    if (map === undefined) {
      const file = `${new URL(url).pathname}.map`;
      map = existsSync(file) ? new SourceMap(JSON.parse(readFileSync(file, 'utf8'))) : null;
      maps.set(url, map);
    }
    const e = map?.findEntry(line, column);
    if (!e || !('originalSource' in e)) return { url, line };
    return { url: e.originalSource.replace(/^(\.\.\/)+/, ''), line: e.originalLine };
  };
}

/** Top self-time functions of the CPU profile the Warden server wrote on exit. */
function summariseProfile(dir: string) {
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')) : [];
  if (!files.length) {
    notes.push('no CPU profile was written');
    return;
  }
  const p = JSON.parse(readFileSync(join(dir, files[0]!), 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const byFrame = new Map<string, number>();
  const byArea = new Map<string, number>();
  let total = 0;
  const original = sourceMapper();
  for (const n of p.nodes) {
    const t = self.get(n.id) ?? 0;
    total += t;
    const at = original(n.callFrame.url, n.callFrame.lineNumber, n.callFrame.columnNumber);
    const url = at.url.replace(`file://${ROOT}`, '');
    const key = `${n.callFrame.functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${at.line + 1}`;
    byFrame.set(key, (byFrame.get(key) ?? 0) + t);
    const area = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? (url.startsWith('src/') || url.startsWith('dist/') ? 'warden' : url.startsWith('node:') ? 'node core' : n.callFrame.functionName || 'other');
    byArea.set(area, (byArea.get(area) ?? 0) + t);
  }
  const top = (m: Map<string, number>, k: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([name, t]) => `${((t / total) * 100).toFixed(1).padStart(5)}%  ${name}`);
  console.log(`\nCPU profile of the Warden server (${files[0]}), self time by package:\n${top(byArea, 15).join('\n')}\n\nby function:\n${top(byFrame, 25).join('\n')}`);
}

function writeReport(cores: number, wallSeconds: number) {
  const when = new Date().toISOString().slice(0, 10);
  const header = '| what | result | target | |\n|---|---|---|---|';
  const lines = rows.map((r) => `| ${r.what} | ${r.result} | ${r.target} | ${r.verdict} |`);
  const table = [header, ...lines].join('\n');
  console.log(`\n${table}\n`);
  for (const n of notes) console.log(`note: ${n}`);
  console.log(`bench wall time: ${wallSeconds.toFixed(0)} s`);
  const file = join(ROOT, 'docs/benchmarks.md');
  const block = [
    '<!-- bench:results -->',
    `Measured ${when} by \`npm run bench\` on ${cores} cores (${cpus()[0]?.model ?? 'cpu'}), node ${process.version}, ${SECONDS} s per run, one run (wall time ${wallSeconds.toFixed(0)} s).`,
    '',
    table,
    ...(notes.length ? ['', ...notes.map((n) => `- ${n}`)] : []),
    '<!-- /bench:results -->',
  ].join('\n');
  const doc = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\n<!-- bench:results -->\n<!-- /bench:results -->\n';
  const next = doc.replace(/<!-- bench:results -->[\s\S]*<!-- \/bench:results -->/, block);
  if (QUICK || named.length) return;
  writeFileSync(file, next);
  // The README shows the same table (its copy is replaced, never edited by hand).
  const readme = join(ROOT, 'README.md');
  const text = readFileSync(readme, 'utf8');
  if (text.includes('<!-- bench:results -->')) writeFileSync(readme, text.replace(/<!-- bench:results -->[\s\S]*<!-- \/bench:results -->/, block));
}

await main();
