/**
 * OpenID Connect's four scopes (fixed) and the built-in scopes of Warden's own API (`account`, `admin` and
 * the items example), as constants: routes declare them (src/features/access/route-access.ts) and migration 0004
 * seeded the built-in API with them. Every other API's scopes are data (src/features/apis/).
 */
export const SCOPES = {
  openid: 'Sign you in (OpenID Connect)',
  profile: 'Your username and full name',
  email: 'Your e-mail address',
  offline_access: 'Stay signed in (refresh tokens)',
  account: 'Manage your account: profile, e-mail, password, two-step verification (first-party apps only)',
  admin: 'Administer Warden (first-party apps only, for users holding the admin role)',
  'items:read': 'Read your items',
  'items:write': 'Create, change and delete your items',
} as const;
export type Scope = keyof typeof SCOPES;
/** Scopes about the user's identity (OIDC), valid next to any API's scopes. */
export const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'] as const;
export const ALL_SCOPES = Object.keys(SCOPES) as Scope[];
/**
 * The scopes of the examples' items API (src/features/examples): with `EXAMPLES=disabled` they are neither
 * advertised (discovery, OpenAPI) nor granted, though the built-in API's rows keep them (data, migration 0004).
 */
export const EXAMPLE_SCOPES: readonly Scope[] = ['items:read', 'items:write'];

/**
 * Scopes of Warden's own API that only first-party clients (the password grant and clients registered
 * with `first_party: true`) may obtain, whatever a client was registered with: a third-party client that
 * asks for one is refused with invalid_scope (RFC 6749 §3.3). `admin` goes only to users holding the
 * admin role; for anyone else it is dropped from the grant (the answer's `scope` says so).
 */
export const FIRST_PARTY_SCOPES: readonly Scope[] = ['account', 'admin'];

/** A first-party login without `scope` gets these (and `admin` only when the user holds the admin role). */
export const FIRST_PARTY_DEFAULT_SCOPES: Scope[] = ['openid', 'profile', 'email', 'offline_access', 'account', 'admin', 'items:read', 'items:write'];

/**
 * The client id in the access tokens of the password grant when the request names no client (RFC 9068
 * §2.2 requires one): Warden's own first-party client. Reserved: no registered client can have it (ids are
 * generated as `wc-…`), it cannot be deleted, and the bearer guard and introspection treat it as existing.
 */
export const BUILT_IN_CLIENT_ID = 'warden';

export function parseScope(scope: string | undefined): string[] {
  return [...new Set((scope ?? '').split(' ').filter(Boolean))];
}

/** The grant for this user: `admin` only when they hold the admin role (decided at grant time). */
export function scopesForUser(scopes: readonly string[], roles: readonly string[]): string[] {
  return roles.includes('admin') ? [...scopes] : scopes.filter((s) => s !== 'admin');
}
