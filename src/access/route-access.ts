import type { FastifyInstance, RouteOptions } from 'fastify';
import { SCOPES, type Scope } from '../oauth/scopes.js';
import { bearerGuard } from './guards.js';
import { isRole, PERMISSIONS, type Permission, type Role } from './roles.js';

/**
 * Who may call a route. Every route declares one in its options, `config: { access: … }`; the app
 * refuses to build with a route that declares none (installRouteAccess), so nothing is open by omission.
 * The kinds (docs/access.md):
 * - `public`: anyone, no credentials (discovery, health, registration, the mailed-token forms).
 * - `cookie`: a browser page whose feature checks its own session cookie and CSRF token (the console,
 *   the /authorize login and consent pages); a bearer token is not looked at.
 * - `client`: an OAuth endpoint that authenticates the calling client itself (RFC 6749 §2.3: /token,
 *   /revoke, /introspect).
 * - `bearer`: a user's access token with every listed scope and, when given, the role or one of the
 *   permissions; the guard is made from the declaration, and the OpenAPI `security` with it.
 */
export type RouteAccess =
  | { kind: 'public'; reason?: string }
  | { kind: 'cookie'; reason: string }
  | { kind: 'client'; reason: string }
  | { kind: 'bearer'; scopes: readonly Scope[]; role?: Role; permission?: Permission | readonly Permission[] };

export type BearerAccess = Extract<RouteAccess, { kind: 'bearer' }>;

/** Warden's own account API (`/users/me*`, MFA, password, e-mail): a user's token with `account`. */
export const ACCOUNT = { kind: 'bearer', scopes: ['account'] } as const satisfies RouteAccess;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call this route (src/access/route-access.ts); required of every route. */
    access?: RouteAccess;
  }
  interface FastifyInstance {
    /** Every route and its declared access, as added (docs and the test that walks the route table). */
    readonly accessTable: readonly AccessEntry[];
  }
}

export interface AccessEntry {
  method: string;
  url: string;
  access: RouteAccess;
}

/** A route that cannot be built as declared: thrown while the app is built, never at request time. */
export class RouteAccessError extends Error {
  constructor(route: Pick<RouteOptions, 'method' | 'url'>, problem: string) {
    super(`${String(route.method)} ${route.url}: ${problem} (see docs/access.md)`);
    this.name = 'RouteAccessError';
  }
}

/** The access of the routes a third-party plugin adds while it is registered (registerWithAccess). */
const PLUGIN_ACCESS = Symbol('warden.pluginRouteAccess');
type WithPluginAccess = FastifyInstance & { [PLUGIN_ACCESS]?: RouteAccess };

const KINDS = new Set(['public', 'cookie', 'client', 'bearer']);

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

/**
 * One onRoute hook, installed before any route: reads each route's declaration, refuses a route without
 * one (the app does not build), and turns a `bearer` declaration into the route's first preHandler and
 * its OpenAPI `security`. Other kinds get no guard here: their handlers authenticate (cookie, client) or
 * nobody needs to (public).
 */
export function installRouteAccess(app: FastifyInstance) {
  const table: AccessEntry[] = [];
  app.decorate('accessTable', { getter: () => table });
  app.addHook('onRoute', function (this: FastifyInstance, route) {
    const access = route.config?.access ?? (this as WithPluginAccess)[PLUGIN_ACCESS];
    if (!access) throw new RouteAccessError(route, 'declares no access: add config.access');
    if (!KINDS.has(access.kind)) throw new RouteAccessError(route, `unknown access kind "${String(access.kind)}"`);
    if (route.config?.access === undefined) route.config = { ...route.config, access };
    if (access.kind === 'bearer') checkBearer(route, access);
    for (const method of [route.method].flat()) table.push({ method, url: route.url, access });
    if (access.kind !== 'bearer') return;
    const guard = bearerGuard({ scopes: access.scopes, role: access.role, permissions: permissionsOf(access) });
    const existing = route.preHandler;
    route.preHandler = (existing === undefined ? [guard] : [guard, ...(Array.isArray(existing) ? existing : [existing])]) as RouteOptions['preHandler'];
    // The OpenAPI document says what the guard checks (docs.ts adds the password flow with these scopes).
    route.schema = { ...route.schema, security: [{ bearer: [] }] } as RouteOptions['schema'];
  });
}

/**
 * Registers a third-party plugin whose routes take no options of ours (Swagger UI, @fastify/cors's
 * preflight route) with one declaration for every route it adds while it loads. Plugins load one after
 * another, so no other plugin's route is added meanwhile; the declaration ends when the plugin has loaded.
 */
export async function registerWithAccess(app: FastifyInstance, access: RouteAccess, register: () => PromiseLike<unknown>) {
  const target = app as WithPluginAccess;
  target[PLUGIN_ACCESS] = access;
  try {
    await register();
  } finally {
    delete target[PLUGIN_ACCESS];
  }
}
