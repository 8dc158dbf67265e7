// Loaded into every test process by `WARDEN_TEST_TIMES=<file> npm test` (scripts/test.mjs): at exit, a
// test file's process appends one JSON line to <file>: the file, its wall time, its own CPU (all its
// threads: argon2, PGlite) and the CPU of the child processes it waited for (warden, Chromium, python),
// in seconds, from /proc/self/stat (Linux). Summarise with: node test/support/file-times.mjs <file>
import { appendFileSync, readFileSync } from 'node:fs';

const out = process.env.WARDEN_TEST_TIMES;
const file = process.argv[1] ?? '';
if (import.meta.url === `file://${file}`) {
  const rows = readFileSync(process.argv[2], 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const sum = (k) => rows.reduce((a, r) => a + r[k], 0).toFixed(1);
  console.log(`${rows.length} files: wall ${sum('wall')} s, CPU ${sum('cpu')} s, child CPU ${sum('childCpu')} s`);
  for (const r of rows.sort((a, b) => b.wall - a.wall).slice(0, Number(process.argv[3] ?? 25))) {
    console.log(`${r.wall.toFixed(1).padStart(7)} ${r.cpu.toFixed(1).padStart(6)} ${r.childCpu.toFixed(1).padStart(6)}  ${r.file}`);
  }
} else if (out && /\.test\.[jt]s$/.test(file)) {
  const started = Date.now();
  process.on('exit', () => {
    try {
      // utime, stime, cutime, cstime: fields 14-17, in clock ticks (100 a second on Linux).
      const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
      const [ut, st, cut, cst] = [f[11], f[12], f[13], f[14]].map((x) => Number(x) / 100);
      appendFileSync(out, `${JSON.stringify({ file, wall: (Date.now() - started) / 1000, cpu: ut + st, childCpu: cut + cst })}\n`);
    } catch {
      // not Linux: no figures
    }
  });
}
