import type { RouteOptions } from 'fastify';
import { RouteAccessError, type BearerAccess, type BearerPolicy, type RouteAccess } from '../../platform/route-access.js';
import { SCOPES, type Scope } from '../oauth/scopes.js';
import { bearerGuard } from './guards.js';
import { isRole, PERMISSIONS, type Permission, type Role } from './roles.js';

declare module '../../platform/route-access.js' {
  /** A bearer route is declared in Warden's scopes, roles and permissions (a misspelt one does not compile). */
  interface AccessVocabulary {
    scope: Scope;
    role: Role;
    permission: Permission;
  }
}

/** Warden's own account API (`/users/me*`, MFA, password, e-mail): a user's token with `account`. */
export const ACCOUNT = { kind: 'bearer', scopes: ['account'] } as const satisfies RouteAccess;

function permissionsOf(access: BearerAccess): readonly Permission[] | undefined {
  if (access.permission === undefined) return undefined;
  return typeof access.permission === 'string' ? [access.permission] : access.permission;
}

function knownPermission(p: string): boolean {
  const [subject, action] = p.split(':');
  return Object.values(PERMISSIONS).some((m) => ((m as Record<string, readonly string[]>)[subject!] ?? []).includes(action!));
}

/**
 * The rules a declaration must follow, checked as the route is added. Warden's own API: `/users/me*`
 * needs `account`, every `/admin/*` API route needs `admin` and a role or permission on top.
 */
function checkBearer(route: RouteOptions, access: BearerAccess) {
  const problem = (p: string) => new RouteAccessError(route, p);
  if (!Array.isArray(access.scopes)) throw problem('a bearer route lists its scopes (an empty list for none)');
  for (const s of access.scopes) if (!(s in SCOPES)) throw problem(`unknown scope "${s}"`);
  const permissions = permissionsOf(access);
  if (permissions?.length === 0) throw problem('an empty permission list allows nobody');
  for (const p of permissions ?? []) if (!knownPermission(p)) throw problem(`unknown permission "${p}"`);
  if (access.role !== undefined && !isRole(access.role)) throw problem(`unknown role "${access.role}"`);
  const privileged = access.role !== undefined || permissions !== undefined;
  if (access.scopes.includes('admin') && !privileged) throw problem('the admin scope goes with a role or permission');
  if (route.url.startsWith('/admin/') && !(access.scopes.includes('admin') && privileged)) {
    throw problem('an /admin/* API route needs the admin scope and a role or permission');
  }
  if ((route.url === '/users/me' || route.url.startsWith('/users/me/')) && !access.scopes.includes('account')) {
    throw problem('a /users/me route needs the account scope');
  }
}

/** Warden's bearer declarations: its rules for them, and the access-token guard made from each. */
export const bearerPolicy: BearerPolicy = {
  check: checkBearer,
  guard: (access) => bearerGuard({ scopes: access.scopes, role: access.role, permissions: permissionsOf(access) }),
};
