import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Threads that run argon2id and bcrypt at the lowest CPU priority (nice 19, Linux).
 *
 * Why not libuv's pool (`@node-rs/argon2`'s async API): a hash there competes for the CPU on equal terms
 * with the event loop, PostgreSQL and everything else, so on a small machine either fewer threads hash
 * than there are cores (logins slower) or the loop waits behind hashes (every other request slower).
 * A niced thread gets the CPU after everything else: every core can hash, and a request that arrives
 * meanwhile is served first. Where the priority cannot be lowered (no /proc/thread-self, i.e. not
 * Linux) the threads run at normal priority and the config's default leaves the loop a core.
 *
 * Threads start on first use and stop after `idleMs` (a minute) without work, so an idle server carries none.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
try {
  const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
  require('node:os').setPriority(tid, 19);
} catch {}
const argon2 = require(workerData.argon2);
const bcrypt = require(workerData.bcrypt);
parentPort.postMessage('ready');
const check = (op, stored, password) => (op === 'verify' ? argon2.verifySync(stored, password) : bcrypt.verifySync(password, stored));
parentPort.on('message', (job) => {
  let result = false;
  let padded = 0;
  try {
    if (job.op === 'hash') result = argon2.hashSync(job.password, job.params);
    else result = check(job.op, job.stored, job.password);
  } catch (e) {
    if (job.op === 'hash') result = { error: String(e && e.message) };
  }
  if (result !== true && job.pad) {
    for (const p of job.pad) {
      try { check(p.op, p.stored, job.password); } catch {}
      padded++;
    }
  }
  parentPort.postMessage({ result, padded });
});
`;

const require = createRequire(import.meta.url);

/** A check run only after a mismatch, its result ignored: it makes every failure cost the same (password-hasher.ts). */
export interface PaddingStep {
  op: 'verify' | 'bcrypt';
  stored: string;
}

export type HashJob =
  | { op: 'hash'; password: string; params: object }
  | { op: 'verify' | 'bcrypt'; stored: string; password: string; pad?: PaddingStep[] };

/** What runs hash jobs: HashThreads, or in tests anything that records them. */
export interface HashRunner {
  run(job: HashJob): Promise<string | boolean>;
  close(): Promise<void>;
}

interface Thread {
  worker: Worker;
  ready: Promise<void>;
  idle?: NodeJS.Timeout;
}

export class HashThreads implements HashRunner {
  /** Padding checks run after mismatches so far (metrics, tests). */
  padded = 0;
  private readonly free: Thread[] = [];
  private all = new Set<Thread>();
  private closed = false;

  /** `idleMs`: a thread without work for this long stops (an idle server carries no hashing threads). */
  constructor(private readonly idleMs = 60_000) {}

  /** Run one job on a thread of its own. The caller bounds how many run at once. */
  async run(job: HashJob): Promise<string | boolean> {
    if (this.closed) throw new Error('hash threads are closed');
    const thread = this.free.pop() ?? this.spawn();
    clearTimeout(thread.idle);
    await thread.ready;
    try {
      const result = await new Promise<unknown>((resolve, reject) => {
        const onExit = () => reject(new Error('hash thread exited'));
        thread.worker.once('exit', onExit);
        thread.worker.once('message', (m) => {
          thread.worker.off('exit', onExit);
          resolve(m);
        });
        thread.worker.postMessage(job);
      });
      const { result: value, padded } = result as { result: string | boolean | { error: string }; padded: number };
      this.padded += padded;
      if (typeof value === 'object' && value !== null) throw new Error(`argon2: ${value.error}`);
      return value;
    } finally {
      if (this.all.has(thread)) {
        thread.idle = setTimeout(() => this.retire(thread), this.idleMs).unref();
        this.free.push(thread);
      }
    }
  }

  get size() {
    return this.all.size;
  }

  async close() {
    this.closed = true;
    const threads = [...this.all];
    this.all.clear();
    this.free.length = 0;
    await Promise.all(threads.map((t) => (clearTimeout(t.idle), t.worker.terminate())));
  }

  private spawn(): Thread {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { argon2: require.resolve('@node-rs/argon2'), bcrypt: require.resolve('@node-rs/bcrypt') },
      // A hashing thread needs little JavaScript heap; keep its young generation small.
      resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 },
      env: {},
      stdout: false,
      stderr: false,
    });
    worker.unref();
    const ready = new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    const thread: Thread = { worker, ready };
    worker.on('error', () => this.forget(thread));
    worker.on('exit', () => this.forget(thread));
    this.all.add(thread);
    return thread;
  }

  private retire(thread: Thread) {
    this.forget(thread);
    void thread.worker.terminate();
  }

  private forget(thread: Thread) {
    this.all.delete(thread);
    const i = this.free.indexOf(thread);
    if (i >= 0) this.free.splice(i, 1);
  }
}
