import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Executor } from '../../kernel/storage/database.js';
import { apiScopes, apis, rolePermissions, roles } from './tables.js';
import { oauthClients } from '../oauth/tables.js';
import { userRoles } from '../users/tables.js';

export interface ApiScope {
  name: string;
  description: string;
  builtIn: boolean;
}

/** An API resource: `identifier` is the `aud` of the tokens issued for it. */
export interface Api {
  id: string;
  identifier: string;
  name: string;
  /** Null: ACCESS_TOKEN_EXPIRE_MINUTES. */
  accessTokenTtlSeconds: number | null;
  allowOfflineAccess: boolean;
  builtIn: boolean;
  scopes: ApiScope[];
  createdAt: Date;
  updatedAt: Date;
}

export interface Permission {
  /** The API's id (the catalog names it by identifier to the outside). */
  apiId: string;
  scope: string;
}

export interface RoleRecord {
  name: string;
  description: string;
  builtIn: boolean;
  permissions: Permission[];
  createdAt: Date;
  updatedAt: Date;
}

export async function loadApis(ex: Executor): Promise<Api[]> {
  const rows = await ex.select().from(apis).orderBy(asc(apis.identifier));
  const scopes = await ex.select().from(apiScopes).orderBy(asc(apiScopes.name));
  return rows.map((r) => ({
    id: r.id,
    identifier: r.identifier,
    name: r.name,
    accessTokenTtlSeconds: r.accessTokenTtlSeconds,
    allowOfflineAccess: r.allowOfflineAccess,
    builtIn: r.builtIn,
    scopes: scopes.filter((s) => s.apiId === r.id).map((s) => ({ name: s.name, description: s.description, builtIn: s.builtIn })),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  }));
}

export async function loadRoles(ex: Executor): Promise<RoleRecord[]> {
  const rows = await ex.select().from(roles).orderBy(asc(roles.name));
  const perms = await ex.select().from(rolePermissions).orderBy(asc(rolePermissions.scope));
  return rows.map((r) => ({
    name: r.name,
    description: r.description,
    builtIn: r.builtIn,
    permissions: perms.filter((p) => p.role === r.name).map((p) => ({ apiId: p.apiId, scope: p.scope })),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  }));
}

/** Warden's own API follows JWT_AUDIENCE (its `aud`); every instance starts with the same setting. */
export async function syncBuiltInIdentifier(ex: Executor, identifier: string) {
  await ex.update(apis).set({ identifier }).where(and(eq(apis.builtIn, true), sql`${apis.identifier} <> ${identifier}`));
}

export interface NewApi {
  identifier: string;
  name: string;
  accessTokenTtlSeconds: number | null;
  allowOfflineAccess: boolean;
  scopes: { name: string; description: string }[];
  now: Date;
}

/** Undefined when the identifier is taken. */
export async function insertApi(ex: Executor, a: NewApi): Promise<string | undefined> {
  const [row] = await ex
    .insert(apis)
    .values({ identifier: a.identifier, name: a.name, accessTokenTtlSeconds: a.accessTokenTtlSeconds, allowOfflineAccess: a.allowOfflineAccess, createdAt: a.now, updatedAt: a.now })
    .onConflictDoNothing()
    .returning({ id: apis.id });
  if (!row) return undefined;
  if (a.scopes.length) await ex.insert(apiScopes).values(a.scopes.map((s) => ({ apiId: row.id, name: s.name, description: s.description })));
  return row.id;
}

export async function updateApi(
  ex: Executor,
  id: string,
  patch: { name?: string | undefined; accessTokenTtlSeconds?: number | null | undefined; allowOfflineAccess?: boolean | undefined },
  now: Date,
) {
  await ex.update(apis).set({ ...patch, updatedAt: now }).where(eq(apis.id, id));
}

/** Scopes that go take every role's permission for them along (foreign key, on delete cascade). */
export async function replaceScopes(ex: Executor, id: string, remove: string[], upsert: { name: string; description: string }[]) {
  if (remove.length) await ex.delete(apiScopes).where(and(eq(apiScopes.apiId, id), inArray(apiScopes.name, remove)));
  for (const s of upsert) {
    await ex
      .insert(apiScopes)
      .values({ apiId: id, name: s.name, description: s.description })
      .onConflictDoUpdate({ target: [apiScopes.apiId, apiScopes.name], set: { description: s.description } });
  }
}

/** The API, its scopes and the permissions on them; clients keep no grant for an identifier that is gone. */
export async function deleteApi(ex: Executor, id: string, identifier: string) {
  await ex.delete(rolePermissions).where(eq(rolePermissions.apiId, id));
  await ex.delete(apis).where(eq(apis.id, id));
  await ex.update(oauthClients).set({ resources: sql`${oauthClients.resources} - ${identifier}::text` }).where(sql`${oauthClients.resources} ? ${identifier}::text`);
}

export async function insertRole(ex: Executor, r: { name: string; description: string; permissions: Permission[]; now: Date }): Promise<boolean> {
  const rows = await ex
    .insert(roles)
    .values({ name: r.name, description: r.description, createdAt: r.now, updatedAt: r.now })
    .onConflictDoNothing()
    .returning({ name: roles.name });
  if (!rows.length) return false;
  await setPermissions(ex, r.name, r.permissions);
  return true;
}

export async function updateRole(ex: Executor, name: string, patch: { description?: string | undefined }, now: Date) {
  await ex.update(roles).set({ ...patch, updatedAt: now }).where(eq(roles.name, name));
}

export async function setPermissions(ex: Executor, role: string, permissions: Permission[]) {
  await ex.delete(rolePermissions).where(eq(rolePermissions.role, role));
  if (permissions.length) await ex.insert(rolePermissions).values(permissions.map((p) => ({ role, apiId: p.apiId, scope: p.scope }))).onConflictDoNothing();
}

export async function roleHolders(ex: Executor, role: string): Promise<string[]> {
  const rows = await ex.select({ userId: userRoles.userId }).from(userRoles).where(eq(userRoles.role, role));
  return rows.map((r) => r.userId);
}

/** The role and (foreign keys, on delete cascade) its permissions and every user's holding of it. */
export async function deleteRole(ex: Executor, name: string) {
  await ex.delete(roles).where(eq(roles.name, name));
}
