import fp from 'fastify-plugin';
import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import { registerWithAccess } from './route-access.js';
import { needsWarden } from './pipeline.js';

/** Headers a browser script may read from our answers (rate limits, bearer errors, correlation). */
const EXPOSED = ['WWW-Authenticate', 'Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'RateLimit-Policy', 'X-Request-Id', 'Location'];

/**
 * CORS, off unless CORS_ORIGINS lists origins. Origins match exactly (no suffix or regex matching,
 * the classic "evil-example.com" bypass). An origin that is not listed gets no CORS header at all —
 * not Access-Control-Allow-Origin, not Allow-Credentials — and its preflight is not answered (404), so
 * the browser refuses the real request. "*" with credentials is refused by the config loader.
 */
async function corsPolicy(app: FastifyInstance) {
  const config = app.warden.config;
  const origins = new Set(config.corsOrigins);
  if (origins.size === 0) return;
  const any = origins.has('*');
  // The preflight route (OPTIONS *) is anonymous by the Fetch standard: browsers send no credentials.
  const preflight = { kind: 'public', reason: 'CORS preflight (sent without credentials)' } as const;
  await registerWithAccess(app, preflight, () => app.register(cors, {
    origin: (origin, cb) => {
      if (!origin) return cb(null, false);
      if (any) return cb(null, '*');
      cb(null, origins.has(origin) ? origin : false);
    },
    credentials: config.CORS_CREDENTIALS && !any,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    // X-Requested-With: Swagger UI's "Authorize" sends it with its token request, so a service's own
    // /docs (FastAPI's included) can log in against Warden when its origin is listed.
    allowedHeaders: ['Authorization', 'Content-Type', 'Accept', 'X-Requested-With'],
    exposedHeaders: EXPOSED,
    maxAge: 600,
    strictPreflight: true,
  }));
}

// After the headers (a CORS answer carries them) and the access hook (the preflight route is declared).
export const corsPlugin = fp(corsPolicy, {
  name: 'warden-cors',
  fastify: '5.x',
  decorators: needsWarden(),
  dependencies: ['warden-route-access', 'warden-security-headers'],
});
