import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import formbody from '@fastify/formbody';
import { createTestApp, type TestApp } from '../support/app.js';
import { routeAccessPlugin } from '../../src/platform/route-access.js';
import { bearerPolicy } from '../../src/features/access/route-access.js';
import { jobsPlugin } from '../../src/platform/jobs.js';
import { validationPlugin } from '../../src/platform/validation.js';
import { DeferredCompiles } from '../../src/platform/serialization.js';
import { errorHandlerPlugin } from '../../src/platform/error-handler.js';
import { requestLoggingPlugin } from '../../src/platform/logging.js';
import { securityHeadersPlugin } from '../../src/platform/security-headers.js';
import { corsPlugin } from '../../src/platform/cors.js';
import { rateLimitPlugin } from '../../src/platform/rate-limit.js';
import { metricsRoutes } from '../../src/platform/metrics.js';
import { auditPlugin } from '../../src/features/audit/plugin.js';
import { userRoutes } from '../../src/features/users/routes.js';

// Each platform piece and each feature's routes is a named Fastify plugin that declares what it needs
// (fastify-plugin `name`, `dependencies`, `decorators`), so a registration out of order in src/app/app.ts
// stops the boot with Fastify's own message instead of building routes without their guards.

describe('named plugins with declared dependencies (issue 14)', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  it('the app registers every platform piece and feature by name', () => {
    const names = [
      'warden-route-access',
      'warden-jobs',
      'warden-oauth-registry',
      'warden-validation',
      'warden-error-handler',
      'warden-logging',
      'warden-security-headers',
      'warden-cors',
      'warden-rate-limit',
      'warden-metrics',
      '@fastify/formbody',
      'warden-docs',
      'warden-audit',
      'warden-pages',
      'warden-health',
      'warden-error-page',
      'warden-token-endpoint',
      'warden-oauth',
      'warden-users',
      'warden-admin-users',
      'warden-sessions',
      'warden-apis',
      'warden-federation',
      'warden-lockout',
      'warden-examples',
      'warden-account',
      'warden-account-pages',
      'warden-account-page',
      'warden-passkeys',
      'warden-console',
      'warden-setup',
      'warden-register-page',
    ];
    assert.deepEqual(
      names.filter((n) => !t.app.hasPlugin(n)),
      [],
    );
  });

  /**
   * The platform in app.ts's order and the users feature on top, on a bare Fastify with this test's
   * services, leaving out `skip`.
   */
  async function boot(skip?: string): Promise<FastifyInstance> {
    const app = Fastify();
    app.decorate('warden', t.warden);
    const steps: Array<[string, () => PromiseLike<unknown>]> = [
      ['warden-route-access', () => app.register(routeAccessPlugin, { bearer: bearerPolicy })],
      ['warden-jobs', () => app.register(jobsPlugin)],
      ['warden-validation', () => app.register(validationPlugin, { deferred: new DeferredCompiles() })],
      ['warden-error-handler', () => app.register(errorHandlerPlugin)],
      ['warden-logging', () => app.register(requestLoggingPlugin)],
      ['warden-security-headers', () => app.register(securityHeadersPlugin)],
      ['warden-cors', () => app.register(corsPlugin)],
      ['warden-rate-limit', () => app.register(rateLimitPlugin)],
      ['warden-metrics', () => app.register(metricsRoutes)],
      ['@fastify/formbody', () => app.register(formbody)],
      ['warden-audit', () => app.register(auditPlugin)],
      ['warden-users', () => app.register(userRoutes)],
    ];
    try {
      for (const [name, step] of steps) if (name !== skip) await step();
    } catch (e) {
      await app.close().catch(() => {});
      throw e;
    }
    return app;
  }

  it('boots with every plugin in order (the control for the refusals below)', async () => {
    const app = await boot();
    try {
      await app.ready();
      assert.ok(app.hasRoute({ method: 'POST', url: '/users' }));
      assert.ok(app.accessTable.some((e) => e.method === 'POST' && e.url === '/users'));
    } finally {
      await app.close();
    }
  });

  it('a feature registered without a platform plugin it depends on stops the boot, naming the plugin', async () => {
    await assert.rejects(boot('warden-metrics'), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'FST_ERR_PLUGIN_DEPENDENCY_NOT_REGISTERED');
      assert.equal(e.message, "The dependency 'warden-metrics' of plugin 'warden-audit' is not registered");
      return true;
    });
    await assert.rejects(boot('warden-audit'), {
      code: 'FST_ERR_PLUGIN_DEPENDENCY_NOT_REGISTERED',
      message: "The dependency 'warden-audit' of plugin 'warden-users' is not registered",
    });
  });

  it('each missing piece is named by the first plugin that needs it', async () => {
    // Left out -> the plugin whose registration is refused (the first one after it that depends on it).
    const expected: Record<string, string> = {
      'warden-route-access': 'warden-cors',
      'warden-jobs': 'warden-audit',
      'warden-validation': 'warden-audit',
      'warden-error-handler': 'warden-rate-limit',
      'warden-logging': 'warden-audit',
      'warden-security-headers': 'warden-cors',
      'warden-cors': 'warden-rate-limit',
      'warden-rate-limit': 'warden-audit',
      'warden-metrics': 'warden-audit',
      'warden-audit': 'warden-users',
    };
    for (const [missing, refused] of Object.entries(expected)) {
      await assert.rejects(boot(missing), { message: `The dependency '${missing}' of plugin '${refused}' is not registered` }, missing);
    }
  });

  it('a feature on an app without the services decorator stops the boot, naming the decorator', async () => {
    const app = Fastify();
    try {
      await assert.rejects(async () => {
        await app.register(userRoutes);
      }, { code: 'FST_ERR_PLUGIN_NOT_PRESENT_IN_INSTANCE', message: "The decorator 'warden' required by 'warden-users' is not present in Fastify" });
    } finally {
      await app.close().catch(() => {});
    }
  });
});
