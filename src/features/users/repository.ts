import { and, desc, eq, ilike, lt, or, sql, type SQL } from 'drizzle-orm';
import { queryRows, type Executor } from '../../kernel/storage/database.js';
import { mfaTotp } from '../account/tables.js';
import { userRoles, users } from './tables.js';
import { decodeCursor, encodeCursor } from '../../kernel/storage/pagination.js';

export type UserRow = typeof users.$inferSelect;
export interface UserRecord extends UserRow {
  roles: string[];
}

const rolesOf = sql<string[]>`coalesce((select array_agg(${userRoles.role} order by ${userRoles.role}) from ${userRoles} where ${userRoles.userId} = ${users.id}), '{}'::text[])`;

const withRoles = {
  id: users.id,
  username: users.username,
  email: users.email,
  fullName: users.fullName,
  passwordHash: users.passwordHash,
  disabled: users.disabled,
  emailVerified: users.emailVerified,
  pendingEmail: users.pendingEmail,
  tokensValidAfter: users.tokensValidAfter,
  createdAt: users.createdAt,
  updatedAt: users.updatedAt,
  roles: rolesOf,
};

function normalise(row: UserRecord): UserRecord {
  // PGlite and node-postgres both parse text[]; guard against a driver returning the literal.
  const roles = Array.isArray(row.roles) ? row.roles : String(row.roles).replace(/[{}]/g, '').split(',').filter(Boolean);
  return { ...row, roles };
}

async function one(ex: Executor, where: SQL | undefined): Promise<UserRecord | undefined> {
  const rows = await ex.select(withRoles).from(users).where(where).limit(1);
  return rows[0] ? normalise(rows[0] as UserRecord) : undefined;
}

export const findUserById = (ex: Executor, id: string) => (isUuid(id) ? one(ex, eq(users.id, id)) : Promise.resolve(undefined));
export const findUserByUsername = (ex: Executor, username: string) => one(ex, sql`lower(${users.username}) = lower(${username})`);

/**
 * The one normalisation of an e-mail address: what the database's `lower()` makes of it, the rule of
 * the unique index on users.email. Every per-address lookup and per-address counter keys on this, so
 * they cannot disagree: JavaScript's toLowerCase differs from SQL lower() outside ASCII ('İ' becomes
 * 'i̇' in JavaScript and 'i' in PostgreSQL), and a counter keyed on one while the lookup used the
 * other would give each such spelling of one address a budget of its own.
 */
export async function emailKey(ex: Executor, address: string): Promise<string> {
  const [row] = await queryRows<{ key: string }>(ex, sql`select lower(${address}::text) as key`);
  return row!.key;
}

/** The account whose address has this key (see emailKey). */
export const findUserByEmailKey = (ex: Executor, key: string) => one(ex, sql`lower(${users.email}) = ${key}`);
/** A user as a login reads it: with whether TOTP is on, read in the same query (one round trip fewer per login). */
export interface LoginUser extends UserRecord {
  mfaEnrolled: boolean;
}

const loginQuery = (ex: Executor) =>
  ex
    .select({
      ...withRoles,
      mfaEnrolled: sql<boolean>`exists (select 1 from ${mfaTotp} where ${mfaTotp.userId} = ${users.id} and ${mfaTotp.confirmedAt} is not null)`,
    })
    .from(users)
    .where(or(sql`lower(${users.username}) = lower(${sql.placeholder('login')})`, sql`lower(${users.email}) = lower(${sql.placeholder('login')})`))
    .limit(1)
    .prepare('warden_user_by_login');

/**
 * Prepared once per database (a named statement on PostgreSQL: parsed and planned once per
 * connection), since every password login runs it: drizzle otherwise builds the query anew each time.
 */
const loginQueries = new WeakMap<Executor, ReturnType<typeof loginQuery>>();

/** Login accepts the username or the e-mail address. */
export async function findUserByLogin(ex: Executor, login: string): Promise<LoginUser | undefined> {
  let query = loginQueries.get(ex);
  if (!query) loginQueries.set(ex, (query = loginQuery(ex)));
  const rows = await query.execute({ login });
  const row = rows[0] as LoginUser | undefined;
  return row ? { ...normalise(row), mfaEnrolled: row.mfaEnrolled === true } : undefined;
}

export function isUuid(s: string) {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
}

export interface NewUser {
  username: string;
  email: string;
  fullName?: string | null | undefined;
  passwordHash: string;
  roles: readonly string[];
  disabled?: boolean | undefined;
  emailVerified?: boolean | undefined;
  now: Date;
}

export async function insertUser(ex: Executor, u: NewUser): Promise<UserRecord> {
  const [row] = await ex
    .insert(users)
    .values({
      username: u.username,
      email: u.email,
      fullName: u.fullName ?? null,
      passwordHash: u.passwordHash,
      disabled: u.disabled ?? false,
      emailVerified: u.emailVerified ?? false,
      createdAt: u.now,
      updatedAt: u.now,
      tokensValidAfter: new Date(0),
    })
    .returning();
  if (u.roles.length) await ex.insert(userRoles).values(u.roles.map((role) => ({ userId: row!.id, role })));
  return { ...row!, roles: [...u.roles].sort() };
}

export type UserPatch = Partial<Pick<UserRow, 'email' | 'fullName' | 'passwordHash' | 'disabled' | 'emailVerified' | 'pendingEmail' | 'tokensValidAfter'>>;

export async function updateUser(ex: Executor, id: string, patch: UserPatch, now: Date): Promise<UserRecord | undefined> {
  const rows = await ex
    .update(users)
    .set({ ...patch, updatedAt: now })
    .where(eq(users.id, id))
    .returning({ id: users.id });
  if (!rows.length) return undefined;
  return findUserById(ex, id);
}

export async function setUserRoles(ex: Executor, id: string, roles: readonly string[]) {
  await ex.delete(userRoles).where(eq(userRoles.userId, id));
  if (roles.length) await ex.insert(userRoles).values([...new Set(roles)].map((role) => ({ userId: id, role })));
}

export async function deleteUser(ex: Executor, id: string) {
  await ex.delete(users).where(eq(users.id, id));
}

export interface UserQuery {
  q?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** Newest first, keyset-paginated on (created_at, id). */
export async function listUsers(ex: Executor, query: UserQuery): Promise<{ items: UserRecord[]; nextCursor: string | null }> {
  const conds: SQL[] = [];
  if (query.q) {
    const pattern = `%${query.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    conds.push(or(ilike(users.username, pattern), ilike(users.email, pattern))!);
  }
  const after = query.cursor ? decodeCursor(query.cursor) : undefined;
  if (after) {
    conds.push(or(lt(users.createdAt, after.at), and(eq(users.createdAt, after.at), lt(users.id, after.id)))!);
  }
  const rows = await ex
    .select(withRoles)
    .from(users)
    .where(conds.length ? and(...conds) : undefined)
    .orderBy(desc(users.createdAt), desc(users.id))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit).map((r) => normalise(r as UserRecord));
  const last = page[page.length - 1];
  return { items: page, nextCursor: rows.length > query.limit && last ? encodeCursor(last.createdAt, last.id) : null };
}

export async function countUsers(ex: Executor): Promise<number> {
  const [row] = await ex.select({ n: sql<number>`count(*)::int` }).from(users);
  return Number(row?.n ?? 0);
}

/** The highest bcrypt cost among stored password hashes, or undefined when none is bcrypt (imported, not yet rehashed). */
export async function highestStoredBcryptCost(ex: Executor): Promise<number | undefined> {
  const pattern = '^\\$2[aby]\\$[0-9]{2}\\$';
  const [row] = await queryRows<{ cost: number | null }>(
    ex,
    sql`select max(substring(${users.passwordHash} from 5 for 2)::int) as cost from ${users} where ${users.passwordHash} ~ ${pattern}`,
  );
  return row?.cost === null || row?.cost === undefined ? undefined : Number(row.cost);
}
