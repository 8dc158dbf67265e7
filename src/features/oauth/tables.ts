import { boolean, index, jsonb, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { ts } from '../../kernel/storage/columns.js';
import { sessions } from '../sessions/tables.js';
import { users } from '../users/tables.js';

export const oauthClients = pgTable('oauth_clients', {
  clientId: text('client_id').primaryKey(),
  clientName: text('client_name').notNull(),
  type: text('type').notNull().$type<'public' | 'confidential'>(),
  secretHash: text('secret_hash'),
  redirectUris: jsonb('redirect_uris').notNull().$type<string[]>().default([]),
  grantTypes: jsonb('grant_types').notNull().$type<string[]>().default([]),
  responseTypes: jsonb('response_types').notNull().$type<string[]>().default([]),
  tokenEndpointAuthMethod: text('token_endpoint_auth_method').notNull(),
  scope: text('scope').notNull().default(''),
  /** First-party clients may use the password grant and skip consent. */
  firstParty: boolean('first_party').notNull().default(false),
  /** What the client may ask for at each API: `{"<identifier>": ["scope", ...]}` (src/features/apis/resources.ts). */
  resources: jsonb('resources').notNull().$type<Record<string, string[]>>().default({}),
  createdAt: ts('created_at').notNull().defaultNow(),
  secretRotatedAt: ts('secret_rotated_at'),
  /** OIDC RP-Initiated Logout 1.0 §3.1: where /logout may send the browser back to (exact match). */
  postLogoutRedirectUris: jsonb('post_logout_redirect_uris').notNull().$type<string[]>().default([]),
  /** OIDC Back-Channel Logout 1.0 §2.2: where a session's end is POSTed as a logout_token. */
  backchannelLogoutUri: text('backchannel_logout_uri'),
  backchannelLogoutSessionRequired: boolean('backchannel_logout_session_required').notNull().default(false),
});

export const authorizationCodes = pgTable(
  'authorization_codes',
  {
    codeHash: text('code_hash').primaryKey(),
    clientId: text('client_id').notNull(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    redirectUri: text('redirect_uri').notNull(),
    scope: text('scope').notNull().default(''),
    /** The API (identifier) asked for with `resource` (RFC 8707); null: Warden's own API. */
    resource: text('resource'),
    codeChallenge: text('code_challenge').notNull(),
    nonce: text('nonce'),
    authTime: ts('auth_time').notNull(),
    expiresAt: ts('expires_at').notNull(),
    consumedAt: ts('consumed_at'),
    /** Refresh-token family issued from this code; revoked if the code is presented again. */
    familyId: uuid('family_id'),
    /** jti of the access token issued from this code; revoked if the code is presented again. */
    accessJti: text('access_jti'),
    createdAt: ts('created_at').notNull().defaultNow(),
    /** The sign-in session the code was issued in; its refresh family joins it. */
    sessionId: uuid('session_id').references(() => sessions.sid, { onDelete: 'cascade' }),
  },
  (t) => [index('authorization_codes_expires_idx').on(t.expiresAt), index('authorization_codes_session_idx').on(t.sessionId)],
);

export const consents = pgTable(
  'consents',
  {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    clientId: text('client_id').notNull(),
    scope: text('scope').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.clientId] })],
);
