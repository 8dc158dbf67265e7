import { bigint, boolean, foreignKey, index, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { ts } from '../../kernel/storage/columns.js';
import { users } from '../users/tables.js';

/** WebAuthn credentials (passkeys) a user registered (docs/passkeys.md). The public key is public: stored as is (base64url). */
export const passkeys = pgTable(
  'passkeys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id').notNull(),
    credentialId: text('credential_id').notNull(),
    publicKey: text('public_key').notNull(),
    counter: bigint('counter', { mode: 'number' }).notNull().default(0),
    transports: jsonb('transports').$type<string[]>().notNull().default([]),
    backedUp: boolean('backed_up').notNull().default(false),
    deviceType: text('device_type').notNull(),
    name: text('name').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    lastUsedAt: ts('last_used_at'),
  },
  (t) => [
    foreignKey({ name: 'passkeys_user_id_fkey', columns: [t.userId], foreignColumns: [users.id] }).onDelete('cascade'),
    uniqueIndex('passkeys_credential_id_idx').on(t.credentialId),
    index('passkeys_user_id_idx').on(t.userId),
  ],
);
