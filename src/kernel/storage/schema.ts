import { integer, jsonb, pgTable, text } from 'drizzle-orm/pg-core';

/**
 * The one table no feature owns. Every other table is declared by the feature that uses it, in
 * src/features/<name>/tables.ts; drizzle.config.ts gathers this file and those into the schema the
 * migrations in drizzle/ are generated from.
 *
 * warden_meta: a key-value table made by the first migration for state that must survive restarts. No
 * code reads or writes it today (counters such as failed logins live in the state store); it stays
 * declared because removing it from the schema would make drizzle-kit generate a migration dropping it.
 */
export const meta = pgTable('warden_meta', {
  key: text('key').primaryKey(),
  value: jsonb('value').notNull(),
  version: integer('version').notNull().default(0),
});
