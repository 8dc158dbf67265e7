import type { PasswordReset } from './password-reset.js';
import type { AuditLog, RequestContext } from '../audit/audit-log.js';
import type { Clock } from '../../kernel/clock.js';
import type { Config } from '../../kernel/config/load.js';
import { conflict, ProblemError } from '../../kernel/errors.js';
import { isUniqueViolation } from '../../kernel/storage/errors.js';
import type { Mailer } from '../mail/mailer.js';
import { emailChangeNoticeMail, verificationMail } from '../mail/templates.js';
import type { Db } from '../../kernel/storage/database.js';
import type { StateStore } from '../../kernel/storage/state/store.js';
import { findUserById, updateUser, type UserRecord } from '../users/repository.js';
import { voidResetLinks } from '../users/service.js';
import type { UserCache } from '../users/user-cache.js';
import { consumeAccountToken, issueAccountToken, peekAccountToken } from './account-tokens.js';
import { hit, tooManyRequests } from './throttle.js';

/** The settings of e-mail verification: the link's lifetime and where it points. */
export type EmailVerificationSettings = Pick<Config, 'EMAIL_VERIFY_TOKEN_HOURS' | 'publicUrl'>;

export const invalidVerificationToken = () =>
  new ProblemError(400, 'invalid_verification_token', 'the verification link is invalid, already used or expired; ask for a new one');

/**
 * E-mail verification: a single-use link mailed on registration and on every request to change the
 * address. A token is bound to the address it was sent to. A new address stays pending (the account
 * keeps its current one, for sign-in, reset links and notices) until its link is followed; then it
 * replaces the old one, verified. A newer request replaces the pending address and voids older links.
 */
export class EmailVerification {
  constructor(
    private readonly db: Db,
    private readonly config: EmailVerificationSettings,
    private readonly clock: Clock,
    private readonly state: StateStore,
    private readonly audit: AuditLog,
    private readonly mailer: Mailer,
    private readonly cache: UserCache,
  ) {}

  link(token: string) {
    return `${this.config.publicUrl}/email/verify?token=${encodeURIComponent(token)}`;
  }

  /** The address a link would verify now: the pending new one, else the current one if unverified. */
  private target(user: UserRecord): string | undefined {
    return user.pendingEmail ?? (user.emailVerified ? undefined : user.email);
  }

  /** Issue a token and queue the mail (after the token's transaction committed). Nothing when there is nothing to verify. */
  async send(user: UserRecord, ctx: RequestContext): Promise<void> {
    const to = this.target(user);
    if (to === undefined) return;
    const now = new Date(this.clock.now());
    const hours = this.config.EMAIL_VERIFY_TOKEN_HOURS;
    const token = await this.db.transaction(async (tx) => {
      const t = await issueAccountToken(tx, { userId: user.id, purpose: 'verify_email', email: to, now, ttlMs: hours * 3600_000 });
      await this.audit.record(tx, { type: 'email.verification_sent', subjectId: user.id, details: { email: to } }, ctx);
      return t;
    });
    this.mailer.send(verificationMail({ username: user.username, email: to }, this.link(token), hours));
  }

  /** Registration hook: a mail problem is logged, never fails the request that caused it. */
  async sendQuietly(user: UserRecord, ctx: RequestContext): Promise<void> {
    try {
      await this.send(user, ctx);
    } catch (e) {
      this.mailer.log.error({ err: { message: (e as Error).message }, userId: user.id }, 'could not issue an e-mail verification token');
    }
  }

  /**
   * A change of address was requested (user.pendingEmail is set): the link goes to the new address, and
   * the current one is told, so that an owner whose session or password was taken learns of it while
   * the account still mails them (and can reset the password, which cancels the change).
   */
  async changeRequested(user: UserRecord, ctx: RequestContext): Promise<void> {
    if (user.pendingEmail === null) return;
    this.mailer.send(emailChangeNoticeMail(user, user.pendingEmail, `${this.config.publicUrl}/password/forgot`));
    await this.sendQuietly(user, ctx);
  }

  /** Is this a live token (without using it)? For the page the mailed link opens. */
  async check(token: string): Promise<boolean> {
    return Boolean(await peekAccountToken(this.db, 'verify_email', token, new Date(this.clock.now())));
  }

  async verify(token: string, ctx: RequestContext): Promise<UserRecord> {
    const now = new Date(this.clock.now());
    let user: UserRecord;
    try {
      user = await this.db.transaction(async (tx) => {
        const row = await consumeAccountToken(tx, 'verify_email', token, now);
        if (!row) throw invalidVerificationToken();
        const u = await findUserById(tx, row.userId);
        if (!u) throw invalidVerificationToken();
        const actor = { ...ctx, actorId: u.id };
        if (u.pendingEmail !== null && u.pendingEmail === row.email) {
          // The new address is proven: it becomes the account's, verified.
          const updated = await updateUser(tx, u.id, { email: u.pendingEmail, emailVerified: true, pendingEmail: null }, now);
          await voidResetLinks(tx, u.id, now);
          await this.audit.record(tx, { type: 'email.changed', subjectId: u.id, details: { from: u.email, to: u.pendingEmail } }, actor);
          return updated!;
        }
        // Any other address than the one the link was sent to (changed or pending since): it proves nothing.
        if (u.pendingEmail !== null || u.email !== row.email) throw invalidVerificationToken();
        const updated = await updateUser(tx, u.id, { emailVerified: true }, now);
        await this.audit.record(tx, { type: 'email.verified', subjectId: u.id, details: { email: u.email } }, actor);
        return updated!;
      });
    } catch (e) {
      // Someone registered the address meanwhile (users.email is unique): the change cannot complete.
      if (isUniqueViolation(e)) throw conflict('email_taken', 'that e-mail address is already registered', 'email');
      throw e;
    }
    await this.cache.invalidate(user.id);
    return user;
  }

  /** Another mail for the signed-in user: at most one a minute and five an hour (mail flooding). */
  async resend(userId: string, ctx: RequestContext): Promise<void> {
    const user = await findUserById(this.db, userId);
    if (!user) throw invalidVerificationToken();
    if (this.target(user) === undefined) throw conflict('already_verified', 'this e-mail address is already verified');
    const minute = await hit(this.state, `account:verify-resend:m:${user.id}`, 1, 60_000);
    if (!minute.ok) throw tooManyRequests('a verification mail was sent less than a minute ago', minute.retryAfterSeconds);
    const hour = await hit(this.state, `account:verify-resend:h:${user.id}`, 5, 3600_000);
    if (!hour.ok) throw tooManyRequests('too many verification mails this hour', hour.retryAfterSeconds);
    await this.send(user, ctx);
  }
}

declare module '../../kernel/warden.js' {
  interface Warden {
    /** E-mail verification and password reset by mailed single-use links. */
    readonly account: { readonly verification: EmailVerification; readonly reset: PasswordReset };
  }
}
