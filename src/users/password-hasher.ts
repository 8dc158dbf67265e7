import { Algorithm } from '@node-rs/argon2';
import { HashThreads, type HashJob } from './hash-threads.js';

export class HasherOverloadedError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('password hashing queue is full');
    this.name = 'HasherOverloadedError';
  }
}

export interface HasherOptions {
  concurrency: number;
  queueLimit: number;
  memoryKib: number;
  iterations: number;
}

export interface VerifyResult {
  ok: boolean;
  /** The stored hash is not argon2id with the current parameters: store `hash(password)` instead. */
  needsRehash: boolean;
}

const BCRYPT = /^\$2[aby]\$\d\d\$/;

/**
 * argon2id (OWASP: m=19456 KiB, t=2, p=1) on low-priority threads of its own (hash-threads.ts), never
 * the event loop. At most `concurrency` hashes run at once; up to `queueLimit` wait;
 * beyond that callers get HasherOverloadedError, which routes answer with 503 + Retry-After,
 * so latency stays bounded under a login flood instead of growing without limit.
 */
export class PasswordHasher {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private dummy: Promise<string> | undefined;
  private avgMs = 15;
  private readonly threads = new HashThreads();

  constructor(private readonly opts: HasherOptions) {}

  get params() {
    return { algorithm: Algorithm.Argon2id, memoryCost: this.opts.memoryKib, timeCost: this.opts.iterations, parallelism: 1 };
  }

  /** How many are hashing or queued (metrics, tests). */
  get load() {
    return { running: this.running, waiting: this.waiting.length };
  }

  /**
   * Throws HasherOverloadedError when a hash asked for now would be refused. A login checks this first,
   * before its database lookup and lockout bookkeeping: under a login flood the refusals must cost next
   * to nothing, or answering them takes the CPU the hashing threads need (at nice 19 they yield to
   * it) and fewer logins get through than without the flood.
   */
  assertCapacity() {
    if (this.running >= this.opts.concurrency && this.waiting.length >= this.opts.queueLimit) {
      throw new HasherOverloadedError(Math.max(1, Math.ceil(((this.waiting.length / this.opts.concurrency) * this.avgMs) / 1000)));
    }
  }

  private async slot(job: HashJob): Promise<string | boolean> {
    if (this.running >= this.opts.concurrency) {
      this.assertCapacity();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    const started = performance.now();
    try {
      return await this.threads.run(job);
    } finally {
      this.avgMs = this.avgMs * 0.9 + (performance.now() - started) * 0.1;
      const next = this.waiting.shift();
      // Hand the slot straight to the next waiter; `running` stays the same.
      if (next) next();
      else this.running--;
    }
  }

  async hash(password: string): Promise<string> {
    return String(await this.slot({ op: 'hash', password, params: this.params }));
  }

  /**
   * Verify against argon2id or an imported bcrypt hash ($2a$/$2b$/$2y$, as passlib writes them).
   * `stored` undefined (unknown user) still costs one full argon2 verification against a dummy hash,
   * so response time does not reveal whether an account exists.
   */
  async verify(stored: string | undefined, password: string): Promise<VerifyResult> {
    if (stored === undefined) {
      const dummy = await (this.dummy ??= this.hash('warden-dummy-password-for-timing').catch((e: unknown) => {
        this.dummy = undefined;
        throw e;
      }));
      await this.slot({ op: 'verify', stored: dummy, password });
      return { ok: false, needsRehash: false };
    }
    if (BCRYPT.test(stored)) {
      const ok = (await this.slot({ op: 'bcrypt', stored: stored.replace(/^\$2y\$/, '$2b$'), password })) === true;
      return { ok, needsRehash: ok };
    }
    if (!stored.startsWith('$argon2')) return { ok: false, needsRehash: false };
    const ok = (await this.slot({ op: 'verify', stored, password })) === true;
    const current = `$argon2id$v=19$m=${this.opts.memoryKib},t=${this.opts.iterations},p=1$`;
    return { ok, needsRehash: ok && !stored.startsWith(current) };
  }

  /** Stop the hashing threads (server shutdown). */
  close() {
    return this.threads.close();
  }
}
