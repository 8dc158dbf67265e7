import { createHash } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { AuditLog, RequestContext } from '../audit/audit-log.js';
import type { Clock } from '../../kernel/clock.js';
import type { Config } from '../../kernel/config/load.js';
import { ProblemError } from '../../kernel/errors.js';
import type { Mailer } from '../mail/mailer.js';
import { passwordResetMail } from '../mail/templates.js';
import type { Db } from '../../kernel/storage/database.js';
import { consoleSessions } from '../console/tables.js';
import type { StateStore } from '../../kernel/storage/state/store.js';
import { emailKey, findUserByEmailKey, findUserById, updateUser, type UserRecord } from '../users/repository.js';
import type { UsersService } from '../users/service.js';
import type { UserCache } from '../users/user-cache.js';
import { consumeAccountToken, invalidateAccountTokens, issueAccountToken, peekAccountToken, type AccountTokenRow } from './account-tokens.js';
import { hit } from './throttle.js';

/** The settings of password reset: the link's lifetime and where it points. */
export type PasswordResetSettings = Pick<Config, 'PASSWORD_RESET_TOKEN_MINUTES' | 'publicUrl'>;

export const invalidResetToken = () =>
  new ProblemError(400, 'invalid_reset_token', 'the reset link is invalid, already used or expired; ask for a new one');

/** Reset mails per address per window: enough for a typo'd first try, too few to flood a mailbox. */
const MAILS_PER_ADDRESS = 3;
const ADDRESS_WINDOW_MS = 15 * 60_000;

/**
 * Password reset by a mailed single-use link. `request` does its work after the answer has gone: the
 * caller returns the same 202 at the same speed whether or not the address exists (no enumeration by
 * body or timing), and an SMTP failure can only ever show up in the logs.
 */
export class PasswordReset {
  private readonly jobs = new Set<Promise<void>>();

  constructor(
    private readonly db: Db,
    private readonly config: PasswordResetSettings,
    private readonly clock: Clock,
    private readonly state: StateStore,
    private readonly audit: AuditLog,
    private readonly mailer: Mailer,
    private readonly users: UsersService,
    private readonly cache: UserCache,
  ) {}

  link(token: string) {
    return `${this.config.publicUrl}/password/reset?token=${encodeURIComponent(token)}`;
  }

  /** Queue the request and return at once; never throws. */
  request(email: string, ctx: RequestContext): void {
    const job: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.process(email, ctx))
      .catch((e: unknown) => this.mailer.log.error({ err: { message: (e as Error).message } }, 'password reset request failed'))
      .finally(() => this.jobs.delete(job));
    this.jobs.add(job);
  }

  /** Every queued request handled (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.jobs.size) await Promise.all([...this.jobs]);
  }

  /**
   * Only a verified address gets a link: an unverified one (a typo at registration, or an address
   * nobody proved to own) must not be a way into the account. A new address waiting for its
   * verification is not the account's address yet, so it matches no account here at all.
   */
  private async process(email: string, ctx: RequestContext) {
    // The quota and the lookup key on the same normalisation (emailKey says why).
    const key = await emailKey(this.db, email);
    const addressKey = createHash('sha256').update(key).digest('base64url');
    const quota = await hit(this.state, `account:reset-mail:${addressKey}`, MAILS_PER_ADDRESS, ADDRESS_WINDOW_MS);
    const user = await findUserByEmailKey(this.db, key);
    if (!quota.ok || !user || user.disabled || !user.emailVerified) {
      const reason = !quota.ok ? 'throttled' : !user ? 'unknown_address' : user.disabled ? 'disabled' : 'unverified_address';
      await this.audit.record(this.db, { type: 'password.reset_requested', subjectId: user?.id ?? null, details: { sent: false, reason } }, ctx);
      return;
    }
    const now = new Date(this.clock.now());
    const minutes = this.config.PASSWORD_RESET_TOKEN_MINUTES;
    const token = await this.db.transaction(async (tx) => {
      const t = await issueAccountToken(tx, { userId: user.id, purpose: 'reset_password', email: user.email, now, ttlMs: minutes * 60_000 });
      await this.audit.record(tx, { type: 'password.reset_requested', subjectId: user.id, details: { sent: true } }, ctx);
      return t;
    });
    this.mailer.send(passwordResetMail(user, this.link(token), minutes));
  }

  /** The user a live token belongs to, without using it up (the page shows a form for it). */
  async check(token: string): Promise<UserRecord | undefined> {
    const row = await peekAccountToken(this.db, 'reset_password', token, new Date(this.clock.now()));
    if (!row) return undefined;
    const user = await findUserById(this.db, row.userId);
    return user && stillValid(row, user) ? user : undefined;
  }

  /**
   * Set the new password with the token, in one transaction: the token is used up only if the new
   * password passes the policy. Every session ends (refresh tokens, access tokens issued before now,
   * console sessions), other reset links die, and a pending change of e-mail address is cancelled: a
   * reset is how the owner takes back an account, and the address someone else asked for must not
   * become the account's afterwards. The address is not marked verified here: links go to verified
   * addresses only (see `process`).
   */
  async reset(token: string, newPassword: string, ctx: RequestContext): Promise<UserRecord> {
    const now = new Date(this.clock.now());
    const user = await this.db.transaction(async (tx) => {
      const row = await consumeAccountToken(tx, 'reset_password', token, now);
      if (!row) throw invalidResetToken();
      const u = await findUserById(tx, row.userId);
      if (!u || !stillValid(row, u)) throw invalidResetToken();
      await this.users.setPassword(tx, u, newPassword);
      await tx.delete(consoleSessions).where(eq(consoleSessions.userId, u.id));
      if (u.pendingEmail !== null) {
        await updateUser(tx, u.id, { pendingEmail: null }, now);
        await invalidateAccountTokens(tx, u.id, 'verify_email', now);
      }
      const details = { sessions_ended: true, ...(u.pendingEmail !== null ? { email_change_cancelled: true } : {}) };
      await this.audit.record(tx, { type: 'password.reset', subjectId: u.id, details }, { ...ctx, actorId: u.id });
      return u;
    });
    await this.cache.invalidate(user.id);
    return user;
  }
}

/** A link is good only for the verified address it was mailed to, of an account still enabled. */
function stillValid(row: AccountTokenRow, user: UserRecord): boolean {
  return !user.disabled && user.emailVerified && user.email === row.email;
}
