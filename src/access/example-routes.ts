import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { requireRole, requireUser } from './guards.js';

/** The seeds' two examples: a route for any active user, and one for admins only. */
export async function exampleRoutes(app: FastifyInstance) {
  app.get(
    '/secure-data',
    {
      preHandler: requireUser,
      config: { sensitive: true },
      schema: {
        tags: ['examples'],
        security: [{ bearer: [] }],
        response: { 200: Type.Object({ message: Type.String(), user: Type.String() }) },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return { message: 'This is protected data', user: request.auth!.user!.username };
    },
  );

  app.get(
    '/admin-only',
    {
      preHandler: requireRole('admin'),
      config: { admin: true },
      schema: { tags: ['examples'], security: [{ bearer: [] }], response: { 200: Type.Object({ message: Type.String() }) } },
    },
    async () => ({ message: 'Admin access granted' }),
  );
}
