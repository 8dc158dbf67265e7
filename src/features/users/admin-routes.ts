import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requestContext } from '../audit/request-context.js';
import { unprocessable } from '../../kernel/errors.js';
import { AdminUserPatch, IdParams, UserList, UserListQuery, UserOut } from './schemas.js';
import { toUserOut } from './service.js';
import { Problem } from '../../kernel/problem.js';
import fp from 'fastify-plugin';
import { needsWarden, ROUTE_PIPELINE } from '../../platform/pipeline.js';

async function adminUserApi(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const w = app.warden;

  app.get(
    '/admin/users',
    {
      config: { access: { kind: 'bearer', scopes: ['admin'], permission: 'users:list' }, admin: true },
      schema: { tags: ['admin'], summary: 'List and search users', querystring: UserListQuery, response: { 200: UserList } },
    },
    async (request, reply) => {
      const page = await w.users.list({ q: request.query.q, limit: request.query.limit, cursor: request.query.cursor });
      reply.header('cache-control', 'no-store');
      return { items: page.items.map(toUserOut), next_cursor: page.nextCursor };
    },
  );

  app.get(
    '/admin/users/:id',
    {
      config: { access: { kind: 'bearer', scopes: ['admin'], permission: 'users:read' }, admin: true },
      schema: { tags: ['admin'], params: IdParams, response: { 200: UserOut, 404: Problem } },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return toUserOut(await w.users.get(request.params.id));
    },
  );

  app.patch(
    '/admin/users/:id',
    {
      config: { access: { kind: 'bearer', scopes: ['admin'], permission: 'users:update' }, admin: true },
      schema: {
        tags: ['admin'],
        summary: 'Change roles and/or disable',
        params: IdParams,
        body: AdminUserPatch,
        response: { 200: UserOut, 404: Problem, 409: Problem, 422: Problem },
      },
    },
    async (request, reply) => {
      const unknown = request.body.roles && w.accessAdmin.unknownRoles(request.body.roles);
      if (unknown?.length) throw unprocessable('unknown_role', `no such role: ${unknown.join(', ')}`, [{ field: 'roles', message: `no such role: ${unknown.join(', ')}` }]);
      const user = await w.users.adminUpdate(request.auth!.user!.id, request.params.id, request.body, requestContext(request));
      reply.header('cache-control', 'no-store');
      return toUserOut(user);
    },
  );

  app.post(
    '/admin/users/:id/logout',
    {
      config: { access: { kind: 'bearer', scopes: ['admin'], permission: 'users:logout' }, admin: true },
      schema: { tags: ['admin'], summary: 'Force logout: end every session now', params: IdParams, response: { 204: Type.Null(), 404: Problem } },
    },
    async (request, reply) => {
      await w.users.forceLogout(request.auth!.user!.id, request.params.id, requestContext(request));
      return reply.code(204).send(null);
    },
  );
}

export const adminUserRoutes = fp(adminUserApi, { name: 'warden-admin-users', fastify: '5.x', encapsulate: true, decorators: needsWarden(), dependencies: [...ROUTE_PIPELINE, 'warden-audit'] });
