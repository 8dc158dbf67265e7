import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ACCOUNT } from '../access/route-access.js';
import { requestContext } from '../audit/request-context.js';
import { IdParams } from '../users/schemas.js';
import { Problem } from '../../kernel/problem.js';
import { endOtherUserSessions, endUserSession, listSessions, SessionList, SidParams } from './self-service.js';
import fp from 'fastify-plugin';
import { needsWarden, ROUTE_PIPELINE } from '../../platform/pipeline.js';

/**
 * Self-service sessions (`/users/me/sessions*`, bearer + `account`) and an admin's view of a user's
 * sessions (`/admin/users/{id}/sessions*`, admin role + `admin` scope). docs/sessions.md.
 */
async function sessionApi(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const w = app.warden;
  const currentSid = (claims: Record<string, unknown>) => (typeof claims.sid === 'string' ? claims.sid : undefined);

  app.get(
    '/users/me/sessions',
    { config: { access: ACCOUNT }, schema: { tags: ['sessions'], summary: 'Your live sessions (the current one marked)', response: { 200: SessionList } } },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return { items: await listSessions(w, request.auth!.user!.id, currentSid(request.auth!.claims)) };
    },
  );

  app.delete(
    '/users/me/sessions/:sid',
    {
      config: { access: ACCOUNT, rateLimitGroup: 'account' },
      schema: {
        tags: ['sessions'],
        summary: 'End one of your sessions (its tokens stop at once); another user\'s or an unknown sid answers 404',
        params: SidParams,
        response: { 204: Type.Null(), 404: Problem },
      },
    },
    async (request, reply) => {
      await endUserSession(w, request.auth!.user!.id, request.params.sid, { by: 'user' }, requestContext(request));
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/users/me/sessions/logout-others',
    {
      config: { access: ACCOUNT, rateLimitGroup: 'account' },
      schema: {
        tags: ['sessions'],
        summary: 'End every session but the current one',
        response: { 200: Type.Object({ sessions_ended: Type.Integer() }) },
      },
    },
    async (request, reply) => {
      const n = await endOtherUserSessions(w, request.auth!.user!.id, currentSid(request.auth!.claims), requestContext(request));
      reply.header('cache-control', 'no-store');
      return { sessions_ended: n };
    },
  );

  app.get(
    '/admin/users/:id/sessions',
    {
      config: { access: { kind: 'bearer', scopes: ['admin'], permission: 'users:read' }, admin: true },
      schema: { tags: ['admin'], summary: "A user's live sessions", params: IdParams, response: { 200: SessionList, 404: Problem } },
    },
    async (request, reply) => {
      const user = await w.users.get(request.params.id);
      reply.header('cache-control', 'no-store');
      return { items: await listSessions(w, user.id) };
    },
  );

  app.delete(
    '/admin/users/:id/sessions/:sid',
    {
      config: { access: { kind: 'bearer', scopes: ['admin'], permission: 'users:logout' }, admin: true },
      schema: {
        tags: ['admin'],
        summary: "End one of a user's sessions (its tokens stop at once)",
        params: Type.Object({ id: Type.String({ format: 'uuid' }), sid: Type.String({ maxLength: 100 }) }, { additionalProperties: false }),
        response: { 204: Type.Null(), 404: Problem },
      },
    },
    async (request, reply) => {
      const user = await w.users.get(request.params.id);
      await endUserSession(w, user.id, request.params.sid, { by: 'admin', actorId: request.auth!.user!.id }, requestContext(request));
      return reply.code(204).send(null);
    },
  );
}

export const sessionRoutes = fp(sessionApi, { name: 'warden-sessions', fastify: '5.x', encapsulate: true, decorators: needsWarden(), dependencies: [...ROUTE_PIPELINE, 'warden-audit'] });
