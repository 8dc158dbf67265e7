import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requestContext } from '../audit/request-context.js';
import { IdParams } from './schemas.js';
import { Problem } from '../../kernel/problem.js';
import fp from 'fastify-plugin';
import { needsWarden, ROUTE_PIPELINE } from '../../platform/pipeline.js';

const UnlockOut = Type.Object({ was_locked: Type.Boolean() }, { additionalProperties: false });

/** POST /admin/users/{id}/unlock: an admin ends a lockout (account.unlocked is audited). */
async function lockoutApi(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const w = app.warden;
  w.lockout.log ??= app.log;

  app.post(
    '/admin/users/:id/unlock',
    {
      config: { access: { kind: 'bearer', scopes: ['admin'], permission: 'users:update' }, admin: true },
      schema: {
        tags: ['admin'],
        summary: 'End a brute-force lockout of the account',
        params: IdParams,
        response: { 200: UnlockOut, 404: Problem },
      },
    },
    async (request, reply) => {
      const user = await w.users.get(request.params.id);
      const { wasLocked } = await w.lockout.unlock(user, request.auth!.user!.id, requestContext(request));
      reply.header('cache-control', 'no-store');
      return { was_locked: wasLocked };
    },
  );
}

export const lockoutRoutes = fp(lockoutApi, { name: 'warden-lockout', fastify: '5.x', encapsulate: true, decorators: needsWarden(), dependencies: [...ROUTE_PIPELINE, 'warden-audit'] });
