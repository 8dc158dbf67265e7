import { createHash, randomBytes } from 'node:crypto';
import { and, eq, isNotNull, isNull, lt } from 'drizzle-orm';
import type { AuditLog, RequestContext } from '../audit/audit-log.js';
import type { Clock } from '../../kernel/clock.js';
import type { Config } from '../../kernel/config/load.js';
import { conflict, unprocessable } from '../../kernel/errors.js';
import type { Db } from '../../kernel/storage/database.js';
import { Keyring, sealedAt } from '../../kernel/storage/encryption.js';
import { mfaRecoveryCodes, mfaTotp } from './tables.js';
import type { StateStore } from '../../kernel/storage/state/store.js';
import type { PasswordHasher } from '../users/password-hasher.js';
import { findUserById, type UserRecord } from '../users/repository.js';
import { LoginError, voidResetLinks, type UsersService } from '../users/service.js';

/** The settings of two-step verification (the keyring's, when none is given, included). */
export type MfaSettings = Pick<Config, 'REQUIRE_ADMIN_MFA' | 'issuer' | 'encryptionKeys' | 'SECRET_KEY' | 'NODE_ENV'>;

/** otplib is loaded with the first MFA enrolment or check: most servers idle without either. */
let otplibModule: Promise<typeof import('./totp.js')> | undefined;
const otplib = () => (otplibModule ??= import('./totp.js'));

/** RFC 6238 defaults every authenticator app understands: SHA-1, 6 digits, 30-second steps. */
const STEP_MS = 30_000;
/** One step either side: a phone clock a little off, or a code typed just as it rolled over. */
const WINDOW = 1;
export const RECOVERY_CODE_COUNT = 10;
/** Wrong codes per user in FAILURE_WINDOW_MS before every code is refused until the window ends. */
const MAX_FAILURES = 10;
const FAILURE_WINDOW_MS = 15 * 60_000;

/** What a login must do about MFA for this user. */
export type MfaRequirement = 'none' | 'totp' | 'enrollment_required';

export type MfaFailureReason = 'wrong_code' | 'replay' | 'not_enrolled' | 'locked' | 'too_many_failures';

/** 16 characters from a 32-letter alphabet without look-alikes (l, o, 0, 1): 80 random bits. */
const RECOVERY_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';

function newRecoveryCode(): string {
  const bytes = randomBytes(16);
  let s = '';
  for (let i = 0; i < 16; i++) s += RECOVERY_ALPHABET[bytes[i]! & 31];
  return `${s.slice(0, 4)}-${s.slice(4, 8)}-${s.slice(8, 12)}-${s.slice(12)}`;
}

function normaliseCode(code: string): string {
  return code.replace(/[\s-]/g, '').toLowerCase();
}

/** 80-bit codes: a fast hash is enough (no offline guessing), and lookup is one indexed query. */
function hashRecoveryCode(code: string): string {
  return createHash('sha256').update(normaliseCode(code)).digest('base64url');
}

export const invalidCode = () => unprocessable('invalid_code', 'the code is not valid', [{ field: 'code', message: 'is not valid' }]);

/**
 * TOTP (RFC 6238) second factor with single-use recovery codes.
 *
 * `isEnrolled` and `verify` are the interface the login flows use (password grant, /authorize, the
 * admin console). A TOTP code is accepted once: the step it belongs to must be above mfa_totp.last_step
 * (updated atomically) and is also claimed in the shared state store, so two instances cannot both
 * accept it. Wrong codes are audited, count towards the account lockout (the LoginGuards' `failed`),
 * and more than MAX_FAILURES in 15 minutes refuse every code for that user until the window ends.
 */
export class MfaService {
  constructor(
    private readonly db: Db,
    private readonly config: MfaSettings,
    private readonly clock: Clock,
    private readonly state: StateStore,
    private readonly audit: AuditLog,
    private readonly hasher: PasswordHasher,
    private readonly users: UsersService,
    /** TOTP secrets are stored sealed (src/kernel/storage/encryption.ts): a database dump must not yield second factors. */
    private readonly keyring: Keyring = Keyring.fromConfig(config),
  ) {}

  private now() {
    return new Date(this.clock.now());
  }

  async isEnrolled(userId: string): Promise<boolean> {
    const [row] = await this.db.select({ confirmedAt: mfaTotp.confirmedAt }).from(mfaTotp).where(eq(mfaTotp.userId, userId)).limit(1);
    return Boolean(row?.confirmedAt);
  }

  /**
   * REQUIRE_ADMIN_MFA=true: an admin without confirmed TOTP gets `enrollment_required` and cannot
   * sign in (enrol while signed in, or before being given the admin role).
   */
  async requirement(user: UserRecord & { mfaEnrolled?: boolean }): Promise<MfaRequirement> {
    // A user read by a login carries it (findUserByLogin, the same query); any other record asks.
    if (typeof user.mfaEnrolled === 'boolean' ? user.mfaEnrolled : await this.isEnrolled(user.id)) return 'totp';
    if (this.config.REQUIRE_ADMIN_MFA && user.roles.includes('admin')) return 'enrollment_required';
    return 'none';
  }

  async recoveryCodesLeft(userId: string): Promise<number> {
    const rows = await this.db
      .select({ id: mfaRecoveryCodes.id })
      .from(mfaRecoveryCodes)
      .where(and(eq(mfaRecoveryCodes.userId, userId), isNull(mfaRecoveryCodes.usedAt)));
    return rows.length;
  }

  /** A new secret (shown once). Replaces a pending, unconfirmed one; refused while TOTP is active. */
  async beginEnrolment(user: UserRecord): Promise<{ secret: string; otpauthUri: string }> {
    const { authenticator } = await otplib();
    const secret = authenticator.generateSecret(20); // 160 bits, RFC 4226 §4's recommendation
    const sealed = this.keyring.seal(secret, sealedAt.totpSecret(user.id));
    const now = this.now();
    const rows = await this.db
      .insert(mfaTotp)
      .values({ userId: user.id, secret: sealed, confirmedAt: null, lastStep: 0, createdAt: now })
      .onConflictDoUpdate({ target: mfaTotp.userId, set: { secret: sealed, confirmedAt: null, lastStep: 0, createdAt: now }, setWhere: isNull(mfaTotp.confirmedAt) })
      .returning({ userId: mfaTotp.userId });
    if (!rows.length) throw conflict('mfa_already_enabled', 'TOTP is already enabled; remove it before enrolling another device');
    const label = new URL(this.config.issuer).host;
    return { secret, otpauthUri: authenticator.keyuri(user.email, `Warden (${label})`, secret) };
  }

  /** The first code proves the app has the secret; answers the recovery codes (shown once, stored hashed). */
  async confirmEnrolment(user: UserRecord, code: string, ctx: RequestContext): Promise<string[]> {
    const [row] = await this.db.select().from(mfaTotp).where(eq(mfaTotp.userId, user.id)).limit(1);
    if (!row) throw conflict('mfa_not_started', 'start with POST /users/me/mfa/totp');
    if (row.confirmedAt) throw conflict('mfa_already_enabled', 'TOTP is already enabled');
    const step = await this.matchStep(this.keyring.open(row.secret, sealedAt.totpSecret(user.id)), code);
    if (step === undefined) {
      await this.audit.record(this.db, { type: 'mfa.failed', subjectId: user.id, details: { reason: 'wrong_code', stage: 'confirm' } }, ctx);
      throw invalidCode();
    }
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    const now = this.now();
    await this.db.transaction(async (tx) => {
      const done = await tx
        .update(mfaTotp)
        .set({ confirmedAt: now, lastStep: step })
        .where(and(eq(mfaTotp.userId, user.id), isNull(mfaTotp.confirmedAt), eq(mfaTotp.secret, row.secret)))
        .returning({ userId: mfaTotp.userId });
      if (!done.length) throw conflict('mfa_enrolment_changed', 'the enrolment changed meanwhile; start again');
      await tx.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, user.id));
      await tx.insert(mfaRecoveryCodes).values(codes.map((c) => ({ userId: user.id, codeHash: hashRecoveryCode(c) })));
      await this.audit.record(tx, { type: 'mfa.enrolled', subjectId: user.id, details: { method: 'totp', recovery_codes: codes.length } }, { ...ctx, actorId: user.id });
    });
    await this.state.setIfAbsent(`mfa:totp-used:${user.id}:${step}`, '1', STEP_MS * (2 * WINDOW + 2));
    return codes;
  }

  /** Turn TOTP off with a current code (or recovery code) or the password. A pending enrolment is simply dropped. */
  async remove(user: UserRecord, proof: { code?: string | undefined; password?: string | undefined }, ctx: RequestContext): Promise<void> {
    const [row] = await this.db.select({ confirmedAt: mfaTotp.confirmedAt }).from(mfaTotp).where(eq(mfaTotp.userId, user.id)).limit(1);
    if (!row) throw conflict('mfa_not_enabled', 'TOTP is not enabled');
    let by: string = 'pending_enrolment';
    if (row.confirmedAt) {
      if (proof.code !== undefined) {
        if (!(await this.verify(user.id, proof.code, ctx))) throw invalidCode();
        by = 'code';
      } else if (proof.password !== undefined) {
        // Through the users service: the same lockout as a login guards this password check.
        if (!(await this.users.confirmPassword(user, proof.password, ctx))) {
          await this.audit.record(this.db, { type: 'mfa.failed', subjectId: user.id, details: { reason: 'wrong_password', stage: 'remove' } }, ctx);
          throw unprocessable('wrong_password', 'password is not correct', [{ field: 'password', message: 'is not correct' }]);
        }
        by = 'password';
      } else {
        throw unprocessable('proof_required', 'send {code} or {password}', [{ field: 'code', message: 'or password is required' }]);
      }
    }
    await this.db.transaction(async (tx) => {
      await tx.delete(mfaTotp).where(eq(mfaTotp.userId, user.id));
      await tx.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, user.id));
      if (row.confirmedAt) await voidResetLinks(tx, user.id, this.now());
      if (row.confirmedAt) await this.audit.record(tx, { type: 'mfa.removed', subjectId: user.id, details: { method: 'totp', by } }, { ...ctx, actorId: user.id });
    });
  }

  /**
   * Is `code` a valid second factor for the user right now: a TOTP code not used before, or an unused
   * recovery code (then used up)? False for anything else, including a locked account. Every false is
   * audited as mfa.failed and counted towards the lockout. `login` is what the user typed to sign in
   * (lockout guards key on it); the username by default.
   */
  async verify(userId: string, code: string, ctx: RequestContext, opts: { login?: string } = {}): Promise<boolean> {
    const user = await findUserById(this.db, userId);
    if (!user) return false;
    const login = opts.login ?? user.username;
    try {
      for (const g of this.users.loginGuards) await g.before(login, user, ctx, 'second_factor');
    } catch (e) {
      if (!(e instanceof LoginError)) throw e;
      await this.failed(user, login, 'locked', ctx, false);
      return false;
    }
    const failures = Number((await this.state.get(`mfa:failures:${userId}`)) ?? 0);
    if (failures >= MAX_FAILURES) {
      await this.failed(user, login, 'too_many_failures', ctx, false);
      return false;
    }
    const [row] = await this.db.select().from(mfaTotp).where(and(eq(mfaTotp.userId, userId), isNotNull(mfaTotp.confirmedAt))).limit(1);
    if (!row) {
      await this.failed(user, login, 'not_enrolled', ctx, false);
      return false;
    }
    const normalised = normaliseCode(code);
    if (/^\d{6}$/.test(normalised)) {
      const step = await this.matchStep(this.keyring.open(row.secret, sealedAt.totpSecret(userId)), normalised);
      if (step === undefined) return this.failed(user, login, 'wrong_code', ctx);
      // Claimed in the shared store first (another instance may be checking the same code right now) …
      if (!(await this.state.setIfAbsent(`mfa:totp-used:${userId}:${step}`, '1', STEP_MS * (2 * WINDOW + 2)))) {
        return this.failed(user, login, 'replay', ctx);
      }
      // … and in the database, which also refuses an older code of the same window (RFC 6238 §5.2).
      const moved = await this.db
        .update(mfaTotp)
        .set({ lastStep: step })
        .where(and(eq(mfaTotp.userId, userId), lt(mfaTotp.lastStep, step)))
        .returning({ userId: mfaTotp.userId });
      if (!moved.length) return this.failed(user, login, 'replay', ctx);
      return this.succeeded(user, ctx);
    }
    if (normalised.length === 16) {
      const [used] = await this.db
        .update(mfaRecoveryCodes)
        .set({ usedAt: this.now() })
        .where(and(eq(mfaRecoveryCodes.userId, userId), eq(mfaRecoveryCodes.codeHash, hashRecoveryCode(normalised)), isNull(mfaRecoveryCodes.usedAt)))
        .returning({ id: mfaRecoveryCodes.id });
      if (used) {
        const remaining = await this.recoveryCodesLeft(userId);
        await this.audit.record(this.db, { type: 'mfa.recovery_code_used', subjectId: userId, flagged: remaining <= 2, details: { remaining } }, ctx);
        return this.succeeded(user, ctx);
      }
    }
    return this.failed(user, login, 'wrong_code', ctx);
  }

  /** The TOTP step `code` belongs to within the window, or undefined. Compared by otplib; digits only. */
  private async matchStep(secret: string, code: string): Promise<number | undefined> {
    const { authenticator } = await otplib();
    const now = this.clock.now();
    const normalised = normaliseCode(code);
    if (!/^\d{6}$/.test(normalised)) return undefined;
    const delta = authenticator.clone({ epoch: now, window: WINDOW, step: STEP_MS / 1000 }).checkDelta(normalised, secret);
    if (delta === null) return undefined;
    return Math.floor(now / STEP_MS) + delta;
  }

  /** Only a correct second factor clears the second-factor failure counts (the lockout's and this service's). */
  private async succeeded(user: UserRecord, ctx: RequestContext): Promise<true> {
    await this.state.delete(`mfa:failures:${user.id}`);
    for (const g of this.users.loginGuards) await g.succeeded(user, ctx, 'second_factor');
    return true;
  }

  private async failed(user: UserRecord, login: string, reason: MfaFailureReason, ctx: RequestContext, count = true): Promise<false> {
    await this.audit.record(this.db, { type: 'mfa.failed', subjectId: user.id, details: { reason } }, ctx);
    if (count) await this.countFailure(user, login, ctx);
    return false;
  }

  /**
   * A wrong second factor is a failed login for the lockout, counted as a second-factor failure: a
   * correct password does not clear it, so guessing codes between password logins escalates to a lock.
   * The per-user counter here caps the codes tried in FAILURE_WINDOW_MS on top of that.
   */
  private async countFailure(user: UserRecord, login: string, ctx: RequestContext) {
    await this.state.increment(`mfa:failures:${user.id}`, FAILURE_WINDOW_MS);
    for (const g of this.users.loginGuards) await g.failed(login, user, 'bad_password', ctx, 'second_factor');
  }
}

declare module '../../kernel/warden.js' {
  interface Warden {
    /** TOTP second factor: isEnrolled / verify for every login surface. */
    readonly mfa: MfaService;
  }
}
