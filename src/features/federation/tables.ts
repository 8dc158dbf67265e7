import { sql } from 'drizzle-orm';
import { check, foreignKey, index, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { ts } from '../../kernel/storage/columns.js';
import { users } from '../users/tables.js';

/**
 * Upstream sign-in providers (docs/federation.md): a generic OIDC provider found by discovery from its
 * issuer, or the GitHub OAuth 2 preset. The client secret is sealed with the encryption keyring
 * (src/kernel/storage/encryption.ts, sealedAt.idpClientSecret) and never returned by the API.
 */
export const identityProviders = pgTable(
  'identity_providers',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    kind: text('kind').$type<'oidc' | 'github'>().notNull(),
    name: text('name').notNull(),
    issuer: text('issuer'),
    clientId: text('client_id').notNull(),
    clientSecret: text('client_secret').notNull(),
    /** Space-separated. */
    scopes: text('scopes').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  () => [check('identity_providers_kind_check', sql`"kind" in ('oidc', 'github')`)],
);

/** A local user's link to an upstream account: (provider, subject) signs that user in. */
export const userIdentities = pgTable(
  'user_identities',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    providerId: uuid('provider_id').notNull(),
    subject: text('subject').notNull(),
    userId: uuid('user_id').notNull(),
    /** The upstream e-mail address when the link was made (shown to the user; not used to sign in). */
    email: text('email'),
    createdAt: ts('created_at').notNull().defaultNow(),
    lastUsedAt: ts('last_used_at'),
  },
  (t) => [
    foreignKey({ name: 'user_identities_provider_id_fkey', columns: [t.providerId], foreignColumns: [identityProviders.id] }).onDelete('cascade'),
    foreignKey({ name: 'user_identities_user_id_fkey', columns: [t.userId], foreignColumns: [users.id] }).onDelete('cascade'),
    uniqueIndex('user_identities_provider_subject_idx').on(t.providerId, t.subject),
    index('user_identities_user_idx').on(t.userId),
  ],
);
