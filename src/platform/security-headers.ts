import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, RouteOptions } from 'fastify';
import { PAGE_CSP } from '../kernel/html/html.js';
import { ProblemError } from '../kernel/errors.js';
import { MAX_URL_LENGTH } from './limits.js';

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

/** The CSP of an answer that is not a page: nothing may load, nothing may frame it (OWASP REST Security). */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'";

/**
 * What every answer carries, JSON and errors included: no sniffing, no framing, no referrer, readable by
 * this origin only when loaded without CORS, and not stored (most answers carry a token or personal
 * data; a cacheable route such as JWKS or discovery sets its own Cache-Control).
 */
const BASE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': API_CSP,
  'cross-origin-resource-policy': 'same-origin',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
});

/**
 * What a browser needs besides, on an HTML page only (what @fastify/helmet sends): a JSON answer is
 * never rendered as a document, so these would be bytes on every API answer for nothing.
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'cross-origin-opener-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
});

/** Make this answer an HTML page: content type, the page CSP (strict by default) and the page headers. */
export function asPage(reply: FastifyReply, csp: string = PAGE_CSP): FastifyReply {
  return reply.type('text/html; charset=utf-8').headers(PAGE_HEADERS).header('content-security-policy', csp);
}

/**
 * The first hook of every request (404s, errors and 429s included: headers set in onRequest survive
 * into error answers). One synchronous hook does all per-request header work — frozen header object,
 * request id, HSTS — and the 414 check, because each hook costs a step of Fastify's hook chain on
 * every request (docs/benchmarks.md).
 */
async function securityHeaders(app: FastifyInstance) {
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(BASE_HEADERS);
    reply.header('x-request-id', request.id);
    // request.protocol believes X-Forwarded-Proto only from a TRUSTED_PROXIES peer (Fastify trustProxy).
    if (request.protocol === 'https') reply.header('strict-transport-security', HSTS);
    if (request.url.length > MAX_URL_LENGTH) done(new ProblemError(414, 'uri_too_long', `the request target is longer than ${MAX_URL_LENGTH} characters`));
    else done();
  });

  // A route with its own CSP gets a route-level hook (runs after the global one), so the other
  // routes do not look up their config on every request.
  app.addHook('onRoute', (route) => {
    const csp = route.config?.csp;
    if (!csp) return;
    addRouteHeaders(route, { 'content-security-policy': csp });
  });
}

/** A route-level onRequest hook (runs after the global ones) that sets these headers on this route only. */
export function addRouteHeaders(route: RouteOptions, headers: Readonly<Record<string, string>>) {
  const hook = (_request: unknown, reply: FastifyReply, done: () => void) => {
    reply.headers(headers);
    done();
  };
  const existing = route.onRequest;
  route.onRequest = (existing === undefined ? [hook] : [...(Array.isArray(existing) ? existing : [existing]), hook]) as RouteOptions['onRequest'];
}

export const securityHeadersPlugin = fp(securityHeaders, { name: 'warden-security-headers', fastify: '5.x' });
