import { createHash } from 'node:crypto';
import type { AuditLog, RequestContext } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config/load.js';
import { conflict, notFound, ProblemError, unprocessable } from '../http/errors.js';
import { DEFAULT_ROLE, type Role } from '../access/roles.js';
import type { Db, Executor } from '../storage/database.js';
import { isUniqueViolation, sqlState } from '../storage/errors.js';
import { revokeUserRefreshTokens } from '../tokens/refresh-token.js';
import { HasherOverloadedError, type PasswordHasher } from './password-hasher.js';
import { checkPassword } from './password-policy.js';
import {
  findUserById,
  findUserByLogin,
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

export function toUserOut(u: UserRecord): UserOut {
  return {
    id: u.id,
    username: u.username,
    email: u.email,
    full_name: u.fullName,
    roles: u.roles,
    disabled: u.disabled,
    email_verified: u.emailVerified,
    created_at: u.createdAt.toISOString(),
  };
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
  roles?: readonly Role[];
  emailVerified?: boolean;
}

/** Hooks other capabilities attach to (lockout, e-mail verification) without the service knowing them. */
export interface LoginGuard {
  /** Throw LoginError('locked') to refuse before the password is even checked. `user`: who `login` names, if anyone. */
  before(login: string, user: UserRecord | undefined, ctx: RequestContext): Promise<void>;
  failed(login: string, user: UserRecord | undefined, reason: LoginFailure, ctx: RequestContext): Promise<void>;
  succeeded(user: UserRecord, ctx: RequestContext): Promise<void>;
  /** The attempt admitted by `before` was shed (hasher overloaded, 503) before any password was checked. */
  abandoned?(login: string, user: UserRecord | undefined, ctx: RequestContext): Promise<void>;
}

export class UsersService {
  readonly loginGuards: LoginGuard[] = [];
  readonly registeredHooks: Array<(user: UserRecord, ctx: RequestContext) => Promise<void>> = [];
  /** After a user's e-mail address changed (it is unverified again): e-mail verification mails the new one. */
  readonly emailChangedHooks: Array<(user: UserRecord, ctx: RequestContext) => Promise<void>> = [];

  constructor(
    private readonly db: Db,
    private readonly config: Config,
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

  checkPasswordOrThrow(password: string, ctx: { username?: string | undefined; email?: string | undefined }, field = 'password') {
    const problems = checkPassword(password, this.policy, ctx, field);
    if (problems.length) throw unprocessable('weak_password', `${field} does not meet the password policy`, problems);
  }

  private uniqueViolation(e: unknown): ProblemError | undefined {
    if (!isUniqueViolation(e)) return undefined;
    if (sqlState(e).constraint?.includes('email')) return conflict('email_taken', 'that e-mail address is already registered', 'email');
    return conflict('username_taken', 'that username is taken', 'username');
  }

  async create(input: NewUserInput, ctx: RequestContext, auditType = 'user.registered'): Promise<UserRecord> {
    this.checkPasswordOrThrow(input.password, { username: input.username, email: input.email });
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
   * Check a username-or-email and password. Unknown users cost one argon2 verification like everyone
   * else. An imported bcrypt hash (or argon2 with old parameters) is replaced after a successful check.
   */
  async authenticate(login: string, password: string, ctx: RequestContext): Promise<LoginUser> {
    // Shed before any work when the hashing queue is full (the same answer for every account).
    this.hasher.assertCapacity();
    const user = await findUserByLogin(this.db, login);
    for (const g of this.loginGuards) await g.before(login, user, ctx);
    let result: Awaited<ReturnType<PasswordHasher['verify']>>;
    try {
      result = await this.hasher.verify(user?.passwordHash, password);
    } catch (e) {
      // A login shed with 503 guessed nothing: it must not count toward the account's lockout.
      if (e instanceof HasherOverloadedError) for (const g of this.loginGuards) await g.abandoned?.(login, user, ctx);
      throw e;
    }
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
          // Never the typed text for an unknown login: it may be a password typed into the wrong field.
          // A short hash still lets monitoring count distinct targets.
          details: user
            ? { reason: failure, login: user.username }
            : { reason: failure, login_sha256: createHash('sha256').update(login.toLowerCase()).digest('hex').slice(0, 16) },
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

  async updateProfile(id: string, patch: { fullName?: string | null | undefined; email?: string | undefined }, ctx: RequestContext) {
    const current = await this.get(id);
    const emailChanged = patch.email !== undefined && patch.email.toLowerCase() !== current.email.toLowerCase();
    try {
      const user = await this.db.transaction(async (tx) => {
        const u = await updateUser(
          tx,
          id,
          {
            ...(patch.fullName !== undefined ? { fullName: patch.fullName } : {}),
            ...(patch.email !== undefined ? { email: patch.email } : {}),
            ...(emailChanged ? { emailVerified: false } : {}),
          },
          this.now(),
        );
        await this.audit.record(
          tx,
          { type: 'user.updated', subjectId: id, details: { fields: Object.keys(patch), email_changed: emailChanged } },
          { ...ctx, actorId: id },
        );
        return u!;
      });
      await this.cache.invalidate(id);
      if (emailChanged) for (const hook of this.emailChangedHooks) await hook(user, { ...ctx, actorId: id });
      return { user, emailChanged };
    } catch (e) {
      throw this.uniqueViolation(e) ?? e;
    }
  }

  /** Set a new password hash and end sessions: every refresh token (but `keepFamily`) and every access token issued before now. */
  async setPassword(ex: Executor, user: UserRecord, newPassword: string, opts: { keepFamily?: string | undefined } = {}) {
    this.checkPasswordOrThrow(newPassword, { username: user.username, email: user.email }, 'new_password');
    const passwordHash = await this.hasher.hash(newPassword);
    const now = this.now();
    await updateUser(ex, user.id, { passwordHash, tokensValidAfter: now }, now);
    await revokeUserRefreshTokens(ex, user.id, now, opts.keepFamily);
  }

  async changePassword(id: string, current: string, next: string, ctx: RequestContext, keepFamily?: string) {
    const user = await this.get(id);
    const check = await this.hasher.verify(user.passwordHash, current);
    if (!check.ok) {
      await this.audit.record(this.db, { type: 'password.change_failed', subjectId: id }, { ...ctx, actorId: id });
      throw unprocessable('wrong_password', 'current_password is not correct', [{ field: 'current_password', message: 'is not correct' }]);
    }
    if (current === next) {
      throw unprocessable('same_password', 'new_password must differ from the current one', [
        { field: 'new_password', message: 'must differ from current_password' },
      ]);
    }
    await this.db.transaction(async (tx) => {
      await this.setPassword(tx, user, next, { keepFamily });
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
        if (patch.disabled) await revokeUserRefreshTokens(tx, id, now);
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
      await updateUser(tx, id, { tokensValidAfter: now }, now);
      const n = await revokeUserRefreshTokens(tx, id, now);
      await this.audit.record(tx, { type: 'user.logged_out', actorId, subjectId: id, details: { refresh_tokens_revoked: n } }, ctx);
    });
    await this.cache.invalidate(id);
  }

}
