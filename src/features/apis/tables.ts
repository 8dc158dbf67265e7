import { sql } from 'drizzle-orm';
import { boolean, foreignKey, integer, pgTable, primaryKey, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { ts } from '../../kernel/storage/columns.js';

/** API resources (src/features/apis/): `identifier` becomes a token's `aud`. Exactly one is Warden's own (built_in). */
export const apis = pgTable(
  'apis',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    identifier: text('identifier').notNull(),
    name: text('name').notNull(),
    /** Null: ACCESS_TOKEN_EXPIRE_MINUTES. */
    accessTokenTtlSeconds: integer('access_token_ttl_seconds'),
    allowOfflineAccess: boolean('allow_offline_access').notNull().default(true),
    builtIn: boolean('built_in').notNull().default(false),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('apis_identifier_idx').on(t.identifier),
    /** At most one row is built in (migration 0004). */
    uniqueIndex('apis_one_built_in_idx').on(t.builtIn).where(sql`"built_in"`),
  ],
);

export const apiScopes = pgTable(
  'api_scopes',
  {
    apiId: uuid('api_id').notNull(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    builtIn: boolean('built_in').notNull().default(false),
  },
  (t) => [
    primaryKey({ columns: [t.apiId, t.name] }),
    foreignKey({ name: 'api_scopes_api_id_fkey', columns: [t.apiId], foreignColumns: [apis.id] }).onDelete('cascade'),
  ],
);

export const roles = pgTable('roles', {
  name: text('name').primaryKey(),
  description: text('description').notNull().default(''),
  builtIn: boolean('built_in').notNull().default(false),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

/** A role's permission: one scope of one API (removed with the scope, the API or the role). */
export const rolePermissions = pgTable(
  'role_permissions',
  {
    role: text('role').notNull(),
    apiId: uuid('api_id').notNull(),
    scope: text('scope').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.role, t.apiId, t.scope] }),
    foreignKey({ name: 'role_permissions_role_fkey', columns: [t.role], foreignColumns: [roles.name] }).onDelete('cascade'),
    foreignKey({ name: 'role_permissions_scope_fk', columns: [t.apiId, t.scope], foreignColumns: [apiScopes.apiId, apiScopes.name] }).onDelete('cascade'),
  ],
);
