import fp from 'fastify-plugin';
import type { FastifyInstance, preHandlerHookHandler, RouteOptions } from 'fastify';

/**
 * The words a bearer declaration is written in. Plain strings here; the access feature narrows them to
 * Warden's scopes, roles and permissions by declaration merging (src/features/access/route-access.ts),
 * so a misspelt scope in a route's declaration does not compile.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface AccessVocabulary {}
type Word<K extends string> = AccessVocabulary extends { [P in K]: infer T } ? T : string;

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
  | { kind: 'bearer'; scopes: readonly Word<'scope'>[]; role?: Word<'role'>; permission?: Word<'permission'> | readonly Word<'permission'>[] };

export type BearerAccess = Extract<RouteAccess, { kind: 'bearer' }>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call this route (src/platform/route-access.ts); required of every route. */
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

/** What a `bearer` declaration means: the rules it must follow, and the guard made from it. */
export interface BearerPolicy {
  /** Throws a RouteAccessError when the declaration breaks a rule (checked as the route is added). */
  check(route: RouteOptions, access: BearerAccess): void;
  guard(access: BearerAccess): preHandlerHookHandler;
}

/** The access of the routes a third-party plugin adds while it is registered (registerWithAccess). */
const PLUGIN_ACCESS = Symbol('warden.pluginRouteAccess');
type WithPluginAccess = FastifyInstance & { [PLUGIN_ACCESS]?: RouteAccess };

const KINDS = new Set(['public', 'cookie', 'client', 'bearer']);

/**
 * One onRoute hook, installed before any route: reads each route's declaration, refuses a route without
 * one (the app does not build), and turns a `bearer` declaration into the route's first preHandler and
 * its OpenAPI `security`. Other kinds get no guard here: their handlers authenticate (cookie, client) or
 * nobody needs to (public).
 */
export function installRouteAccess(app: FastifyInstance, bearer: BearerPolicy) {
  const table: AccessEntry[] = [];
  app.decorate('accessTable', { getter: () => table });
  app.addHook('onRoute', function (this: FastifyInstance, route) {
    const access = route.config?.access ?? (this as WithPluginAccess)[PLUGIN_ACCESS];
    if (!access) throw new RouteAccessError(route, 'declares no access: add config.access');
    if (!KINDS.has(access.kind)) throw new RouteAccessError(route, `unknown access kind "${String(access.kind)}"`);
    if (route.config?.access === undefined) route.config = { ...route.config, access };
    if (access.kind === 'bearer') bearer.check(route, access);
    for (const method of [route.method].flat()) table.push({ method, url: route.url, access });
    if (access.kind !== 'bearer') return;
    const guard = bearer.guard(access);
    const existing = route.preHandler;
    route.preHandler = (existing === undefined ? [guard] : [guard, ...(Array.isArray(existing) ? existing : [existing])]) as RouteOptions['preHandler'];
    // The OpenAPI document says what the guard checks (docs.ts adds the password flow with these scopes).
    route.schema = { ...route.schema, security: [{ bearer: [] }] } as RouteOptions['schema'];
  });
}

/** installRouteAccess as the first plugin: every route plugin depends on it (src/platform/pipeline.ts). */
export const routeAccessPlugin = fp(
  async (app: FastifyInstance, opts: { bearer: BearerPolicy }) => {
    installRouteAccess(app, opts.bearer);
  },
  { name: 'warden-route-access', fastify: '5.x' },
);

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
