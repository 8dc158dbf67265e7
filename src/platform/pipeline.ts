/**
 * The platform plugins every route needs registered before it (src/app/app.ts registers them first).
 * Fastify copies a context's hooks, error handler and validator compiler into a child context when the
 * child is made, and runs onRoute hooks only for routes added after them: a route plugin registered
 * before one of these would build, but without the access check, the 429s, the headers or the
 * problem+json errors. So each route plugin names them in its `dependencies` (fastify-plugin), and a
 * wrong order stops the boot with Fastify's own FST_ERR_PLUGIN_DEPENDENCY_NOT_REGISTERED, which names
 * the missing plugin.
 *
 * The docs plugin (warden-docs) is not among them: it is optional (DOCS=disabled).
 */
export const ROUTE_PIPELINE = [
  'warden-route-access',
  'warden-validation',
  'warden-error-handler',
  'warden-logging',
  'warden-security-headers',
  'warden-cors',
  'warden-rate-limit',
  'warden-metrics',
] as const;

/** The services decorator (`app.warden`, decorated by the composition root), checked by fastify-plugin's `decorators`. */
export function needsWarden(): { fastify: string[] } {
  return { fastify: ['warden'] };
}
