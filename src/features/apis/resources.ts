import { invalidScope, OAuthError } from '../../kernel/errors.js';
import { FIRST_PARTY_SCOPES, OIDC_SCOPES, parseScope } from '../oauth/scopes.js';
import type { AccessCatalog } from './catalog.js';
import type { Api } from './repository.js';

/** RFC 8707 §2: the requested resource is invalid, unknown or malformed (400). */
export const invalidTarget = (d: string) => new OAuthError('invalid_target', d);

const OIDC = new Set<string>(OIDC_SCOPES);
const FIRST_PARTY = new Set<string>(FIRST_PARTY_SCOPES);

/**
 * The API a request is for: `resource` (RFC 8707), or `audience` (Auth0's name for it); neither means
 * Warden's own API. One API per request: a token has one audience here.
 */
export function selectApi(catalog: AccessCatalog, params: { resource?: unknown; audience?: unknown }): Api {
  const { resource, audience } = params;
  if (Array.isArray(resource) || Array.isArray(audience)) throw invalidTarget('one resource per request');
  if (resource !== undefined && typeof resource !== 'string') throw invalidTarget('resource must be a string');
  if (audience !== undefined && typeof audience !== 'string') throw invalidTarget('audience must be a string');
  if (resource && audience && resource !== audience) throw invalidTarget('resource and audience name different APIs');
  const wanted = resource || audience;
  if (!wanted) return catalog.builtIn();
  const api = catalog.byIdentifier(wanted);
  if (!api) throw invalidTarget(`unknown resource: ${wanted.slice(0, 200)}`);
  return api;
}

/** What a client may ask for (undefined: Warden's own anonymous first-party client of the password grant). */
export interface ClientGrant {
  firstParty: boolean;
  /** Registered `scope`: the OIDC scopes and the built-in API's. */
  scope: readonly string[];
  /** Per-API grants, `{"<identifier>": ["scope", ...]}`. */
  resources: Readonly<Record<string, readonly string[]>>;
}

export interface ScopeRequest {
  api: Api;
  /** The `scope` parameter as sent. */
  requested: string | undefined;
  /** What a request without `scope` asks for (filtered like a request). */
  fallback: readonly string[];
  client: ClientGrant | undefined;
  /** `user`: a token for a user (their roles, once known); `client`: a client acting for itself. */
  subject: { kind: 'user'; roles: readonly string[] | undefined } | { kind: 'client' };
  /** Refuse with invalid_scope when nothing asked for can be granted (false: narrow silently, a refresh). */
  refuseEmpty: boolean;
}

/** The default of the password grant (and a first-party login) at an API: every OIDC scope and all of its own. */
export function defaultScopes(api: Api, builtInDefault: readonly string[]): string[] {
  return api.builtIn ? [...builtInDefault] : [...OIDC_SCOPES, ...api.scopes.map((s) => s.name)];
}

/**
 * What a token grants = requested ∩ what the client may ask for at that API ∩ (for a user) what the
 * user's roles give there (RFC 6749 §3.3: the answer's `scope` says what was granted). Refused with
 * invalid_scope: a scope the API does not have, `account`/`admin` asked by a third party, user scopes
 * asked by a client for itself, and a request of which nothing can be granted.
 * `account` is every user's own (their profile, password and MFA) and needs no role.
 */
export function decideScopes(catalog: AccessCatalog, r: ScopeRequest): string[] {
  const { api, client, subject } = r;
  const apiScopes = new Set(catalog.offeredScopes(api));
  const asked = parseScope(r.requested);
  const isKnown = (s: string) => OIDC.has(s) || apiScopes.has(s);
  const unknown = asked.filter((s) => !isKnown(s));
  // A scope removed from the API since a code or refresh token was issued is simply no longer granted.
  if (unknown.length && r.refuseEmpty) throw invalidScope(`unknown scope: ${unknown.join(' ')}`);
  if (subject.kind === 'client') {
    const forUsers = asked.filter((s) => OIDC.has(s) || (api.builtIn && FIRST_PARTY.has(s)));
    if (forUsers.length) throw invalidScope('user scopes cannot be granted to a client acting for itself');
  } else if (api.builtIn && client && !client.firstParty) {
    const reserved = asked.filter((s) => FIRST_PARTY.has(s));
    if (reserved.length) throw invalidScope(`scope reserved to first-party clients: ${reserved.join(' ')}`);
  }
  const candidates = (asked.length ? asked : r.fallback).filter(isKnown);
  const atApi = client?.resources[api.identifier] ?? [];
  const clientAllows = (s: string): boolean => {
    if (s === 'offline_access' && !api.allowOfflineAccess) return false;
    if (subject.kind === 'client' && (OIDC.has(s) || (api.builtIn && FIRST_PARTY.has(s)))) return false;
    if (!client) return true;
    if (OIDC.has(s)) return client.scope.includes(s);
    if (api.builtIn && FIRST_PARTY.has(s)) return client.firstParty;
    return atApi.includes(s) || (api.builtIn && client.scope.includes(s));
  };
  const roles = subject.kind === 'user' ? subject.roles : undefined;
  const granted = roles ? catalog.grantedBy(roles, api.id) : undefined;
  const userAllows = (s: string): boolean => {
    if (!roles || OIDC.has(s)) return true;
    if (api.builtIn && s === 'account') return true;
    // `admin` also needs the admin role itself (DESIGN "Who may call what"), whatever the data says.
    if (api.builtIn && s === 'admin' && !roles.includes('admin')) return false;
    return granted!.has(s);
  };
  const result = candidates.filter((s) => clientAllows(s) && userAllows(s));
  if (r.refuseEmpty && asked.length && result.length === 0) throw invalidScope(`none of the requested scopes can be granted: ${asked.join(' ')}`);
  return result;
}

/** `resource` as stored with a code or refresh token: null for Warden's own API (its identifier follows JWT_AUDIENCE). */
export const storedResource = (api: Api): string | null => (api.builtIn ? null : api.identifier);

/** The API a code or refresh token was granted for; undefined when it has been deleted since. */
export const apiOfStored = (catalog: AccessCatalog, resource: string | null): Api | undefined =>
  resource === null ? catalog.builtIn() : catalog.byIdentifier(resource);
