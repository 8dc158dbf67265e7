import type { FastifyInstance, FastifyReply, FastifySchema } from 'fastify';
import fp from 'fastify-plugin';
import { html } from '../../kernel/html/html.js';
import { asPage } from '../../platform/security-headers.js';
import { page } from '../../kernel/html/layout.js';
import { CSS, STYLESHEET_URL } from '../../kernel/html/stylesheet.js';
import { needsWarden, ROUTE_PIPELINE } from '../../platform/pipeline.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * A browser page: its errors that are not the page's own (the state store down, the hasher
     * overloaded, a rate limit) answer an HTML page instead of problem JSON (src/platform/error-handler.ts).
     */
    page?: boolean;
  }
}

/** Pages are for browsers: kept out of the OpenAPI document. */
export const PAGE_SCHEMA = { hide: true } as FastifySchema;

/** Send a rendered page with the page headers and the strict page CSP. */
export function sendPage(reply: FastifyReply, status: number, body: string) {
  return asPage(reply.code(status)).send(body);
}

/** The home page: what this server is, and where to go. */
export function homePage(o: { docs: boolean; registration: boolean }) {
  return page({
    title: 'Warden',
    documentTitle: 'Warden identity server',
    body: html`<p>This is a Warden identity server: it signs people in, issues OAuth 2.0 and OpenID Connect tokens, and lets services verify them.</p>
<ul class="links">
<li><a href="/account">Your account</a><p>Your profile, password, e-mail address and two-step verification.</p></li>
${o.docs ? html`<li><a href="/docs">API documentation</a><p>Every endpoint, with a form to try them (OpenAPI at <a href="/openapi.json">/openapi.json</a>).</p></li>` : ''}
<li><a href="/admin">Admin console</a><p>Users, applications, APIs, roles, signing keys and the audit log (administrators).</p></li>
</ul>
<p class="below">${o.registration ? html`<a href="/register">Create an account</a>` : ''}<a href="/password/forgot">Forgot your password?</a><a href="/.well-known/openid-configuration">OpenID configuration</a></p>`,
  });
}

/**
 * The stylesheet at its content-hashed URL (cached for a year: a new stylesheet has a new URL) and the
 * home page at `/`.
 */
async function pageRoutes(app: FastifyInstance) {
  const w = app.warden;
  const style = { kind: 'public', reason: 'the pages\' stylesheet' } as const;
  app.get(STYLESHEET_URL, { config: { access: style }, schema: PAGE_SCHEMA }, async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=31536000, immutable').send(CSS),
  );
  const home = homePage({ docs: w.config.DOCS === 'enabled', registration: w.config.REGISTRATION === 'open' });
  app.get('/', { config: { access: { kind: 'public', reason: 'the home page: what this server is, with links' }, page: true }, schema: PAGE_SCHEMA }, async (_request, reply) =>
    sendPage(reply, 200, home),
  );
}

export const pagesPlugin = fp(pageRoutes, { name: 'warden-pages', fastify: '5.x', decorators: needsWarden(), dependencies: [...ROUTE_PIPELINE, 'warden-audit'] });
