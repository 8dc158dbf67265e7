import { passkeyRoutes } from '../features/passkeys/routes.js';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import formbody from '@fastify/formbody';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from '../kernel/config/load.js';
import { setupPlugin } from '../features/users/setup-routes.js';
import { createWarden, type Warden, type WardenDeps } from './warden.js';
import { errorHandlerPlugin } from '../platform/error-handler.js';
import { DeferredCompiles, lazySerializers } from '../platform/serialization.js';
import { validationPlugin } from '../platform/validation.js';
import { loggerOptions, requestIdGenerator, requestLoggingPlugin } from '../platform/logging.js';
import { healthRoutes } from '../platform/health.js';
import { errorCatalogueRoutes } from '../platform/error-page.js';
import { ERROR_CATALOGUE } from './error-catalogue.js';
import { securityHeadersPlugin } from '../platform/security-headers.js';
import { corsPlugin } from '../platform/cors.js';
import { rateLimitPlugin } from '../platform/rate-limit.js';
import { metricsRoutes } from '../platform/metrics.js';
import { nodeServerOptions } from '../platform/limits.js';
import { lockoutRoutes } from '../features/users/lockout-routes.js';
import { userRoutes } from '../features/users/routes.js';
import { adminUserRoutes } from '../features/users/admin-routes.js';
import { tokenRoutes } from '../features/oauth/token-endpoint.js';
import { oauthServer } from '../features/oauth/plugin.js';
import { examplesPlugin, EXAMPLE_TAGS } from '../features/examples/plugin.js';
import { accountRoutes } from '../features/account/routes.js';
import { accountPages } from '../features/account/pages.js';
import { accountPageRoutes } from '../features/account/account-page.js';
import { auditPlugin } from '../features/audit/plugin.js';
import { docsPlugin, TAGS } from '../platform/docs.js';
import { routeAccessPlugin } from '../platform/route-access.js';
import { bearerPolicy } from '../features/access/route-access.js';
import { EXAMPLE_SCOPES, SCOPES } from '../features/oauth/scopes.js';
import { consolePlugin } from '../features/console/plugin.js';
import { adminApiRoutes } from '../features/apis/routes.js';
import { federationApiRoutes } from '../features/federation/routes.js';
import { sessionRoutes } from '../features/sessions/routes.js';
import { jobsPlugin } from '../platform/jobs.js';
import { oauthRegistryPlugin } from '../features/oauth/grant.js';
import { pagesPlugin } from '../features/pages/routes.js';
import { registerPagePlugin } from '../features/users/register-page.js';

declare module 'fastify' {
  interface FastifyInstance {
    warden: Warden;
  }
}

export type App = FastifyInstance;

export interface BuildOptions extends WardenDeps {
  /** Already built services (tests that build several apps on one database). */
  warden?: Warden;
  /** Where log lines go (tests capture them); defaults to stdout. */
  logStream?: NodeJS.WritableStream;
  /** Fastify server options the server module needs (https). */
  serverOptions?: Partial<FastifyServerOptions> & Record<string, unknown>;
}

/** Build the whole application; only src/app/server.ts listens. */
export async function buildApp(config: Config, opts: BuildOptions = {}): Promise<App> {
  const warden = opts.warden ?? (await createWarden(config, opts));
  const deferredCompiles = new DeferredCompiles();
  // `http` reaches node's http.createServer (FastifyHttpOptions; not part of the generic options type).
  const options: FastifyServerOptions & { http?: ReturnType<typeof nodeServerOptions> } = {
    logger: loggerOptions(config, opts.logStream),
    // The request id is ours: accepted from a trusted proxy only, generated otherwise (see logging.ts).
    requestIdHeader: false,
    genReqId: requestIdGenerator(config),
    // Fastify's own two lines per request are replaced by our one (installRequestLogging).
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: config.trustedProxies.length ? [...config.trustedProxies] : false,
    bodyLimit: config.BODY_LIMIT,
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    keepAliveTimeout: config.KEEP_ALIVE_TIMEOUT_MS,
    connectionTimeout: config.REQUEST_TIMEOUT_MS * 2,
    // Header size (431) and a timely end to slow-loris connections (see limits.ts).
    http: nodeServerOptions(config),
    return503OnClosing: true,
    routerOptions: { maxParamLength: 200, ignoreTrailingSlash: false },
    schemaController: lazySerializers(deferredCompiles),
    ...opts.serverOptions,
  };
  const app = Fastify(options).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('warden', warden);
  warden.state.attachLogger?.(app.log);
  app.decorateRequest('auth', undefined);
  // Each plugin names the plugins it needs (fastify-plugin `dependencies`, src/platform/pipeline.ts), so
  // a registration out of this order stops the boot with a message naming the missing plugin.
  // Before every route: a route that declares no access (config.access) stops the app from building.
  await app.register(routeAccessPlugin, { bearer: bearerPolicy });
  if (!opts.warden) app.addHook('onClose', async () => warden.close());
  await app.register(jobsPlugin);
  await app.register(oauthRegistryPlugin);

  app.decorate('deferredCompiles', deferredCompiles);
  await app.register(validationPlugin, { deferred: deferredCompiles });
  await app.register(errorHandlerPlugin);
  await app.register(requestLoggingPlugin);
  // The first hooks of every request (404s, errors and 429s included): headers, request id and the URL
  // limit, then CORS (so a 429 is readable by an allowed origin), then rate limits, then metrics.
  await app.register(securityHeadersPlugin);
  await app.register(corsPlugin);
  await app.register(rateLimitPlugin);
  await app.register(metricsRoutes);
  await app.register(formbody, { bodyLimit: config.BODY_LIMIT });
  // Before every route: @fastify/swagger collects the routes as they are added.
  const examples = config.EXAMPLES === 'enabled';
  if (config.DOCS === 'enabled') {
    // Without the examples, neither their groups nor their scopes are in the document.
    const scopes = Object.fromEntries(Object.entries(SCOPES).filter(([s]) => examples || !(EXAMPLE_SCOPES as readonly string[]).includes(s)));
    const tags = TAGS.filter((t) => examples || !EXAMPLE_TAGS.includes(t.name));
    await app.register(docsPlugin, { scopes, tags });
  }
  // Before every route: its hooks (admin networks, sensitive access) must apply to all of them.
  await app.register(auditPlugin);

  await app.register(pagesPlugin);
  await app.register(healthRoutes);
  await app.register(errorCatalogueRoutes, { catalogue: ERROR_CATALOGUE });
  await app.register(tokenRoutes);
  await app.register(oauthServer);
  await app.register(userRoutes);
  await app.register(adminUserRoutes);
  await app.register(sessionRoutes);
  await app.register(adminApiRoutes);
  await app.register(federationApiRoutes);
  await app.register(lockoutRoutes);
  if (examples) await app.register(examplesPlugin);
  await app.register(accountRoutes);
  await app.register(accountPages);
  await app.register(accountPageRoutes);
  await app.register(passkeyRoutes);
  await app.register(consolePlugin);
  await app.register(setupPlugin);
  await app.register(registerPagePlugin);
  warden.mailer.useLogger(app.log);

  return app;
}
