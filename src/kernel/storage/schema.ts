import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    username: text('username').notNull(),
    email: text('email').notNull(),
    fullName: text('full_name'),
    passwordHash: text('password_hash').notNull(),
    disabled: boolean('disabled').notNull().default(false),
    emailVerified: boolean('email_verified').notNull().default(false),
    /** A new address waiting for its verification link; `email` stays the account's until then. */
    pendingEmail: text('pending_email'),
    /** Tokens issued before this instant are dead: logout-everywhere, password change, admin force-logout. */
    tokensValidAfter: ts('tokens_valid_after').notNull().defaultNow(),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('users_username_lower_idx').on(sql`lower(${t.username})`),
    uniqueIndex('users_email_lower_idx').on(sql`lower(${t.email})`),
    index('users_created_idx').on(t.createdAt, t.id),
  ],
);

export const userRoles = pgTable(
  'user_roles',
  {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role')
      .notNull()
      .references(() => roles.name, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.userId, t.role] })],
);

export const items = pgTable(
  'items',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    ownerId: uuid('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    title: text('title').notNull(),
    description: text('description'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [index('items_owner_created_idx').on(t.ownerId, t.createdAt, t.id), index('items_created_idx').on(t.createdAt, t.id)],
);

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

/** Single-use tokens sent by mail: e-mail verification and password reset. */
export const accountTokens = pgTable(
  'account_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    purpose: text('purpose').notNull().$type<'verify_email' | 'reset_password'>(),
    tokenHash: text('token_hash').notNull(),
    email: text('email').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    expiresAt: ts('expires_at').notNull(),
    usedAt: ts('used_at'),
  },
  (t) => [uniqueIndex('account_tokens_hash_idx').on(t.tokenHash), index('account_tokens_user_idx').on(t.userId, t.purpose)],
);

export const mfaTotp = pgTable('mfa_totp', {
  userId: uuid('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  secret: text('secret').notNull(),
  confirmedAt: ts('confirmed_at'),
  /** Highest TOTP time step accepted; a code at or below it is a replay. */
  lastStep: bigint('last_step', { mode: 'number' }).notNull().default(0),
  createdAt: ts('created_at').notNull().defaultNow(),
});

export const mfaRecoveryCodes = pgTable(
  'mfa_recovery_codes',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    codeHash: text('code_hash').notNull(),
    usedAt: ts('used_at'),
  },
  (t) => [index('mfa_recovery_user_idx').on(t.userId)],
);

export const auditEvents = pgTable(
  'audit_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: ts('at').notNull().defaultNow(),
    type: text('type').notNull(),
    actorId: text('actor_id'),
    subjectId: text('subject_id'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    requestId: text('request_id'),
    flagged: boolean('flagged').notNull().default(false),
    details: jsonb('details').notNull().$type<Record<string, unknown>>().default({}),
  },
  (t) => [
    index('audit_at_idx').on(t.at, t.id),
    index('audit_type_at_idx').on(t.type, t.at),
    index('audit_actor_idx').on(t.actorId, t.at),
    index('audit_subject_idx').on(t.subjectId, t.at),
  ],
);

/** Admin console sessions (cookie holds the token; only its hash is stored). */
export const consoleSessions = pgTable(
  'console_sessions',
  {
    idHash: text('id_hash').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    csrfToken: text('csrf_token').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    expiresAt: ts('expires_at').notNull(),
  },
  (t) => [index('console_sessions_expires_idx').on(t.expiresAt)],
);

/** Free-form counters that must survive restarts (e.g. failed-login history on PGlite). Unused columns stay null. */
export const meta = pgTable('warden_meta', {
  key: text('key').primaryKey(),
  value: jsonb('value').notNull(),
  version: integer('version').notNull().default(0),
});

/** Access tokens revoked before their expiry (RFC 7009); loaded at start, kept until they would have expired. */
export const revokedTokens = pgTable(
  'revoked_tokens',
  {
    jti: text('jti').primaryKey(),
    expiresAt: ts('expires_at').notNull(),
  },
  (t) => [index('revoked_tokens_expires_idx').on(t.expiresAt)],
);

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
  (t) => [uniqueIndex('apis_identifier_idx').on(t.identifier)],
);

export const apiScopes = pgTable(
  'api_scopes',
  {
    apiId: uuid('api_id')
      .notNull()
      .references(() => apis.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    builtIn: boolean('built_in').notNull().default(false),
  },
  (t) => [primaryKey({ columns: [t.apiId, t.name] })],
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
    role: text('role')
      .notNull()
      .references(() => roles.name, { onDelete: 'cascade' }),
    apiId: uuid('api_id').notNull(),
    scope: text('scope').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.role, t.apiId, t.scope] }),
    foreignKey({ name: 'role_permissions_scope_fk', columns: [t.apiId, t.scope], foreignColumns: [apiScopes.apiId, apiScopes.name] }).onDelete('cascade'),
  ],
);

/**
 * Devices a user has signed in from (src/features/sessions/new-device.ts): only a SHA-256 of the device's key —
 * a long-lived random browser cookie, or the user agent and IP prefix of an API login.
 */
export const knownDevices = pgTable(
  'known_devices',
  {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    deviceHash: text('device_hash').notNull(),
    firstSeenAt: ts('first_seen_at').notNull().defaultNow(),
    lastSeenAt: ts('last_seen_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.deviceHash] }), index('known_devices_last_seen_idx').on(t.lastSeenAt)],
);

/** The single-use links of new-device mails that end the session they tell of (stored hashed). */
export const sessionEndLinks = pgTable(
  'session_end_links',
  {
    tokenHash: text('token_hash').primaryKey(),
    sid: uuid('sid').notNull(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: ts('created_at').notNull().defaultNow(),
    expiresAt: ts('expires_at').notNull(),
    usedAt: ts('used_at'),
  },
  (t) => [index('session_end_links_expires_idx').on(t.expiresAt)],
);

/** WebAuthn credentials (passkeys) a user registered (docs/passkeys.md). The public key is public: stored as is (base64url). */
export const passkeys = pgTable(
  'passkeys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
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
  (t) => [uniqueIndex('passkeys_credential_id_idx').on(t.credentialId), index('passkeys_user_id_idx').on(t.userId)],
);

/**
 * Upstream sign-in providers (docs/federation.md): a generic OIDC provider found by discovery from its
 * issuer, or the GitHub OAuth 2 preset. The client secret is sealed with the encryption keyring
 * (src/kernel/storage/encryption.ts, sealedAt.idpClientSecret) and never returned by the API.
 */
export const identityProviders = pgTable('identity_providers', {
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
});

/** A local user's link to an upstream account: (provider, subject) signs that user in. */
export const userIdentities = pgTable(
  'user_identities',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    providerId: uuid('provider_id')
      .notNull()
      .references(() => identityProviders.id, { onDelete: 'cascade' }),
    subject: text('subject').notNull(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** The upstream e-mail address when the link was made (shown to the user; not used to sign in). */
    email: text('email'),
    createdAt: ts('created_at').notNull().defaultNow(),
    lastUsedAt: ts('last_used_at'),
  },
  (t) => [uniqueIndex('user_identities_provider_subject_idx').on(t.providerId, t.subject), index('user_identities_user_idx').on(t.userId)],
);
