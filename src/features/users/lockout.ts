import { createHash } from 'node:crypto';
import type { AuditLog, RequestContext } from '../audit/audit-log.js';
import type { Config } from '../../kernel/config/load.js';
import type { Metrics } from '../../platform/metrics.js';
import type { Db } from '../../kernel/storage/database.js';
import { StateUnavailableError, type StateStore } from '../../kernel/storage/state/store.js';
import type { UserRecord } from './repository.js';
import { LoginError, loginDigest, type Factor, type LoginFailure, type LoginGuard } from './service.js';

/** The settings of the account lockout. */
export type LockoutSettings = Pick<Config, 'LOCKOUT_MINUTES' | 'LOCKOUT_THRESHOLD'>;

/** ASVS 5.0 V6.3.1 / NIST 800-63B §5.2.2: never more than 100 failed attempts per hour on one account. */
export const MAX_ATTEMPTS_PER_HOUR = 100;
/** How long failures (and the lock level that makes windows grow) are remembered without a success. */
const MEMORY_MS = 24 * 3600_000;
const HOUR_MS = 3600_000;
/** After a lock ends, one guess at a time (per this window) until it fails again or succeeds. */
const PROBE_MS = 60_000;
const MAX_LOCK_MS = 24 * 3600_000;
const MAX_SLOWDOWN_MS = 60_000;

interface Logger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/**
 * What a key is about: the login as typed (covers unknown names too), the account behind it (password
 * failures), or the account's second factor (wrong TOTP or recovery codes).
 */
type Subject = { kind: 'login'; login: string } | { kind: 'user'; id: string } | { kind: 'factor'; id: string };

/**
 * Per-account brute-force protection, independent of the client's IP (a botnet rotating addresses
 * still meets it). Every attempt on an account is counted by one atomic increment before the password
 * is checked, so N concurrent guesses cannot all pass a "fewer than threshold" check that was read
 * before any of them failed. Counted under the login as typed (normalised) AND the account's id, so
 * alternating username and e-mail does not double the budget, and unknown logins lock the same way
 * (a lock says nothing about whether the account exists).
 *
 *  - from half the threshold on, each failure imposes a growing pause (1 s, 2 s, 4 s …, at most 60 s);
 *  - at LOCKOUT_THRESHOLD failures the account locks for LOCKOUT_MINUTES, doubling at each further
 *    lock within 24 h (at most 24 h); after a lock, one guess at a time until success or a new lock;
 *  - never more than MAX_ATTEMPTS_PER_HOUR attempts per hour, whatever the settings;
 *  - a success or an admin's unlock clears it; `account.locked` / `account.unlocked` are audited.
 *
 * Second-factor failures are counted under a key of their own, with the same thresholds: a correct
 * password clears the password counts only, so someone who has the password and guesses TOTP codes
 * between password logins still escalates to a lock. Only a correct second factor (or an unlock)
 * clears them. While either side is locked or paused, both the password and the code are refused.
 *
 * Refusals raise LoginError('locked'), which every login surface answers exactly like a wrong
 * password. When the state store is unhealthy the guard fails closed: logins are refused, because a
 * lockout that silently stops counting is a free brute-force window.
 */
export class AccountLockout implements LoginGuard {
  log: Logger | undefined;

  constructor(
    private readonly state: StateStore,
    private readonly db: Db,
    private readonly config: LockoutSettings,
    private readonly audit: AuditLog,
    private readonly metrics: Metrics,
  ) {}

  private key(s: Subject) {
    if (s.kind === 'user') return `lockout:u:${s.id}`;
    if (s.kind === 'factor') return `lockout:f:${s.id}`;
    // Hashed: bounded key size, and no raw login (often an e-mail address) in a shared Redis.
    const norm = s.login.trim().normalize('NFKC').toLowerCase();
    return `lockout:l:${createHash('sha256').update(norm).digest('base64url')}`;
  }

  private get slowAfter() {
    return Math.max(1, Math.ceil(this.config.LOCKOUT_THRESHOLD / 2));
  }

  /** The keys an attempt on `factor` counts under. */
  private subjects(login: string, user: UserRecord | undefined, factor: Factor): Subject[] {
    if (factor === 'second_factor') return user ? [{ kind: 'factor', id: user.id }] : [];
    const out: Subject[] = [{ kind: 'login', login }];
    if (user) out.push({ kind: 'user', id: user.id });
    return out;
  }

  /** The keys of the other factor: not counted by this attempt, but a lock or pause there refuses it too. */
  private held(login: string, user: UserRecord | undefined, factor: Factor): string[] {
    if (factor === 'password') return user ? [this.key({ kind: 'factor', id: user.id })] : [];
    return [this.key({ kind: 'login', login }), ...(user ? this.accountKeys(user) : [])];
  }

  private refuse(reason: string, ctx: RequestContext): never {
    this.metrics.lockedOut.inc();
    this.log?.info({ reason, requestId: ctx.requestId }, 'login refused by lockout');
    throw new LoginError('locked', undefined);
  }

  /** Admission: one atomic reservation per key; refuse while locked, paused, or over budget. */
  async before(login: string, user: UserRecord | undefined, ctx: RequestContext, factor: Factor = 'password'): Promise<void> {
    if (!this.state.healthy()) throw new StateUnavailableError();
    try {
      for (const k of this.held(login, user, factor)) {
        if ((await this.state.get(`${k}:until`)) || (await this.state.get(`${k}:slow`))) this.refuse('locked (other factor)', ctx);
      }
      for (const s of this.subjects(login, user, factor)) await this.admit(this.key(s), ctx);
    } catch (e) {
      if (e instanceof LoginError || e instanceof StateUnavailableError) throw e;
      this.log?.warn({ err: e }, 'lockout state unavailable: refusing login');
      this.refuse('state store error', ctx);
    }
  }

  private async admit(k: string, ctx: RequestContext) {
    if (await this.state.get(`${k}:until`)) this.refuse('locked', ctx);
    if (await this.state.get(`${k}:slow`)) this.refuse('slowed', ctx);
    const hour = await this.state.increment(`${k}:hour`, HOUR_MS);
    if (hour.value > MAX_ATTEMPTS_PER_HOUR) this.refuse('hourly limit', ctx);
    const n = await this.state.increment(`${k}:n`, MEMORY_MS);
    if (n.value <= this.config.LOCKOUT_THRESHOLD) return;
    // Past the threshold: either the first lock is being set by the attempts that got in (refuse), or
    // a lock has ended (a level exists): then one guess at a time until it succeeds or locks again.
    if (!(await this.state.get(`${k}:level`))) this.refuse('locking', ctx);
    if (!(await this.state.setIfAbsent(`${k}:probe`, '1', PROBE_MS))) this.refuse('locked (probe in flight)', ctx);
  }

  async failed(login: string, user: UserRecord | undefined, _reason: LoginFailure, ctx: RequestContext, factor: Factor = 'password'): Promise<void> {
    try {
      const locked: Array<{ kind: Subject['kind']; level: number; minutes: number }> = [];
      for (const s of this.subjects(login, user, factor)) {
        const k = this.key(s);
        const n = Number((await this.state.get(`${k}:n`)) ?? 0);
        if (n >= this.config.LOCKOUT_THRESHOLD) {
          const lock = await this.lock(k);
          if (lock) locked.push({ kind: s.kind, ...lock });
        } else if (n >= this.slowAfter) {
          await this.state.set(`${k}:slow`, '1', Math.min(MAX_SLOWDOWN_MS, 1000 * 2 ** (n - this.slowAfter)));
        }
      }
      if (locked.length) {
        this.metrics.accountsLocked.inc();
        const longest = locked.reduce((a, b) => (b.minutes > a.minutes ? b : a));
        await this.audit.record(
          this.db,
          {
            type: 'account.locked',
            subjectId: user?.id ?? null,
            flagged: true,
            details: {
              // The account's name, or for an unknown login only its digest (loginDigest says why).
              ...(user ? { login: user.username } : { login_sha256: loginDigest(login) }),
              keys: locked.map((l) => l.kind),
              level: longest.level,
              minutes: longest.minutes,
            },
          },
          ctx,
        );
      }
    } catch (e) {
      // The next attempt's admission fails closed if the store is really gone.
      this.log?.warn({ err: e }, 'could not record a failed login in the lockout state');
    }
  }

  /** A shed attempt (503) checked no password: give back the reservation `before` took for it. */
  async abandoned(login: string, user: UserRecord | undefined, _ctx: RequestContext): Promise<void> {
    try {
      for (const s of this.subjects(login, user, 'password')) {
        const k = this.key(s);
        for (const [counter, ttlMs] of [[`${k}:n`, MEMORY_MS], [`${k}:hour`, HOUR_MS]] as const) {
          if (Number((await this.state.get(counter)) ?? 0) > 0) await this.state.increment(counter, ttlMs, -1);
        }
      }
    } catch (e) {
      this.log?.warn({ err: e }, 'could not release a shed login from the lockout state');
    }
  }

  /** Start a lock unless one is running (concurrent failures must not skip a doubling). */
  private async lock(k: string): Promise<{ level: number; minutes: number } | undefined> {
    const first = this.config.LOCKOUT_MINUTES * 60_000;
    if (!(await this.state.setIfAbsent(`${k}:until`, '1', first))) return undefined;
    const level = (await this.state.increment(`${k}:level`, MEMORY_MS)).value;
    const ms = Math.min(MAX_LOCK_MS, first * 2 ** (level - 1));
    if (ms !== first) await this.state.set(`${k}:until`, String(level), ms);
    await this.state.delete(`${k}:probe`);
    return { level, minutes: Math.round(ms / 60_000) };
  }

  async succeeded(user: UserRecord, _ctx: RequestContext, factor: Factor = 'password'): Promise<void> {
    try {
      await this.reset(user, factor === 'second_factor');
    } catch (e) {
      this.log?.warn({ err: e }, 'could not reset the lockout state after a successful login');
    }
  }

  /** The account's state keys: under its id, its username and its e-mail address. */
  private accountKeys(user: Pick<UserRecord, 'id' | 'username' | 'email'>): string[] {
    return [this.key({ kind: 'user', id: user.id }), this.key({ kind: 'login', login: user.username }), this.key({ kind: 'login', login: user.email })];
  }

  /** The password counters of the account and, with `secondFactor`, its second-factor ones: one state-store call. */
  private reset(user: Pick<UserRecord, 'id' | 'username' | 'email'>, secondFactor: boolean) {
    const keys = secondFactor ? [...this.accountKeys(user), this.key({ kind: 'factor', id: user.id })] : this.accountKeys(user);
    return this.state.delete(...keys.flatMap((k) => ['n', 'until', 'level', 'slow', 'probe', 'hour'].map((part) => `${k}:${part}`)));
  }

  private allKeys(user: Pick<UserRecord, 'id' | 'username' | 'email'>) {
    return [...this.accountKeys(user), this.key({ kind: 'factor', id: user.id })];
  }

  private async clearUser(user: Pick<UserRecord, 'id' | 'username' | 'email'>) {
    let wasLocked = false;
    for (const k of this.allKeys(user)) if (await this.state.get(`${k}:until`)) wasLocked = true;
    await this.reset(user, true);
    return wasLocked;
  }

  /** Is this account (by id, username or e-mail, or its second factor) locked or paused now? */
  async isLocked(user: Pick<UserRecord, 'id' | 'username' | 'email'>): Promise<boolean> {
    for (const k of this.allKeys(user)) if ((await this.state.get(`${k}:until`)) || (await this.state.get(`${k}:slow`))) return true;
    return false;
  }

  /** An admin's unlock: clears every counter of the account; audited as account.unlocked. */
  async unlock(user: Pick<UserRecord, 'id' | 'username' | 'email'>, actorId: string, ctx: RequestContext): Promise<{ wasLocked: boolean }> {
    const wasLocked = await this.clearUser(user);
    await this.audit.record(this.db, { type: 'account.unlocked', actorId, subjectId: user.id, details: { was_locked: wasLocked } }, ctx);
    return { wasLocked };
  }
}

declare module '../../kernel/warden.js' {
  interface Warden {
    /** Per-account brute-force protection (a LoginGuard on users). */
    readonly lockout: AccountLockout;
  }
}
