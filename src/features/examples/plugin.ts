import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { needsWarden, ROUTE_PIPELINE } from '../../platform/pipeline.js';
import { exampleRoutes } from './routes.js';
import { itemRoutes } from './items/routes.js';

/**
 * The seeds' demo routes: `/secure-data`, `/admin-only` and the items API. On by default, so that the
 * README's walkthrough works on a fresh install; `EXAMPLES=disabled` leaves them out of the app, and with
 * them their OpenAPI tags and the items scopes (src/app/app.ts, src/app/warden.ts).
 */
async function examples(app: FastifyInstance) {
  await app.register(itemRoutes);
  await app.register(exampleRoutes);
}

export const examplesPlugin = fp(examples, { name: 'warden-examples', fastify: '5.x', encapsulate: true, decorators: needsWarden(), dependencies: [...ROUTE_PIPELINE, 'warden-audit'] });

/** The /docs groups that only the examples' routes use. */
export const EXAMPLE_TAGS: readonly string[] = ['items', 'examples'];
