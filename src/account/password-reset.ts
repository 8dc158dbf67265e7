import { createHash } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { AuditLog, RequestContext } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config/load.js';
import { ProblemError } from '../http/errors.js';
import type { Mailer } from '../mail/mailer.js';
import { passwordResetMail } from '../mail/templates.js';
import type { Db } from '../storage/database.js';
import { consoleSessions } from '../storage/schema.js';
import type { StateStore } from '../storage/state/store.js';
import { findUserByEmail, findUserById, updateUser, type UserRecord } from '../users/repository.js';
import type { UsersService } from '../users/service.js';
import type { UserCache } from '../users/user-cache.js';
import { consumeAccountToken, invalidateAccountTokens, issueAccountToken, peekAccountToken } from './account-tokens.js';
import { hit } from './throttle.js';

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
    private readonly config: Config,
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

  private async process(email: string, ctx: RequestContext) {
    const addressKey = createHash('sha256').update(email.toLowerCase()).digest('base64url');
    const quota = await hit(this.state, `account:reset-mail:${addressKey}`, MAILS_PER_ADDRESS, ADDRESS_WINDOW_MS);
    const user = await findUserByEmail(this.db, email);
    if (!quota.ok || !user || user.disabled) {
      const reason = !quota.ok ? 'throttled' : !user ? 'unknown_address' : 'disabled';
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
    return user && !user.disabled && user.email.toLowerCase() === row.email.toLowerCase() ? user : undefined;
  }

  /**
   * Set the new password with the token, in one transaction: the token is used up only if the new
   * password passes the policy. Every session ends (refresh tokens, access tokens issued before now,
   * console sessions). Following the link proves the mailbox, so the address counts as verified.
   */
  async reset(token: string, newPassword: string, ctx: RequestContext): Promise<UserRecord> {
    const now = new Date(this.clock.now());
    const user = await this.db.transaction(async (tx) => {
      const row = await consumeAccountToken(tx, 'reset_password', token, now);
      if (!row) throw invalidResetToken();
      const u = await findUserById(tx, row.userId);
      if (!u || u.disabled || u.email.toLowerCase() !== row.email.toLowerCase()) throw invalidResetToken();
      await this.users.setPassword(tx, u, newPassword);
      await tx.delete(consoleSessions).where(eq(consoleSessions.userId, u.id));
      await invalidateAccountTokens(tx, u.id, 'reset_password', now);
      if (!u.emailVerified) await updateUser(tx, u.id, { emailVerified: true }, now);
      await this.audit.record(tx, { type: 'password.reset', subjectId: u.id, details: { sessions_ended: true } }, { ...ctx, actorId: u.id });
      return u;
    });
    await this.cache.invalidate(user.id);
    return user;
  }
}
