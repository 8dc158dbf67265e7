import { index, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { ts } from '../../kernel/storage/columns.js';
import { sessions } from '../sessions/tables.js';
import { users } from '../users/tables.js';

export const signingKeys = pgTable('signing_keys', {
  kid: text('kid').primaryKey(),
  alg: text('alg').notNull(),
  publicJwk: jsonb('public_jwk').notNull().$type<Record<string, unknown>>(),
  /** Rows from before encryption at rest only; start-up seals them into private_key and clears this. */
  privateJwk: jsonb('private_jwk').$type<Record<string, unknown>>(),
  /** The private JWK sealed with the encryption keyring (src/kernel/storage/encryption.ts); null once the key stops signing. */
  privateKey: text('private_key'),
  /** active: signs new tokens; retiring: verifies only, still in JWKS; retired: gone from JWKS. */
  state: text('state').notNull().$type<'active' | 'retiring' | 'retired'>(),
  createdAt: ts('created_at').notNull().defaultNow(),
  retiringAt: ts('retiring_at'),
  /** A retiring key leaves the JWKS only after this: every token it signed, on any instance, has expired. */
  retireAfter: ts('retire_after'),
  retiredAt: ts('retired_at'),
});

export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tokenHash: text('token_hash').notNull(),
    familyId: uuid('family_id').notNull(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    clientId: text('client_id'),
    scope: text('scope').notNull().default(''),
    /** The API (identifier) the grant is for (RFC 8707); null: Warden's own API. */
    resource: text('resource'),
    authTime: ts('auth_time').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    expiresAt: ts('expires_at').notNull(),
    /** Set when the token was exchanged for its successor (rotation). */
    usedAt: ts('used_at'),
    replacedBy: uuid('replaced_by'),
    revokedAt: ts('revoked_at'),
    /** The sign-in session the family belongs to (null: a family issued before sessions existed). */
    sessionId: uuid('session_id').references(() => sessions.sid, { onDelete: 'cascade' }),
    /**
     * The successor's token value, sealed with a key derived from this token (see sealSuccessor), so a
     * retry within REFRESH_REUSE_GRACE_SECONDS answers the same successor; erased after the window.
     */
    successorSealed: text('successor_sealed'),
  },
  (t) => [
    uniqueIndex('refresh_tokens_hash_idx').on(t.tokenHash),
    index('refresh_tokens_family_idx').on(t.familyId),
    index('refresh_tokens_session_idx').on(t.sessionId),
    index('refresh_tokens_user_idx').on(t.userId),
    index('refresh_tokens_expires_idx').on(t.expiresAt),
  ],
);

/** Access tokens revoked before their expiry (RFC 7009); loaded at start, kept until they would have expired. */
export const revokedTokens = pgTable(
  'revoked_tokens',
  {
    jti: text('jti').primaryKey(),
    expiresAt: ts('expires_at').notNull(),
  },
  (t) => [index('revoked_tokens_expires_idx').on(t.expiresAt)],
);
