import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { addRouteHeaders, PAGE_HEADERS } from './security-headers.js';
import { registerWithAccess, type RouteAccess } from './route-access.js';

/**
 * Swagger UI loads only its own files (script, style, images) from /docs/static: no inline code, so
 * the page keeps a strict policy of its own instead of the JSON/API one (which forbids scripts).
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** The groups of /docs, in the order shown: what an application calls first, the admin API last. */
export const TAGS = [
  { name: 'oauth', description: 'OAuth 2.0 and OpenID Connect: tokens, authorization, discovery, keys' },
  { name: 'users', description: 'Registration and the signed-in user' },
  { name: 'account', description: 'Password reset and e-mail verification' },
  { name: 'mfa', description: 'Two-step verification (TOTP)' },
  { name: 'sessions', description: 'Your sessions: list them, end one, end all others' },
  { name: 'items', description: 'An example resource owned by users' },
  { name: 'examples', description: 'The seeds\' protected examples' },
  { name: 'health', description: 'Liveness, readiness and metrics' },
  { name: 'admin', description: 'Administration: users, clients, APIs, roles, keys, audit (admin role and scope)' },
];

/** Warden's mark, the docs' favicon instead of Swagger's. */
const LOGO = `<svg xmlns="http://www.w3.org/2000/svg" width="120" height="32" viewBox="0 0 120 32"><rect width="32" height="32" rx="6" fill="#1d5bbf"/><path d="M7 9l4 14 5-10 5 10 4-14" fill="none" stroke="#fff" stroke-width="3" stroke-linejoin="round" stroke-linecap="round"/><text x="40" y="22" font-family="system-ui,sans-serif" font-size="17" font-weight="700" fill="#fff">Warden</text></svg>`;

/** Name of the OAuth2 password-flow scheme in the OpenAPI document (FastAPI's name for it). */
export const PASSWORD_SCHEME = 'OAuth2PasswordBearer';

type Security = Array<Record<string, string[]>>;

/**
 * A `bearer` route (config.access, src/platform/route-access.ts) gets `security: [{ bearer: [] }]`. In the
 * document it also accepts the OAuth2 password flow with the route's scopes, so a token obtained with
 * Swagger UI's "Authorize" dialog (username and password posted to /token, as FastAPI's
 * OAuth2PasswordBearer does) is sent to every protected route, and the dialog shows what each needs.
 */
function withPasswordFlow(security: Security | undefined, access: RouteAccess | undefined): Security | undefined {
  if (!security?.some((s) => 'bearer' in s)) return security;
  const scopes = access?.kind === 'bearer' ? [...access.scopes] : [];
  return [{ [PASSWORD_SCHEME]: scopes }, ...security];
}

/**
 * The OpenAPI 3 document at /openapi.json, built from the routes' TypeBox schemas, and Swagger UI at
 * /docs. Registered before the routes: @fastify/swagger collects them as they are added.
 */
async function docs(app: FastifyInstance, opts: { scopes: Readonly<Record<string, string>>; tags?: typeof TAGS }) {
  // Swagger UI's answers are pages: they get the page headers besides the ones every answer carries.
  app.addHook('onRoute', (route) => {
    if (route.url === '/docs' || route.url.startsWith('/docs/')) addRouteHeaders(route, PAGE_HEADERS);
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Warden API',
        version: '0.1.0',
        description: 'The API of this Warden identity server ([home](/)). Use **Authorize** with a username and password to try the protected routes.',
      },
      // Swagger UI shows the groups in this order: what an application calls first, the admin API last.
      tags: opts.tags ?? TAGS,
      components: {
        securitySchemes: {
          [PASSWORD_SCHEME]: {
            type: 'oauth2',
            description: 'Resource owner password flow against POST /token (no client needed)',
            // Relative, like the absent `servers`: the UI talks to the origin it was loaded from.
            flows: { password: { tokenUrl: '/token', refreshUrl: '/token', scopes: { ...opts.scopes } } },
          },
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'an access token from POST /token' },
        },
      },
    },
    transform: ({ schema, url, route }) => {
      const s = { ...(schema as (FastifySchema & { security?: Security; tags?: string[] }) | undefined) };
      // Browser pages and their files are not API: never in the document, whatever their schema says.
      if ((route.config?.page && !s.tags?.length) || url.startsWith('/static/')) s.hide = true;
      if (!s.tags?.length) s.tags = ['oauth'];
      if (s.security) s.security = withPasswordFlow(s.security, route.config?.access);
      return { schema: s as FastifySchema, url };
    },
  });

  // Swagger UI adds its routes without options of ours: they are declared public as it loads.
  await registerWithAccess(app, { kind: 'public', reason: 'interactive API docs (DOCS=enabled)' }, () =>
    app.register(swaggerUi, {
      routePrefix: '/docs',
      theme: { title: 'Warden API docs', favicon: [{ filename: 'warden.svg', rel: 'icon', type: 'image/svg+xml', sizes: 'any', content: LOGO }] },
      staticCSP: DOCS_CSP,
      uiConfig: {
        deepLinking: false,
        // No top bar: it carries Swagger's logo, an inline SVG whose <style> the CSP refuses, and a URL box
        // to load other documents that this page has no use for. The document's title names Warden.
        layout: 'BaseLayout',
        persistAuthorization: false,
        tryItOutEnabled: false,
        // No request to validator.swagger.io: nothing leaves for another host.
        validatorUrl: null,
        // The highlighter writes inline style attributes, which the CSP (rightly) refuses.
        syntaxHighlight: false,
      },
      initOAuth: { scopeSeparator: ' ' },
    }),
  );

  app.get('/openapi.json', { config: { access: { kind: 'public', reason: 'the OpenAPI document (DOCS=enabled)' } }, schema: { hide: true } as FastifySchema }, async (_request, reply) => {
    reply.header('cache-control', 'no-cache');
    return app.swagger();
  });
}
// Not encapsulated: @fastify/swagger must see the routes registered on the root instance.
export const docsPlugin = fp(docs, { name: 'warden-docs', fastify: '5.x', dependencies: ['warden-route-access', 'warden-security-headers'] });
