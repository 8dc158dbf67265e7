/**
 * client_credentials for another API (RFC 8707 `resource`): the API and the client's grant there are
 * looked up in the catalog, and the token carries the API as `aud`. Part of `npm run bench`; alone,
 * against a Warden of its own on a throw-away PostgreSQL database: `node --import tsx bench/resource.ts [--quick]`.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import type { LoadResult, LoadSpec } from './load.js';
import { freePort, ROOT, runJson, startProcess } from './lib/processes.js';

type Verdict = 'met' | 'missed' | 'n/a' | '';
type RowFn = (what: string, result: string, target?: string, verdict?: Verdict) => void;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const RESOURCE = 'https://api.bench.local';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

async function post(url: string, body: object | string, headers: Record<string, string>) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': typeof body === 'string' ? FORM['content-type'] : 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, data: (await res.json().catch(() => ({}))) as Record<string, unknown> };
}

export async function resourceRow(row: RowFn, load: (spec: LoadSpec) => Promise<LoadResult>, seconds: number, base: string, adminToken: string): Promise<void> {
  const what = 'client_credentials with a resource (RFC 8707; aud = the API)';
  const admin = { authorization: `Bearer ${adminToken}` };
  const api = await post(`${base}/admin/apis`, { identifier: RESOURCE, name: 'Bench API', scopes: [{ name: 'api' }] }, admin);
  const client = await post(
    `${base}/admin/clients`,
    { client_name: 'bench-resource', grant_types: ['client_credentials'], redirect_uris: [], response_types: [], resources: { [RESOURCE]: ['api'] } },
    admin,
  );
  if (api.status !== 201 || client.status !== 201) {
    row(what, `not available (POST /admin/apis ${api.status}, POST /admin/clients ${client.status})`, '≥ 2,000/s', 'n/a');
    return;
  }
  const auth = `Basic ${Buffer.from(`${client.data.client_id as string}:${client.data.client_secret as string}`).toString('base64')}`;
  const body = new URLSearchParams({ grant_type: 'client_credentials', resource: RESOURCE, scope: 'api' }).toString();
  const check = await post(`${base}/token`, body, { authorization: auth });
  if (check.status !== 200) {
    row(what, `not available (${check.status} ${JSON.stringify(check.data).slice(0, 120)})`, '≥ 2,000/s', 'n/a');
    return;
  }
  const r = await load({ url: `${base}/token`, method: 'POST', headers: { ...FORM, authorization: auth }, body, connections: 32, seconds });
  row(what, `${fmt(r.ok)} tokens/s, p99 ${r.p99.toFixed(r.p99 < 10 ? 1 : 0)} ms`, '≥ 2,000/s', r.ok >= 2000 ? 'met' : 'missed');
}

/** Alone: a Warden from the sources on its own database, an admin, then the row. */
async function alone() {
  const seconds = process.argv.includes('--quick') ? 3 : 10;
  const pgUrl = process.env.WARDEN_BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
  const dbName = `warden_bench_resource_${process.pid}`;
  const sql = async (q: string, params: unknown[] = [], url = pgUrl) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query(q, params);
    } finally {
      await c.end();
    }
  };
  await sql(`create database ${dbName}`);
  const dbUrl = new URL(pgUrl);
  dbUrl.pathname = `/${dbName}`;
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = { NODE_ENV: 'production', TRUSTED_PROXIES: '127.0.0.1', ISSUER: base, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', RATE_LIMIT_ENABLED: 'false', DATABASE_URL: dbUrl.toString(), ENCRYPTION_KEY: randomBytes(32).toString('base64') };
  const proc = await startProcess(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], { env, readyUrl: `${base}/readyz`, timeoutMs: 120_000 });
  try {
    const password = 'correct horse battery staple';
    const reg = await post(`${base}/users`, { username: 'benchadmin', email: 'benchadmin@example.com', password }, {});
    await sql(`insert into user_roles (user_id, role) values ($1, 'admin') on conflict do nothing`, [reg.data.id], dbUrl.toString());
    const login = await post(`${base}/token`, new URLSearchParams({ grant_type: 'password', username: 'benchadmin', password }).toString(), {});
    const load = (spec: LoadSpec) => runJson<LoadResult>(['--import', 'tsx', join(ROOT, 'bench/load.ts'), JSON.stringify(spec)]);
    await resourceRow((w, r, target, v) => console.log(`  ${w}: ${r}${target ? `  (target ${target}: ${v})` : ''}`), load, seconds, base, login.data.access_token as string);
  } finally {
    await proc.stop();
    await sql(`drop database if exists ${dbName} with (force)`);
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) await alone();
