import { invalidScope } from '../http/errors.js';

/** Every scope Warden knows. OIDC's four, Warden's own API (`account`, `admin`) and the items example. */
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
export const ALL_SCOPES = Object.keys(SCOPES) as Scope[];

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

/**
 * The scopes to grant: the requested ones (all must be known and allowed), or `fallback` when none
 * were requested. RFC 6749 §3.3.
 */
export function grantScopes(requested: string | undefined, allowed: readonly string[], fallback: readonly string[]): string[] {
  const asked = parseScope(requested);
  if (asked.length === 0) return fallback.filter((s) => allowed.includes(s));
  const unknown = asked.filter((s) => !(s in SCOPES));
  if (unknown.length) throw invalidScope(`unknown scope: ${unknown.join(' ')}`);
  const refused = asked.filter((s) => !allowed.includes(s));
  if (refused.length) throw invalidScope(`scope not allowed for this client: ${refused.join(' ')}`);
  return asked;
}

/**
 * What a client may ask for: its registered scopes, where `account` and `admin` follow from being first
 * party, not from the registration (a third-party client registered with them still cannot get them).
 */
export function scopesAllowedTo(client: { firstParty: boolean; scope: readonly string[] } | undefined): string[] {
  if (!client) return ALL_SCOPES;
  const registered = client.scope.filter((s) => !(FIRST_PARTY_SCOPES as readonly string[]).includes(s));
  return client.firstParty ? [...registered, ...FIRST_PARTY_SCOPES] : registered;
}

/** Refuses `account`/`admin` asked by a third-party client with a reason that says why (invalid_scope). */
export function refuseFirstPartyScopes(requested: string | undefined, firstParty: boolean) {
  if (firstParty) return;
  const asked = parseScope(requested).filter((s) => (FIRST_PARTY_SCOPES as readonly string[]).includes(s));
  if (asked.length) throw invalidScope(`scope reserved to first-party clients: ${asked.join(' ')}`);
}

/** The grant for this user: `admin` only when they hold the admin role (decided at grant time). */
export function scopesForUser(scopes: readonly string[], roles: readonly string[]): string[] {
  return roles.includes('admin') ? [...scopes] : scopes.filter((s) => s !== 'admin');
}
