import type { FastifyInstance } from 'fastify';
import { installAdminNetworkGuard, installSensitiveAccessAudit, Monitor } from './monitor.js';
import { auditRetentionJob } from './retention.js';
import { auditRoutes } from './routes.js';

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
export async function auditPlugin(app: FastifyInstance) {
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
// Like fastify-plugin: the hooks belong to the root instance, not to an encapsulated child.
Object.assign(auditPlugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'warden-audit' });
