import { passkeyRoutes } from '../passkeys/routes.js';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import formbody from '@fastify/formbody';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from '../config/load.js';
import { setupPlugin } from '../users/setup-routes.js';
import { createWarden, type Warden, type WardenDeps } from '../warden.js';
import { installErrorHandler } from './error-handler.js';
import { lazySerializers } from './serialization.js';
import { installInputGuard, validatorCompiler } from './validation.js';
import { installRequestLogging, lazyChildLogger, loggerOptions, requestIdGenerator } from './logging.js';
import { healthRoutes } from './health.js';
import { errorCatalogueRoutes } from './error-page.js';
import { securityHeadersPlugin } from './security-headers.js';
import { corsPlugin } from './cors.js';
import { rateLimitPlugin } from './rate-limit.js';
import { metricsRoutes } from './metrics.js';
import { nodeServerOptions } from './limits.js';
import { lockoutRoutes } from '../users/lockout-routes.js';
import { userRoutes } from '../users/routes.js';
import { adminUserRoutes } from '../users/admin-routes.js';
import { itemRoutes } from '../items/routes.js';
import { tokenRoutes } from '../oauth/token-endpoint.js';
import { oauthServer } from '../oauth/plugin.js';
import { exampleRoutes } from '../access/example-routes.js';
import { accountRoutes } from '../account/routes.js';
import { accountPages } from '../account/pages.js';
import { accountPageRoutes } from '../account/account-page.js';
import { auditPlugin } from '../audit/plugin.js';
import { docsPlugin } from './docs.js';
import { installRouteAccess } from '../access/route-access.js';
import { consolePlugin } from '../console/plugin.js';
import { adminApiRoutes } from '../apis/routes.js';
import { federationApiRoutes } from '../federation/routes.js';
import { sessionRoutes } from '../sessions/routes.js';
import { JobScheduler } from '../jobs/scheduler.js';
import { OAuthRegistry } from '../oauth/registry.js';
import { pagesPlugin } from '../pages/routes.js';
import { registerPagePlugin } from '../users/register-page.js';

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

/** Build the whole application; only src/http/server.ts listens. */
export async function buildApp(config: Config, opts: BuildOptions = {}): Promise<App> {
  const warden = opts.warden ?? (await createWarden(config, opts));
  // `http` reaches node's http.createServer (FastifyHttpOptions; not part of the generic options type).
  const options: FastifyServerOptions & { http?: ReturnType<typeof nodeServerOptions> } = {
    logger: loggerOptions(config, opts.logStream),
    // The request id is ours: accepted from a trusted proxy only, generated otherwise (see logging.ts).
    requestIdHeader: false,
    genReqId: requestIdGenerator(config),
    childLoggerFactory: lazyChildLogger,
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
    schemaController: lazySerializers(),
    ...opts.serverOptions,
  };
  const app = Fastify(options).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('warden', warden);
  warden.state.attachLogger?.(app.log);
  app.decorateRequest('auth', undefined);
  // Before every route: a route that declares no access (config.access) stops the app from building.
  installRouteAccess(app);
  if (!opts.warden) app.addHook('onClose', async () => warden.close());
  const jobs = new JobScheduler({ database: warden.database, clock: warden.clock, metrics: warden.metrics, log: app.log });
  app.decorate('jobs', jobs);
  app.decorate('oauth', new OAuthRegistry());
  app.addHook('onReady', async () => jobs.start());
  // preClose: before any onClose hook (the services, the database) goes, the runs under way finish.
  app.addHook('preClose', async () => jobs.stop());

  app.setValidatorCompiler(validatorCompiler());
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
  if (config.DOCS === 'enabled') await app.register(docsPlugin);
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
