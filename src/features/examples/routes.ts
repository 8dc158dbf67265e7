import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';

/** The seeds' two examples: a route for any active user, and one for admins only. */
export async function exampleRoutes(app: FastifyInstance) {
  app.get(
    '/secure-data',
    {
      // Any scope: the seeds' example of "an active user"; the role map decides (a guest may, no role may not).
      config: { access: { kind: 'bearer', scopes: [], permission: 'secure:read' }, sensitive: true },
      schema: {
        tags: ['examples'],
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
      config: { access: { kind: 'bearer', scopes: ['admin'], role: 'admin' }, admin: true },
      schema: { tags: ['examples'], response: { 200: Type.Object({ message: Type.String() }) } },
    },
    async () => ({ message: 'Admin access granted' }),
  );
}
