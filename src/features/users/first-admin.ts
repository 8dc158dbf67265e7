import { hashToken, newOpaqueToken, sameSecret } from '../../kernel/secrets.js';
import { eq, sql } from 'drizzle-orm';
import type { Clock } from '../../kernel/clock.js';
import { ConfigError, type Config } from '../../kernel/config/load.js';
import { ProblemError } from '../../kernel/errors.js';
import type { Executor } from '../../kernel/storage/database.js';
import { userRoles, users } from './tables.js';
import { emailKey, findUserByEmailKey, findUserByUsername } from './repository.js';
import type { UsersService } from './service.js';

/** A setup link opens the first-admin page for this long (issue 17: short, because it is printed to a console). */
export const SETUP_LINK_MS = 15 * 60_000;

const bootstrapContext = { ip: 'bootstrap', userAgent: 'warden-start', actorId: 'bootstrap' };

export async function adminUsernames(ex: Executor, limit = 3): Promise<{ count: number; names: string[] }> {
  const rows = await ex
    .select({ username: users.username, n: sql<number>`count(*) over ()::int` })
    .from(userRoles)
    .innerJoin(users, eq(users.id, userRoles.userId))
    .where(eq(userRoles.role, 'admin'))
    .orderBy(users.createdAt)
    .limit(limit);
  return { count: Number(rows[0]?.n ?? 0), names: rows.map((r) => r.username) };
}

export type BootstrapOutcome =
  | { kind: 'not-configured' }
  | { kind: 'admin-exists' }
  | { kind: 'created'; username: string }
  | { kind: 'user-exists'; username: string };

/**
 * BOOTSTRAP_ADMIN_USERNAME/_EMAIL/_PASSWORD, used only while no admin exists: a deployment can bring up
 * its first admin without a shell on the machine. An existing user of that name or address is never
 * changed (the variables must not become a way to take over an account). The password is never logged.
 */
export async function bootstrapAdmin(
  config: Pick<Config, 'BOOTSTRAP_ADMIN_EMAIL' | 'BOOTSTRAP_ADMIN_PASSWORD' | 'BOOTSTRAP_ADMIN_USERNAME'>,
  db: Executor,
  users: UsersService,
): Promise<BootstrapOutcome> {
  const username = config.BOOTSTRAP_ADMIN_USERNAME;
  const email = config.BOOTSTRAP_ADMIN_EMAIL;
  const password = config.BOOTSTRAP_ADMIN_PASSWORD;
  if (!username || !email || !password) return { kind: 'not-configured' };
  if ((await adminUsernames(db, 1)).count > 0) return { kind: 'admin-exists' };
  const existing = (await findUserByUsername(db, username)) ?? (await findUserByEmailKey(db, await emailKey(db, email)));
  if (existing) return { kind: 'user-exists', username: existing.username };
  try {
    const u = await users.create({ username, email, password, roles: ['admin', 'user'], emailVerified: true }, bootstrapContext, 'user.created');
    return { kind: 'created', username: u.username };
  } catch (e) {
    if (e instanceof ProblemError) {
      const why = e.errors?.map((x) => `${x.field} ${x.message}`).join('; ') || e.detail;
      const field = e.errors?.[0]?.field;
      const variable = field === 'username' ? 'BOOTSTRAP_ADMIN_USERNAME' : field === 'email' ? 'BOOTSTRAP_ADMIN_EMAIL' : 'BOOTSTRAP_ADMIN_PASSWORD';
      throw new ConfigError(variable, `the first admin could not be created: ${why}`);
    }
    throw e;
  }
}

/**
 * The one-time link to the first-admin page, for a server started without BOOTSTRAP_ADMIN_*: single
 * use, 15 minutes, opened from this machine only. Only its SHA-256 is kept (a heap dump does not hand
 * it out); a new start issues a new one.
 */
export class SetupLink {
  private hash: string | undefined;
  /** Taken by a form post in flight: a second post with the same link is refused meanwhile. */
  private taken: string | undefined;
  private expiresAt = 0;

  constructor(private readonly clock: Clock) {}

  issue(): string {
    const token = newOpaqueToken();
    this.hash = hashToken(token);
    this.expiresAt = this.clock.now() + SETUP_LINK_MS;
    return token;
  }

  /** Valid now (the page shows its form); does not use it up. */
  check(token: string): boolean {
    if (!this.hash || this.clock.now() >= this.expiresAt) return false;
    return sameSecret(hashToken(token), this.hash);
  }

  /** Take the link for one creation attempt (false: invalid, expired, used or being used). */
  take(token: string): boolean {
    if (!this.check(token)) return false;
    this.taken = this.hash;
    this.hash = undefined;
    return true;
  }

  /** The attempt failed (e.g. a too short password): the link works again until it expires. */
  giveBack() {
    if (this.taken) this.hash = this.taken;
    this.taken = undefined;
  }

  /** The admin exists: the link never opens again. */
  consume() {
    this.taken = undefined;
    this.hash = undefined;
  }
}
