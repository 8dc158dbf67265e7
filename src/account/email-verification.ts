import type { AuditLog, RequestContext } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config/load.js';
import { conflict, ProblemError } from '../http/errors.js';
import type { Mailer } from '../mail/mailer.js';
import { verificationMail } from '../mail/templates.js';
import type { Db } from '../storage/database.js';
import type { StateStore } from '../storage/state/store.js';
import { findUserById, updateUser, type UserRecord } from '../users/repository.js';
import type { UserCache } from '../users/user-cache.js';
import { consumeAccountToken, issueAccountToken, peekAccountToken } from './account-tokens.js';
import { hit, tooManyRequests } from './throttle.js';

export const invalidVerificationToken = () =>
  new ProblemError(400, 'invalid_verification_token', 'the verification link is invalid, already used or expired; ask for a new one');

/**
 * E-mail verification: a single-use link mailed on registration and on every change of address.
 * A token is bound to the address it was sent to: after another change it no longer verifies anything.
 */
export class EmailVerification {
  constructor(
    private readonly db: Db,
    private readonly config: Config,
    private readonly clock: Clock,
    private readonly state: StateStore,
    private readonly audit: AuditLog,
    private readonly mailer: Mailer,
    private readonly cache: UserCache,
  ) {}

  link(token: string) {
    return `${this.config.publicUrl}/email/verify?token=${encodeURIComponent(token)}`;
  }

  /** Issue a token and queue the mail (after the token's transaction committed). Nothing for a verified address. */
  async send(user: UserRecord, ctx: RequestContext): Promise<void> {
    if (user.emailVerified) return;
    const now = new Date(this.clock.now());
    const hours = this.config.EMAIL_VERIFY_TOKEN_HOURS;
    const token = await this.db.transaction(async (tx) => {
      const t = await issueAccountToken(tx, { userId: user.id, purpose: 'verify_email', email: user.email, now, ttlMs: hours * 3600_000 });
      await this.audit.record(tx, { type: 'email.verification_sent', subjectId: user.id, details: { email: user.email } }, ctx);
      return t;
    });
    this.mailer.send(verificationMail(user, this.link(token), hours));
  }

  /** Registration and profile hooks: a mail problem is logged, never fails the request that caused it. */
  async sendQuietly(user: UserRecord, ctx: RequestContext): Promise<void> {
    try {
      await this.send(user, ctx);
    } catch (e) {
      this.mailer.log.error({ err: { message: (e as Error).message }, userId: user.id }, 'could not issue an e-mail verification token');
    }
  }

  /** Is this a live token (without using it)? For the page the mailed link opens. */
  async check(token: string): Promise<boolean> {
    return Boolean(await peekAccountToken(this.db, 'verify_email', token, new Date(this.clock.now())));
  }

  async verify(token: string, ctx: RequestContext): Promise<UserRecord> {
    const now = new Date(this.clock.now());
    const user = await this.db.transaction(async (tx) => {
      const row = await consumeAccountToken(tx, 'verify_email', token, now);
      if (!row) throw invalidVerificationToken();
      const u = await findUserById(tx, row.userId);
      // The address changed since this mail was sent: the link proves nothing about the new one.
      if (!u || u.email.toLowerCase() !== row.email.toLowerCase()) throw invalidVerificationToken();
      const updated = await updateUser(tx, u.id, { emailVerified: true }, now);
      await this.audit.record(tx, { type: 'email.verified', subjectId: u.id, details: { email: u.email } }, { ...ctx, actorId: u.id });
      return updated!;
    });
    await this.cache.invalidate(user.id);
    return user;
  }

  /** Another mail for the signed-in user: at most one a minute and five an hour (mail flooding). */
  async resend(userId: string, ctx: RequestContext): Promise<void> {
    const user = await findUserById(this.db, userId);
    if (!user) throw invalidVerificationToken();
    if (user.emailVerified) throw conflict('already_verified', 'this e-mail address is already verified');
    const minute = await hit(this.state, `account:verify-resend:m:${user.id}`, 1, 60_000);
    if (!minute.ok) throw tooManyRequests('a verification mail was sent less than a minute ago', minute.retryAfterSeconds);
    const hour = await hit(this.state, `account:verify-resend:h:${user.id}`, 5, 3600_000);
    if (!hour.ok) throw tooManyRequests('too many verification mails this hour', hour.retryAfterSeconds);
    await this.send(user, ctx);
  }
}
