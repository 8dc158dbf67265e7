import { passkeyRoutes } from '../features/passkeys/routes.js';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import formbody from '@fastify/formbody';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from '../kernel/config/load.js';
import { setupPlugin } from '../features/users/setup-routes.js';
import { createWarden, type Warden, type WardenDeps } from './warden.js';
import { installErrorHandler } from '../platform/error-handler.js';
import { DeferredCompiles, lazySerializers } from '../platform/serialization.js';
import { installInputGuard, validatorCompiler } from '../platform/validation.js';
import { installRequestLogging, loggerOptions, requestIdGenerator } from '../platform/logging.js';
import { healthRoutes } from '../platform/health.js';
import { errorCatalogueRoutes } from '../platform/error-page.js';
import { securityHeadersPlugin } from '../platform/security-headers.js';
import { corsPlugin } from '../platform/cors.js';
import { rateLimitPlugin } from '../platform/rate-limit.js';
import { metricsRoutes } from '../platform/metrics.js';
import { nodeServerOptions } from '../platform/limits.js';
import { lockoutRoutes } from '../features/users/lockout-routes.js';
import { userRoutes } from '../features/users/routes.js';
import { adminUserRoutes } from '../features/users/admin-routes.js';
import { itemRoutes } from '../features/examples/items/routes.js';
import { tokenRoutes } from '../features/oauth/token-endpoint.js';
import { oauthServer } from '../features/oauth/plugin.js';
import { exampleRoutes } from '../features/examples/routes.js';
import { accountRoutes } from '../features/account/routes.js';
import { accountPages } from '../features/account/pages.js';
import { accountPageRoutes } from '../features/account/account-page.js';
import { auditPlugin } from '../features/audit/plugin.js';
import { docsPlugin } from '../platform/docs.js';
import { installRouteAccess } from '../platform/route-access.js';
import { bearerPolicy } from '../features/access/route-access.js';
import { SCOPES } from '../features/oauth/scopes.js';
import { consolePlugin } from '../features/console/plugin.js';
import { adminApiRoutes } from '../features/apis/routes.js';
import { federationApiRoutes } from '../features/federation/routes.js';
import { sessionRoutes } from '../features/sessions/routes.js';
import { JobScheduler } from '../platform/jobs.js';
import { OAuthRegistry } from '../features/oauth/grant.js';
import { pagesPlugin } from '../features/pages/routes.js';
import { registerPagePlugin } from '../features/users/register-page.js';

declare module 'fastify' {
  interface FastifyInstance {
    warden: Warden;
    /** Background jobs of this app: features register theirs (docs/jobs.md); they run from ready to close. */
    jobs: JobScheduler;
    /** This app's grant types, client authentication, password-grant steps and token-response hooks. */
    oauth: OAuthRegistry;
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
  // Before every route: a route that declares no access (config.access) stops the app from building.
  installRouteAccess(app, bearerPolicy);
  if (!opts.warden) app.addHook('onClose', async () => warden.close());
  const jobs = new JobScheduler({ database: warden.database, clock: warden.clock, metrics: warden.metrics, log: app.log });
  app.decorate('jobs', jobs);
  app.decorate('oauth', new OAuthRegistry());
  app.addHook('onReady', async () => jobs.start());
  // preClose: before any onClose hook (the services, the database) goes, the runs under way finish.
  app.addHook('preClose', async () => jobs.stop());

  app.decorate('deferredCompiles', deferredCompiles);
  app.setValidatorCompiler(validatorCompiler(deferredCompiles));
  installInputGuard(app);
  installErrorHandler(app);
  installRequestLogging(app);
  // The first hooks of every request (404s, errors and 429s included): headers, request id and the URL
  // limit, then CORS (so a 429 is readable by an allowed origin), then rate limits, then metrics.
  await app.register(securityHeadersPlugin);
  await app.register(corsPlugin);
  await app.register(rateLimitPlugin);
  await app.register(metricsRoutes);
  await app.register(formbody, { bodyLimit: config.BODY_LIMIT });
  // Before every route: @fastify/swagger collects the routes as they are added.
  if (config.DOCS === 'enabled') await app.register(docsPlugin, { scopes: SCOPES });
  // Before every route: its hooks (admin networks, sensitive access) must apply to all of them.
  await app.register(auditPlugin);

  await app.register(pagesPlugin);
  await app.register(healthRoutes);
  await app.register(errorCatalogueRoutes);
  await app.register(tokenRoutes);
  await app.register(oauthServer);
  await app.register(userRoutes);
  await app.register(adminUserRoutes);
  await app.register(sessionRoutes);
  await app.register(adminApiRoutes);
  await app.register(federationApiRoutes);
  await app.register(lockoutRoutes);
  await app.register(itemRoutes);
  await app.register(exampleRoutes);
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
