import { randomBytes } from 'node:crypto';
import { Algorithm } from '@node-rs/argon2';
import { HasherOverloadedError } from '../../kernel/errors.js';
import { HashThreads, type HashJob, type HashRunner, type PaddingStep } from './hash-threads.js';

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

const BCRYPT = /^\$2[aby]\$(\d\d)\$/;

/**
 * The highest bcrypt cost verified (`warden user import` refuses higher ones). Each step doubles a
 * check's time, and every failed login of every account is padded to the highest cost stored, so an
 * unbounded cost in one imported row would be a denial of service.
 */
export const BCRYPT_MAX_COST = 13;

/**
 * A well-formed bcrypt hash (of a random string, at cost 04) whose cost field is rewritten to the
 * padding cost: verifying anything against it costs a full bcrypt check at that cost, and never matches.
 */
const BCRYPT_DUMMY = '$2b$04$sihXj93EwZPz2hJtV.u2o.b6RL6gFf1WapAbEEk077u6YUtywcnf.';

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
  private bcryptPadCost: number | undefined;

  /** `threads`: where jobs run; HashThreads unless a test records them. */
  constructor(
    private readonly opts: HasherOptions,
    private readonly threads: HashRunner = new HashThreads(),
  ) {}

  /**
   * The highest bcrypt cost among stored hashes (undefined: none), which every failed check is padded
   * to. Set from the database (UsersService) and raised at once when a check meets a higher one.
   */
  get slowestStoredBcryptCost(): number | undefined {
    return this.bcryptPadCost;
  }

  set slowestStoredBcryptCost(cost: number | undefined) {
    this.bcryptPadCost = cost === undefined ? undefined : Math.min(cost, BCRYPT_MAX_COST);
  }

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
   *
   * Every failure costs the same, whatever is stored, so response time tells neither whether an
   * account exists nor whether it is an imported bcrypt one (a bcrypt check at cost 12 takes ~10x an
   * argon2id one): one argon2id check and one bcrypt check at the highest stored cost, the real one
   * among them where there is one. An unknown user is checked against a dummy argon2id hash. The padding
   * runs in the same job on the hashing thread, only after a mismatch: a correct password is not slowed,
   * the event loop never runs it, and the job takes its one place in the queue before any check, so
   * shedding (503) still happens before anything is checked — never between a check and its padding.
   * A bcrypt account of a lower cost than the highest pays its own check on top (it is rehashed to
   * argon2id at its next sign-in anyway).
   */
  async verify(stored: string | undefined, password: string): Promise<VerifyResult> {
    const bcrypt = stored === undefined ? null : BCRYPT.exec(stored);
    const cost = bcrypt ? Number(bcrypt[1]) : undefined;
    if (stored !== undefined && cost !== undefined && cost <= BCRYPT_MAX_COST) {
      if (this.bcryptPadCost === undefined || cost > this.bcryptPadCost) this.bcryptPadCost = cost;
      const pad: PaddingStep[] = [{ op: 'verify', stored: await this.dummyHash() }];
      if (cost < this.bcryptPadCost) pad.push(...this.bcryptPad());
      const ok = (await this.slot({ op: 'bcrypt', stored: stored.replace(/^\$2y\$/, '$2b$'), password, pad })) === true;
      return { ok, needsRehash: ok };
    }
    if (stored !== undefined && stored.startsWith('$argon2')) {
      const ok = (await this.slot({ op: 'verify', stored, password, pad: this.bcryptPad() })) === true;
      const current = `$argon2id$v=19$m=${this.opts.memoryKib},t=${this.opts.iterations},p=1$`;
      return { ok, needsRehash: ok && !stored.startsWith(current) };
    }
    // No account, or a hash of no accepted kind: the argon2id failure path, against a dummy.
    await this.slot({ op: 'verify', stored: await this.dummyHash(), password, pad: this.bcryptPad() });
    return { ok: false, needsRehash: false };
  }

  private bcryptPad(): PaddingStep[] {
    const cost = this.bcryptPadCost;
    return cost === undefined ? [] : [{ op: 'bcrypt', stored: `$2b$${String(cost).padStart(2, '0')}${BCRYPT_DUMMY.slice(6)}` }];
  }

  /** An argon2id hash at the current parameters of a random string nobody can type. */
  private dummyHash(): Promise<string> {
    return (this.dummy ??= this.hash(randomBytes(32).toString('base64url')).catch((e: unknown) => {
      this.dummy = undefined;
      throw e;
    }));
  }

  /** Stop the hashing threads (server shutdown). */
  close() {
    return this.threads.close();
  }
}

declare module '../../kernel/warden.js' {
  interface Warden {
    readonly hasher: PasswordHasher;
  }
}
