import fp from 'fastify-plugin';
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import { PAGE_CSP } from './html.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * This route's own Content-Security-Policy, replacing the strict default (e.g. the docs UI, which
     * loads its own script and style files). A handler or route hook may also set the header itself.
     */
    csp?: string;
  }
}

/** Two years, as hstspreload.org asks; sent only where the browser really arrived over HTTPS. */
export const HSTS = 'max-age=63072000; includeSubDomains';

/** PAGE_CSP as helmet directives, so the one strict policy is written in one place (html.ts). */
function directives(policy: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const part of policy.split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) out[name] = values;
  }
  return out;
}

/**
 * Security headers on every response, errors and 404s included (the hooks are global and registered
 * before any route). JSON answers carry the same strict CSP as pages: it costs nothing and protects a
 * response that a browser is tricked into rendering. Cache-Control defaults to no-store because most
 * answers here carry a token or personal data; a cacheable route (JWKS, discovery) sets its own.
 */
async function securityHeaders(app: FastifyInstance) {
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: directives(PAGE_CSP) },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // HSTS over plain HTTP is ignored by browsers and wrong behind a non-TLS setup: set below, when earned.
    strictTransportSecurity: false,
    xPoweredBy: false,
  });

  app.addHook('onRequest', async (request, reply) => {
    // request.protocol believes X-Forwarded-Proto only from a TRUSTED_PROXIES peer (Fastify trustProxy).
    if (request.protocol === 'https') reply.header('strict-transport-security', HSTS);
    const csp = request.routeOptions.config?.csp;
    if (csp) reply.header('content-security-policy', csp);
  });

  app.addHook('onSend', async (_request, reply, payload) => {
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    // Neither Fastify nor node sets these, but a proxy-less deployment must not leak versions if one ever does.
    reply.removeHeader('x-powered-by');
    reply.removeHeader('server');
    return payload;
  });
}

export const securityHeadersPlugin = fp(securityHeaders, { name: 'warden-security-headers', fastify: '5.x' });
