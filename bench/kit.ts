/**
 * The resource-server kit's rows: the Node verifier against bare jose.jwtVerify, and the FastAPI
 * example's protected route against the same route unprotected (uvicorn, one worker, Debian's Python).
 * Part of `npm run bench`; alone: `node --import tsx bench/kit.ts [--quick]`.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { LoadResult, LoadSpec } from './load.js';
import { freePort, ROOT, runJson, startProcess } from './lib/processes.js';

type Verdict = 'met' | 'missed' | 'n/a' | '';
type RowFn = (what: string, result: string, target?: string, verdict?: Verdict) => void;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const PYTHON = '/usr/bin/python3';

export async function kitRows(row: RowFn, load: (spec: LoadSpec) => Promise<LoadResult>, seconds: number): Promise<void> {
  const v = await runJson<{ bare: number; kit: number; kitCached: number }>(['--import', 'tsx', join(ROOT, 'bench/targets/kit-verify.ts'), String(Math.max(2, seconds / 2))]);
  const share = v.kit / v.bare;
  row(
    '@warden/resource-server verify vs bare jose.jwtVerify, key imported, distinct EdDSA tokens (in-process, alternating, best of 2)',
    `${fmt(v.kit)} vs ${fmt(v.bare)} verifications/s, ${(share * 100).toFixed(0)}%; one token again and again (its cache): ${fmt(v.kitCached)}/s`,
    '≥ 90% of bare jose',
    share >= 0.9 ? 'met' : 'missed',
  );

  if (spawnSync(PYTHON, ['-c', 'import fastapi, jwt, uvicorn'], { stdio: 'ignore' }).status !== 0) {
    row('FastAPI example: protected GET /orders vs the same route unprotected', "not available (Debian's python3-fastapi, python3-jwt, python3-uvicorn)", '≥ 80%', 'n/a');
    return;
  }
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const api = await startProcess(PYTHON, ['-m', 'uvicorn', 'orders_fastapi:app', '--app-dir', 'bench/targets', '--host', '127.0.0.1', '--port', String(port), '--no-access-log', '--log-level', 'warning'], {
    env: { BENCH_PORT: String(port), PYTHONDONTWRITEBYTECODE: '1' },
    readyUrl: `${base}/healthz`,
  });
  try {
    const { access_token: token } = (await (await fetch(`${base}/bench/token`)).json()) as { access_token: string };
    const open: LoadSpec = { url: `${base}/bench/orders-open`, connections: 20, seconds };
    const guarded: LoadSpec = { url: `${base}/orders`, headers: { authorization: `Bearer ${token}` }, connections: 20, seconds };
    for (const spec of [open, guarded]) await load({ ...spec, seconds: 2 });
    const better = (a: LoadResult, b: LoadResult) => (b.ok > a.ok ? b : a);
    let o = await load(open);
    let g = await load(guarded);
    o = better(o, await load(open));
    g = better(g, await load(guarded));
    const ratio = g.ok / o.ok;
    row(
      'FastAPI example (uvicorn, 1 worker): GET /orders with require_scope vs the same route unprotected (alternating, best of 2)',
      `${fmt(g.ok)} vs ${fmt(o.ok)} req/s, ${(ratio * 100).toFixed(0)}%`,
      '≥ 80%',
      ratio >= 0.8 ? 'met' : 'missed',
    );
  } finally {
    await api.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const seconds = process.argv.includes('--quick') ? 3 : 10;
  const runOne = (spec: LoadSpec) => runJson<LoadResult>(['--import', 'tsx', join(ROOT, 'bench/load.ts'), JSON.stringify(spec)]);
  await kitRows((what, result, target = '', verdict = '') => console.log(`${what}: ${result}${target ? `  (target ${target}: ${verdict})` : ''}`), runOne, seconds);
}
