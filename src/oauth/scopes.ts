import { invalidScope } from '../http/errors.js';

/** Every scope Warden knows. OIDC's four, and the API's own. */
export const SCOPES = {
  openid: 'Sign you in (OpenID Connect)',
  profile: 'Your username and full name',
  email: 'Your e-mail address',
  offline_access: 'Stay signed in (refresh tokens)',
  'items:read': 'Read your items',
  'items:write': 'Create, change and delete your items',
} as const;
export type Scope = keyof typeof SCOPES;
export const ALL_SCOPES = Object.keys(SCOPES) as Scope[];
/** A first-party login without `scope` gets these. */
export const FIRST_PARTY_DEFAULT_SCOPES: Scope[] = ['openid', 'profile', 'email', 'offline_access', 'items:read', 'items:write'];

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
