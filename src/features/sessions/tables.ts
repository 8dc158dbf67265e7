import { foreignKey, index, integer, jsonb, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { ts } from '../../kernel/storage/columns.js';
import { users } from '../users/tables.js';

/**
 * A session is one sign-in (`sid`): a password grant, an MFA grant's completion, or an /authorize
 * sign-in shared by the clients that got codes through it. Its refresh families and access tokens
 * (which carry `sid`) end with it.
 */
export const sessions = pgTable(
  'sessions',
  {
    sid: uuid('sid').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    clientIds: jsonb('client_ids').notNull().$type<string[]>().default([]),
    authTime: ts('auth_time').notNull(),
    /** Authentication methods (RFC 8176): pwd, otp. */
    amr: jsonb('amr').notNull().$type<string[]>().default([]),
    ip: text('ip'),
    userAgent: text('user_agent'),
    createdAt: ts('created_at').notNull().defaultNow(),
    lastUsedAt: ts('last_used_at').notNull(),
    endedAt: ts('ended_at'),
    endReason: text('end_reason'),
  },
  (t) => [index('sessions_user_idx').on(t.userId, t.createdAt), index('sessions_ended_idx').on(t.endedAt), index('sessions_last_used_idx').on(t.lastUsedAt)],
);

/**
 * The back-channel logout outbox: one row per (ended session, client with a backchannel_logout_uri),
 * written in the transaction that ends the session, deleted once delivered or given up. A worker on
 * every instance claims due rows (claimed_until is its lease), so a restart or a crash loses none.
 */
export const backchannelLogouts = pgTable(
  'backchannel_logouts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    sid: uuid('sid').notNull(),
    userId: uuid('user_id').notNull(),
    clientId: text('client_id').notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: ts('next_attempt_at').notNull(),
    claimedUntil: ts('claimed_until'),
    lastError: text('last_error'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('backchannel_logouts_due_idx').on(t.nextAttemptAt)],
);

/**
 * Devices a user has signed in from (src/features/sessions/new-device.ts): only a SHA-256 of the device's key —
 * a long-lived random browser cookie, or the user agent and IP prefix of an API login.
 */
export const knownDevices = pgTable(
  'known_devices',
  {
    userId: uuid('user_id').notNull(),
    deviceHash: text('device_hash').notNull(),
    firstSeenAt: ts('first_seen_at').notNull().defaultNow(),
    lastSeenAt: ts('last_seen_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.deviceHash] }),
    foreignKey({ name: 'known_devices_user_id_fkey', columns: [t.userId], foreignColumns: [users.id] }).onDelete('cascade'),
    index('known_devices_last_seen_idx').on(t.lastSeenAt),
  ],
);

/** The single-use links of new-device mails that end the session they tell of (stored hashed). */
export const sessionEndLinks = pgTable(
  'session_end_links',
  {
    tokenHash: text('token_hash').primaryKey(),
    sid: uuid('sid').notNull(),
    userId: uuid('user_id').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    expiresAt: ts('expires_at').notNull(),
    usedAt: ts('used_at'),
  },
  (t) => [
    foreignKey({ name: 'session_end_links_user_id_fkey', columns: [t.userId], foreignColumns: [users.id] }).onDelete('cascade'),
    index('session_end_links_expires_idx').on(t.expiresAt),
  ],
);
