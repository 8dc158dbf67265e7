import fp from 'fastify-plugin';
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

/**
 * The headers every answer carries, computed once. They are what @fastify/helmet sent with this
 * configuration (strict CSP from html.ts, frame deny, no-referrer, no HSTS by default), but helmet
 * rebuilt them on every request (~7% of a GET /users/me profile); setting one frozen object is
 * constant work.
 */
const BASE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': PAGE_CSP.split(';')
    .map((part) => part.trim())
    .filter(Boolean)
    .join(';'),
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'DENY',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
});

/**
 * Security headers on every response, errors and 404s included (the hooks are global and registered
 * before any route; headers set in onRequest survive into error answers). JSON answers carry the same
 * strict CSP as pages: it costs nothing and protects a response that a browser is tricked into
 * rendering. Cache-Control defaults to no-store because most answers here carry a token or personal
 * data; a cacheable route (JWKS, discovery) sets its own.
 */
async function securityHeaders(app: FastifyInstance) {
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(BASE_HEADERS);
    // request.protocol believes X-Forwarded-Proto only from a TRUSTED_PROXIES peer (Fastify trustProxy).
    if (request.protocol === 'https') reply.header('strict-transport-security', HSTS);
    done();
  });

  // A route with its own CSP gets a route-level hook (runs after the global one), so the other
  // routes do not look up their config on every request.
  app.addHook('onRoute', (route) => {
    const csp = route.config?.csp;
    if (!csp) return;
    const own = (_request: unknown, reply: { header(name: string, value: string): unknown }, done: () => void) => {
      reply.header('content-security-policy', csp);
      done();
    };
    const existing = route.onRequest;
    route.onRequest = existing === undefined ? [own] : [...(Array.isArray(existing) ? existing : [existing]), own];
  });

  app.addHook('onSend', (_request, reply, payload, done) => {
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    // Neither Fastify nor node sets these, but a proxy-less deployment must not leak versions if one ever does.
    reply.removeHeader('x-powered-by');
    reply.removeHeader('server');
    done(null, payload);
  });
}

export const securityHeadersPlugin = fp(securityHeaders, { name: 'warden-security-headers', fastify: '5.x' });
