import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, eq, gt, lt } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { can } from '../access/roles.js';
import type { Config } from '../../kernel/config/load.js';
import type { Executor } from '../../kernel/storage/database.js';
import { consoleSessions } from './tables.js';
import type { UserRecord } from '../users/repository.js';
import type { Warden } from '../../kernel/warden.js';

const sha256hex = (s: string) => createHash('sha256').update(s).digest('hex');
export const randomToken = () => randomBytes(32).toString('base64url');
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** Constant-time equality for tokens (a timing difference must not reveal how much of a guess matched). */
export function tokensEqual(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A console sign-in whose password was accepted, waiting for its second factor. */
export interface PendingMfa {
  userId: string;
  login: string;
  /** When the password was checked (ms). */
  passwordAt: number;
}

export interface ConsoleSession {
  idHash: string;
  user: UserRecord;
  csrfToken: string;
  expiresAt: Date;
}

/**
 * The console's cookies. On https: `__Host-` (Secure, Path=/, no Domain: no sibling subdomain can set
 * or read it) + HttpOnly + SameSite=Strict, so another site can neither read the cookie nor make the
 * browser send it with a cross-site request. On plain http (development) the prefix and Secure cannot
 * be used; HttpOnly and SameSite=Strict stay.
 */
export class ConsoleCookies {
  readonly secure: boolean;
  readonly session: string;
  /** Pre-session CSRF secret for the login and MFA forms (double submit). */
  readonly login: string;
  /** Password accepted, second factor pending. */
  readonly mfa: string;

  constructor(config: Pick<Config, 'issuer'>) {
    this.secure = config.issuer.startsWith('https://');
    const prefix = this.secure ? '__Host-' : '';
    this.session = `${prefix}warden_console`;
    this.login = `${prefix}warden_console_login`;
    this.mfa = `${prefix}warden_console_mfa`;
  }

  options(maxAgeSeconds: number) {
    return { path: '/', httpOnly: true, secure: this.secure, sameSite: 'strict', maxAge: maxAgeSeconds } as const;
  }

  set(reply: FastifyReply, name: string, value: string, maxAgeSeconds: number) {
    reply.setCookie(name, value, this.options(maxAgeSeconds));
  }

  clear(reply: FastifyReply, name: string) {
    reply.clearCookie(name, { path: '/', httpOnly: true, secure: this.secure, sameSite: 'strict' });
  }

  read(request: FastifyRequest, name: string): string | undefined {
    const v = request.cookies[name];
    return v && TOKEN_SHAPE.test(v) ? v : undefined;
  }
}

/**
 * Admin console sessions in the console_sessions table: the cookie carries a random id, the table
 * only its hash (a database leak gives no usable session), with the session's CSRF token beside it.
 */
/** Sessions past their expiry are useless (find() refuses them): deleted so the table stays as small as the live ones. */
export async function pruneConsoleSessions(ex: Executor, now: Date): Promise<void> {
  await ex.delete(consoleSessions).where(lt(consoleSessions.expiresAt, now));
}

export class ConsoleSessions {
  constructor(private readonly w: Warden) {}

  private now() {
    return new Date(this.w.clock.now());
  }

  async create(userId: string): Promise<{ id: string; csrfToken: string; maxAgeSeconds: number }> {
    const id = randomToken();
    const csrfToken = randomToken();
    const now = this.now();
    const maxAgeSeconds = this.w.config.CONSOLE_SESSION_MINUTES * 60;
    // Expired rows go whenever a new one comes (and hourly, the console-sessions.prune job).
    await pruneConsoleSessions(this.w.db, now);
    await this.w.db.insert(consoleSessions).values({
      idHash: sha256hex(id),
      userId,
      csrfToken,
      createdAt: now,
      expiresAt: new Date(now.getTime() + maxAgeSeconds * 1000),
    });
    return { id, csrfToken, maxAgeSeconds };
  }

  /**
   * The live session for a cookie value: not expired, its user still exists, is enabled, still an
   * admin, and has not had every session ended (force logout, password change) since it began.
   */
  async find(id: string | undefined): Promise<ConsoleSession | undefined> {
    if (!id) return undefined;
    const now = this.now();
    const [row] = await this.w.db
      .select()
      .from(consoleSessions)
      .where(and(eq(consoleSessions.idHash, sha256hex(id)), gt(consoleSessions.expiresAt, now)))
      .limit(1);
    if (!row) return undefined;
    const user = await this.w.users.get(row.userId).catch(() => undefined);
    if (!user || user.disabled || !can(user.roles, 'users:list')) return undefined;
    if (row.createdAt.getTime() < user.tokensValidAfter.getTime()) return undefined;
    return { idHash: row.idHash, user, csrfToken: row.csrfToken, expiresAt: row.expiresAt };
  }

  async destroy(id: string | undefined): Promise<void> {
    if (!id) return;
    await this.w.db.delete(consoleSessions).where(eq(consoleSessions.idHash, sha256hex(id)));
  }

  /** Password accepted, TOTP pending: remembered for five minutes under the hash of a random token. */
  async startMfa(userId: string, login: string): Promise<string> {
    const token = randomToken();
    const pending: PendingMfa = { userId, login, passwordAt: this.w.clock.now() };
    await this.w.state.set(`console:mfa:${sha256hex(token)}`, JSON.stringify(pending), 5 * 60_000);
    return token;
  }

  /**
   * The half-finished sign-in of this token, unless the user's sessions were ended since the password
   * was checked (force-logout, password change or reset, disable): a sign-in begun before cannot be
   * completed after, any more than a session begun before survives.
   */
  async pendingMfa(token: string | undefined): Promise<PendingMfa | undefined> {
    if (!token) return undefined;
    const raw = await this.w.state.get(`console:mfa:${sha256hex(token)}`);
    if (!raw) return undefined;
    const pending = JSON.parse(raw) as Partial<PendingMfa>;
    const user = pending.userId ? await this.w.users.get(pending.userId).catch(() => undefined) : undefined;
    if (!user || user.disabled || typeof pending.passwordAt !== 'number' || pending.passwordAt <= user.tokensValidAfter.getTime()) {
      await this.endMfa(token);
      return undefined;
    }
    return pending as PendingMfa;
  }

  async endMfa(token: string | undefined) {
    if (token) await this.w.state.delete(`console:mfa:${sha256hex(token)}`);
  }
}
