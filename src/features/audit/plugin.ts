import type { FastifyInstance } from 'fastify';
import { installAdminNetworkGuard, installSensitiveAccessAudit, Monitor } from './monitor.js';
import { auditRetentionJob } from './retention.js';
import { auditRoutes } from './routes.js';
import fp from 'fastify-plugin';
import { needsWarden, ROUTE_PIPELINE } from '../../platform/pipeline.js';

declare module 'fastify' {
  interface FastifyInstance {
    monitor: Monitor;
  }
}

/**
 * Audit and monitoring: the admin-network and sensitive-access hooks (root level, so they see every
 * route registered after this plugin), the monitoring rules and alert webhook, background retention,
 * and GET /admin/audit.
 */
async function audit(app: FastifyInstance) {
  installAdminNetworkGuard(app);
  installSensitiveAccessAudit(app);
  const monitor = new Monitor(app.warden, app.log);
  monitor.start();
  app.decorate('monitor', monitor);
  app.jobs.register(auditRetentionJob(app.warden));
  app.addHook('onClose', async () => {
    monitor.stop();
  });
  await app.register(auditRoutes);
}
// Not encapsulated: the hooks belong to the root instance, so they see every route registered after it.
export const auditPlugin = fp(audit, { name: 'warden-audit', fastify: '5.x', decorators: needsWarden(), dependencies: [...ROUTE_PIPELINE, 'warden-jobs'] });
