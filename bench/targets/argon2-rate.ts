/**
 * The machine's raw argon2id rate: OWASP parameters (m=19456 KiB, t=2, p=1) with @node-rs/argon2, one
 * hash in flight per core, nothing else running. Prints {"perSecond","msPerHash","threads"}.
 */
import { availableParallelism } from 'node:os';
import { hash, Algorithm } from '@node-rs/argon2';

const seconds = Number(process.argv[2] ?? 5);
const threads = availableParallelism();
const params = { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 };
await hash('warm-up', params);
let n = 0;
const started = performance.now();
const end = started + seconds * 1000;
await Promise.all(
  Array.from({ length: threads }, async (_, i) => {
    while (performance.now() < end) {
      await hash(`password-${i}-${n}`, params);
      n++;
    }
  }),
);
const elapsed = (performance.now() - started) / 1000;
process.stdout.write(`${JSON.stringify({ perSecond: n / elapsed, msPerHash: (elapsed * 1000 * threads) / n, threads })}\n`);
