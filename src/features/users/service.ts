import { createHash } from 'node:crypto';
import { invalidateAccountTokens } from '../account/account-tokens.js';
import type { AuditLog, RequestContext } from '../audit/audit-log.js';
import type { Clock } from '../../kernel/clock.js';
import type { Config } from '../../kernel/config/load.js';
import { conflict, notFound, ProblemError, unprocessable } from '../../kernel/errors.js';
import { DEFAULT_ROLE } from '../access/roles.js';
import type { Db, Executor } from '../../kernel/storage/database.js';
import { isUniqueViolation, sqlState } from '../../kernel/storage/errors.js';
import { eq } from 'drizzle-orm';
import { endSessions, type EndReason, type Ended } from '../sessions/repository.js';
import { consoleSessions } from '../console/tables.js';
import { HasherOverloadedError } from '../../kernel/errors.js';
import type { PasswordHasher } from './password-hasher.js';
import { isBreached } from './breached-passwords.js';
import { checkPassword } from './password-policy.js';
import {
  emailKey,
  findUserByEmailKey,
  findUserById,
  findUserByLogin,
  highestStoredBcryptCost,
  insertUser,
  listUsers,
  setUserRoles,
  updateUser,
  type LoginUser,
  type UserQuery,
  type UserRecord,
} from './repository.js';
import type { UserOut } from './schemas.js';
import type { UserCache } from './user-cache.js';

/** The settings the users service reads: the password policy and sign-in with an unverified e-mail. */
export type UsersSettings = Pick<Config, 'BREACHED_PASSWORDS_FILE' | 'PASSWORD_MIN_LENGTH' | 'PASSWORD_POLICY' | 'REQUIRE_VERIFIED_EMAIL'>;

export function toUserOut(u: UserRecord): UserOut {
  return {
    id: u.id,
    username: u.username,
    email: u.email,
    full_name: u.fullName,
    roles: u.roles,
    disabled: u.disabled,
    email_verified: u.emailVerified,
    ...(u.pendingEmail !== null ? { pending_email: u.pendingEmail } : {}),
    created_at: u.createdAt.toISOString(),
  };
}

/**
 * What audit events, log lines and alerts keep of a typed login that names no account: a short hash,
 * never the text (it is often a password typed into the username box). Monitoring can still count
 * distinct targets by it.
 */
export function loginDigest(login: string): string {
  return createHash('sha256').update(login.toLowerCase()).digest('hex').slice(0, 16);
}

/** Why a login failed; logged and audited, never shown beyond "invalid credentials". */
export type LoginFailure = 'unknown_user' | 'bad_password' | 'disabled' | 'locked' | 'unverified_email';

export class LoginError extends Error {
  constructor(
    readonly reason: LoginFailure,
    readonly user: UserRecord | undefined,
  ) {
    super(`login failed: ${reason}`);
    this.name = 'LoginError';
  }
}

export interface NewUserInput {
  username: string;
  email: string;
  password: string;
  fullName?: string | null | undefined;
  roles?: readonly string[];
  emailVerified?: boolean;
}

/**
 * Which credential an attempt checks. The lockout counts second-factor failures apart from password
 * failures, so that a correct password (which an attacker guessing TOTP codes already has) cannot
 * clear them: only a correct second factor does.
 */
export type Factor = 'password' | 'second_factor';

/** Hooks other capabilities attach to (lockout, metrics) without the service knowing them. `factor`: 'password' when absent. */
export interface LoginGuard {
  /** Throw LoginError('locked') to refuse before the credential is even checked. `user`: who `login` names, if anyone. */
  before(login: string, user: UserRecord | undefined, ctx: RequestContext, factor?: Factor): Promise<void>;
  failed(login: string, user: UserRecord | undefined, reason: LoginFailure, ctx: RequestContext, factor?: Factor): Promise<void>;
  succeeded(user: UserRecord, ctx: RequestContext, factor?: Factor): Promise<void>;
  /** The attempt admitted by `before` was shed (hasher overloaded, 503) before any password was checked. */
  abandoned?(login: string, user: UserRecord | undefined, ctx: RequestContext): Promise<void>;
}

/**
 * Any credential change (password changed or reset, e-mail address changed, MFA removed, a force-logout
 * or disable) voids the password-reset links still outstanding: a link requested before the change
 * (by whoever could read the mailbox then) must not undo it afterwards.
 */
/** How recent a sign-in lets a signed-in user change the e-mail address without typing the password again. */
export const RECENT_SIGN_IN_MS = 5 * 60_000;

export function voidResetLinks(ex: Executor, userId: string, now: Date) {
  return invalidateAccountTokens(ex, userId, 'reset_password', now);
}

/** How often the highest stored bcrypt cost (the padding of failed password checks) is read again. */
const TIMING_PAD_REFRESH_MS = 5 * 60_000;

export class UsersService {
  readonly #loginGuards: LoginGuard[] = [];
  private timingPadReadAt = -Infinity;
  private timingPadRead: Promise<void> | undefined;
  private readonly registeredHooks: Array<(user: UserRecord, ctx: RequestContext) => Promise<void>> = [];
  private readonly emailChangedHooks: Array<(user: UserRecord, ctx: RequestContext) => Promise<void>> = [];

  /** Told of every password check of this instance's users (lockout, metrics), in registration order. */
  addLoginGuard(guard: LoginGuard): void {
    this.#loginGuards.push(guard);
  }

  get loginGuards(): readonly LoginGuard[] {
    return this.#loginGuards;
  }

  /** After a self-registration (the verification mail). */
  onRegistered(hook: (user: UserRecord, ctx: RequestContext) => Promise<void>): void {
    this.registeredHooks.push(hook);
  }

  /** After a change of e-mail address was requested (user.pendingEmail set): the link and the notice are mailed. */
  onEmailChangeRequested(hook: (user: UserRecord, ctx: RequestContext) => Promise<void>): void {
    this.emailChangedHooks.push(hook);
  }

  constructor(
    private readonly db: Db,
    private readonly config: UsersSettings,
    private readonly clock: Clock,
    private readonly hasher: PasswordHasher,
    private readonly cache: UserCache,
    private readonly audit: AuditLog,
  ) {}

  private now() {
    return new Date(this.clock.now());
  }

  get policy() {
    return { minLength: this.config.PASSWORD_MIN_LENGTH, classic: this.config.PASSWORD_POLICY === 'classic' };
  }

  async checkPasswordOrThrow(password: string, ctx: { username?: string | undefined; email?: string | undefined }, field = 'password') {
    const problems = checkPassword(password, this.policy, ctx, field);
    const file = this.config.BREACHED_PASSWORDS_FILE;
    if (!problems.length && file && (await isBreached(file, password))) {
      problems.push({ field, message: 'has appeared in a data breach; choose another' });
    }
    if (problems.length) throw unprocessable('weak_password', `${field} does not meet the password policy`, problems);
  }

  private uniqueViolation(e: unknown): ProblemError | undefined {
    if (!isUniqueViolation(e)) return undefined;
    if (sqlState(e).constraint?.includes('email')) return conflict('email_taken', 'that e-mail address is already registered', 'email');
    return conflict('username_taken', 'that username is taken', 'username');
  }

  async create(input: NewUserInput, ctx: RequestContext, auditType = 'user.registered'): Promise<UserRecord> {
    await this.checkPasswordOrThrow(input.password, { username: input.username, email: input.email });
    const passwordHash = await this.hasher.hash(input.password);
    let user: UserRecord;
    try {
      user = await this.db.transaction(async (tx) => {
        const u = await insertUser(tx, {
          username: input.username,
          email: input.email,
          fullName: input.fullName,
          passwordHash,
          roles: input.roles ?? [DEFAULT_ROLE],
          emailVerified: input.emailVerified,
          now: this.now(),
        });
        await this.audit.record(tx, { type: auditType, subjectId: u.id, details: { username: u.username, roles: u.roles } }, ctx);
        return u;
      });
    } catch (e) {
      throw this.uniqueViolation(e) ?? e;
    }
    for (const hook of this.registeredHooks) await hook(user, ctx);
    return user;
  }

  async get(id: string): Promise<UserRecord> {
    const u = await findUserById(this.db, id);
    if (!u) throw notFound('no such user');
    return u;
  }

  list(query: UserQuery) {
    return listUsers(this.db, query);
  }

  /**
   * Check a username-or-email and password. A failure costs the same whether the user is unknown, has
   * an argon2id hash or an imported bcrypt one (PasswordHasher.verify). An imported bcrypt hash (or
   * argon2 with old parameters) is replaced after a successful check.
   */
  async authenticate(login: string, password: string, ctx: RequestContext): Promise<LoginUser> {
    // Shed before any work when the hashing queue is full (the same answer for every account).
    this.hasher.assertCapacity();
    const user = await findUserByLogin(this.db, login);
    const result = await this.guardedVerify(login, user, password, ctx);
    let failure: LoginFailure | undefined;
    if (!user) failure = 'unknown_user';
    else if (!result.ok) failure = 'bad_password';
    else if (user.disabled) failure = 'disabled';
    else if (this.config.REQUIRE_VERIFIED_EMAIL && !user.emailVerified) failure = 'unverified_email';
    if (failure) {
      for (const g of this.loginGuards) await g.failed(login, user, failure, ctx);
      await this.audit.record(
        this.db,
        {
          type: 'login.failed',
          actorId: user?.id ?? null,
          subjectId: user?.id ?? null,
          details: user ? { reason: failure, login: user.username } : { reason: failure, login_sha256: loginDigest(login) },
        },
        ctx,
      );
      throw new LoginError(failure, user);
    }
    if (result.needsRehash) {
      const passwordHash = await this.hasher.hash(password);
      await this.db.transaction(async (tx) => {
        await updateUser(tx, user!.id, { passwordHash }, this.now());
        await this.audit.record(tx, { type: 'password.rehashed', subjectId: user!.id, details: { to: 'argon2id' } }, ctx);
      });
    }
    for (const g of this.loginGuards) await g.succeeded(user!, ctx);
    return user!;
  }

  /**
   * Failed checks are padded to the slowest stored hash (PasswordHasher.verify): which that is, is read
   * from the database every few minutes, so hashes imported by `warden user import` beside a running
   * server are covered, and the padding goes once the last bcrypt hash has been rehashed away. (A
   * check that meets a higher cost raises the padding at once.)
   */
  private async readTimingPad() {
    if (this.clock.now() - this.timingPadReadAt < TIMING_PAD_REFRESH_MS) return;
    this.timingPadRead ??= highestStoredBcryptCost(this.db)
      .then((cost) => {
        this.hasher.slowestStoredBcryptCost = cost;
        this.timingPadReadAt = this.clock.now();
      })
      .finally(() => (this.timingPadRead = undefined));
    await this.timingPadRead;
  }

  /** The lockout's admission, then the hash check; a check shed with 503 gives its admission back. */
  private async guardedVerify(login: string, user: UserRecord | undefined, password: string, ctx: RequestContext) {
    await this.readTimingPad();
    for (const g of this.loginGuards) await g.before(login, user, ctx);
    try {
      return await this.hasher.verify(user?.passwordHash, password);
    } catch (e) {
      // A check shed with 503 guessed nothing: it must not count toward the account's lockout.
      if (e instanceof HasherOverloadedError) for (const g of this.loginGuards) await g.abandoned?.(login, user, ctx);
      throw e;
    }
  }

  /**
   * End a user's sessions for good, in the caller's transaction: every access token issued until now
   * fails (tokens_valid_after, checked on every request and by /introspect), every session but
   * `exceptSid` is ended with its refresh tokens and pending authorization codes, and every console
   * session is deleted. Nothing that re-enabling or another change does brings any of them back.
   */
  private async endAllSessions(ex: Executor, id: string, reason: EndReason, now: Date, exceptSid?: string): Promise<Ended> {
    await updateUser(ex, id, { tokensValidAfter: now }, now);
    const ended = await endSessions(ex, { userId: id, exceptSid }, reason, now);
    await ex.delete(consoleSessions).where(eq(consoleSessions.userId, id));
    // A credential change or a force-logout: outstanding reset links die too (voidResetLinks says why).
    await voidResetLinks(ex, id, now);
    return ended;
  }

  /**
   * The password of a signed-in user, asked again before a sensitive change (password, e-mail, MFA
   * removal). The same lockout as a login guards it: a stolen access token must not become a way to
   * guess the password without limit. False for a wrong password and for a locked account alike, so
   * the caller answers both the same; 503 (HasherOverloadedError) when the hashing queue is full.
   */
  async confirmPassword(user: UserRecord, password: string, ctx: RequestContext): Promise<boolean> {
    this.hasher.assertCapacity();
    let result: Awaited<ReturnType<PasswordHasher['verify']>>;
    try {
      result = await this.guardedVerify(user.username, user, password, ctx);
    } catch (e) {
      if (e instanceof LoginError) return false;
      throw e;
    }
    if (!result.ok) {
      for (const g of this.loginGuards) await g.failed(user.username, user, 'bad_password', ctx);
      return false;
    }
    for (const g of this.loginGuards) await g.succeeded(user, ctx);
    return true;
  }

  /**
   * Profile changes. A new e-mail address is only requested here: it waits in `pendingEmail` until its
   * mailed link is followed (EmailVerification.verify swaps it in), the current address keeps working
   * and is told (the emailChangedHooks), and the request needs the current password — or a sign-in
   * within RECENT_SIGN_IN_MS when the access token says when (`authTime`, seconds, its auth_time claim).
   * Without that, a stolen access token would move the account to an address its thief reads, and
   * every reset link after it. The same address again cancels a pending change.
   */
  async updateProfile(
    id: string,
    patch: { fullName?: string | null | undefined; email?: string | undefined; currentPassword?: string | undefined },
    ctx: RequestContext,
    auth: { authTime?: number | undefined } = {},
  ) {
    const current = await this.get(id);
    const actor = { ...ctx, actorId: id };
    let spelling: string | undefined;
    let pendingEmail: string | null | undefined;
    if (patch.email !== undefined) {
      const key = await emailKey(this.db, patch.email);
      if (key === (await emailKey(this.db, current.email))) {
        // The same address (as the unique index compares them): another spelling needs no proof.
        if (patch.email !== current.email) spelling = patch.email;
        if (current.pendingEmail !== null) pendingEmail = null;
      } else {
        await this.reauthenticate(current, patch.currentPassword, actor, auth.authTime);
        if (await findUserByEmailKey(this.db, key)) throw conflict('email_taken', 'that e-mail address is already registered', 'email');
        pendingEmail = patch.email;
      }
    }
    const requested = typeof pendingEmail === 'string';
    const fields = [...(patch.fullName !== undefined ? ['full_name'] : []), ...(patch.email !== undefined ? ['email'] : [])];
    const now = this.now();
    const user = await this.db.transaction(async (tx) => {
      const u = await updateUser(
        tx,
        id,
        {
          ...(patch.fullName !== undefined ? { fullName: patch.fullName } : {}),
          ...(spelling !== undefined ? { email: spelling } : {}),
          ...(pendingEmail !== undefined ? { pendingEmail } : {}),
        },
        now,
      );
      // The link of a cancelled change must not complete it later.
      if (pendingEmail === null) await invalidateAccountTokens(tx, id, 'verify_email', now);
      if (requested || spelling !== undefined) await voidResetLinks(tx, id, now);
      await this.audit.record(
        tx,
        {
          type: 'user.updated',
          subjectId: id,
          details: { fields, email_change_requested: requested, ...(pendingEmail === null ? { email_change_cancelled: true } : {}) },
        },
        actor,
      );
      return u!;
    });
    await this.cache.invalidate(id);
    if (requested) for (const hook of this.emailChangedHooks) await hook(user, actor);
    return { user, emailChangeRequested: requested };
  }

  /** A sensitive change by a signed-in user: the password (under the lockout), or a recent enough sign-in. */
  private async reauthenticate(user: UserRecord, password: string | undefined, ctx: RequestContext, authTime: number | undefined) {
    if (password === undefined) {
      if (authTime !== undefined && this.clock.now() - authTime * 1000 <= RECENT_SIGN_IN_MS) return;
      throw unprocessable('current_password_required', 'changing the e-mail address needs current_password', [
        { field: 'current_password', message: 'is required to change the e-mail address' },
      ]);
    }
    if (!(await this.confirmPassword(user, password, ctx))) {
      await this.audit.record(this.db, { type: 'email.change_failed', subjectId: user.id, details: { reason: 'wrong_password' } }, ctx);
      throw unprocessable('wrong_password', 'current_password is not correct', [{ field: 'current_password', message: 'is not correct' }]);
    }
  }

  /**
   * Set a new password hash and end sessions: every session but `keepSession` (the one the change was
   * made from, whose refresh token keeps working) and every access token issued before now.
   */
  async setPassword(
    ex: Executor,
    user: UserRecord,
    newPassword: string,
    opts: { keepSession?: string | undefined; reason?: EndReason } = {},
  ) {
    await this.checkPasswordOrThrow(newPassword, { username: user.username, email: user.email }, 'new_password');
    const passwordHash = await this.hasher.hash(newPassword);
    const now = this.now();
    await updateUser(ex, user.id, { passwordHash }, now);
    await this.endAllSessions(ex, user.id, opts.reason ?? 'password_reset', now, opts.keepSession);
  }

  /** `keepSession`: the sid of the token the change was made with. */
  async changePassword(id: string, current: string, next: string, ctx: RequestContext, keepSession?: string) {
    const user = await this.get(id);
    if (!(await this.confirmPassword(user, current, ctx))) {
      await this.audit.record(this.db, { type: 'password.change_failed', subjectId: id }, { ...ctx, actorId: id });
      throw unprocessable('wrong_password', 'current_password is not correct', [{ field: 'current_password', message: 'is not correct' }]);
    }
    if (current === next) {
      throw unprocessable('same_password', 'new_password must differ from the current one', [
        { field: 'new_password', message: 'must differ from current_password' },
      ]);
    }
    await this.db.transaction(async (tx) => {
      await this.setPassword(tx, user, next, { keepSession, reason: 'password_changed' });
      await this.audit.record(tx, { type: 'password.changed', subjectId: id }, { ...ctx, actorId: id });
    });
    await this.cache.invalidate(id);
  }

  /** Admin change of roles and/or disabled, audited with before and after. */
  async adminUpdate(actorId: string, id: string, patch: { roles?: readonly string[] | undefined; disabled?: boolean | undefined }, ctx: RequestContext) {
    const before = await this.get(id);
    if (actorId === id && (patch.disabled === true || (patch.roles && !patch.roles.includes('admin')))) {
      throw new ProblemError(409, 'self_lockout', 'an admin cannot disable themself or remove their own admin role', {
        errors: [{ field: patch.disabled === true ? 'disabled' : 'roles', message: 'would lock you out' }],
      });
    }
    const now = this.now();
    const user = await this.db.transaction(async (tx) => {
      if (patch.roles) {
        await setUserRoles(tx, id, patch.roles);
        await this.audit.record(
          tx,
          { type: 'user.roles_changed', actorId, subjectId: id, details: { before: before.roles, after: [...new Set(patch.roles)].sort() } },
          ctx,
        );
      }
      if (patch.disabled !== undefined && patch.disabled !== before.disabled) {
        await updateUser(tx, id, { disabled: patch.disabled }, now);
        // Ended for good, as a force-logout: enabling the account again revives none of them.
        if (patch.disabled) await this.endAllSessions(tx, id, 'disabled', now);
        await this.audit.record(
          tx,
          { type: patch.disabled ? 'user.disabled' : 'user.enabled', actorId, subjectId: id, details: { before: before.disabled, after: patch.disabled } },
          ctx,
        );
      }
      return (await findUserById(tx, id))!;
    });
    await this.cache.invalidate(id);
    return user;
  }

  /** End every session of a user now: refresh tokens revoked, access tokens refused. */
  async forceLogout(actorId: string | null, id: string, ctx: RequestContext) {
    await this.get(id);
    const now = this.now();
    await this.db.transaction(async (tx) => {
      const ended = await this.endAllSessions(tx, id, 'logout_all', now);
      await this.audit.record(
        tx,
        { type: 'user.logged_out', actorId, subjectId: id, details: { refresh_tokens_revoked: ended.refreshTokensRevoked, sessions_ended: ended.sids.length } },
        ctx,
      );
    });
    await this.cache.invalidate(id);
  }

}

declare module '../../kernel/warden.js' {
  interface Warden {
    readonly users: UsersService;
  }
}
