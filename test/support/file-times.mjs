// `WARDEN_TEST_TIMES=<file> npm test` appends one JSON line a test file to <file>: the file, its wall
// time, the CPU its process used while it ran (all threads: argon2, PGlite) and the CPU of the child
// processes it waited for (warden, Chromium, python), in seconds, from /proc/self/stat (Linux).
// test/support/group.ts records them. Summarise with: node test/support/file-times.mjs <file>
import { appendFileSync, readFileSync } from 'node:fs';

const out = process.env.WARDEN_TEST_TIMES;

function cpuNow() {
  try {
    // utime, stime, cutime, cstime: fields 14-17, in clock ticks (100 a second on Linux).
    const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    const [ut, st, cut, cst] = [f[11], f[12], f[13], f[14]].map((x) => Number(x) / 100);
    return { cpu: ut + st, childCpu: cut + cst };
  } catch {
    return undefined; // not Linux: no CPU figures
  }
}

export function startFileTime() {
  return { at: Date.now(), cpu: out ? cpuNow() : undefined };
}

export function recordFileTime(file, started) {
  if (!out) return;
  const now = cpuNow();
  const cpu = now && started.cpu ? now.cpu - started.cpu.cpu : 0;
  const childCpu = now && started.cpu ? now.childCpu - started.cpu.childCpu : 0;
  appendFileSync(out, `${JSON.stringify({ file, wall: (Date.now() - started.at) / 1000, cpu, childCpu, pid: process.pid })}\n`);
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const rows = readFileSync(process.argv[2], 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const sum = (k) => rows.reduce((a, r) => a + r[k], 0).toFixed(1);
  const processes = new Set(rows.map((r) => r.pid)).size;
  console.log(`${rows.length} files in ${processes} processes: wall ${sum('wall')} s, CPU ${sum('cpu')} s, child CPU ${sum('childCpu')} s`);
  for (const r of rows.sort((a, b) => b.wall - a.wall).slice(0, Number(process.argv[3] ?? 25))) {
    console.log(`${r.wall.toFixed(1).padStart(7)} ${r.cpu.toFixed(1).padStart(6)} ${r.childCpu.toFixed(1).padStart(6)}  ${r.file}`);
  }
}
