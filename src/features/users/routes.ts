import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ACCOUNT } from '../access/route-access.js';
import { requestContext } from '../audit/request-context.js';
import { ProblemError } from '../../kernel/errors.js';
import { Problem } from '../../kernel/problem.js';
import { ChangePasswordBody, RegisterBody, UpdateMeBody, UserOut } from './schemas.js';
import { toUserOut } from './service.js';
import fp from 'fastify-plugin';
import { needsWarden, ROUTE_PIPELINE } from '../../platform/pipeline.js';

async function userApi(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const w = app.warden;

  app.post(
    '/users',
    {
      config: { access: { kind: 'public', reason: 'registration (REGISTRATION=open)' }, rateLimitGroup: 'register' },
      schema: {
        tags: ['users'],
        summary: 'Register (REGISTRATION=open)',
        body: RegisterBody,
        response: { 201: UserOut, 409: Problem, 422: Problem },
      },
    },
    async (request, reply) => {
      if (w.config.REGISTRATION !== 'open') throw new ProblemError(403, 'registration_closed', 'registration is closed on this server');
      const b = request.body;
      const user = await w.users.create({ username: b.username, email: b.email, password: b.password, fullName: b.full_name }, requestContext(request));
      reply.code(201).header('location', '/users/me').header('cache-control', 'no-store');
      return toUserOut(user);
    },
  );

  app.get(
    '/users/me',
    { config: { access: ACCOUNT }, schema: { tags: ['users'], response: { 200: UserOut } } },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return toUserOut(request.auth!.user!);
    },
  );

  app.patch(
    '/users/me',
    {
      config: { access: ACCOUNT },
      schema: { tags: ['users'], body: UpdateMeBody, response: { 200: UserOut, 409: Problem, 422: Problem } },
    },
    async (request, reply) => {
      const authTime = request.auth!.claims.auth_time;
      const { user } = await w.users.updateProfile(
        request.auth!.user!.id,
        { fullName: request.body.full_name, email: request.body.email, currentPassword: request.body.current_password },
        requestContext(request),
        { authTime: typeof authTime === 'number' ? authTime : undefined },
      );
      reply.header('cache-control', 'no-store');
      return toUserOut(user);
    },
  );

  app.post(
    '/users/me/password',
    {
      config: { access: ACCOUNT, rateLimitGroup: 'account' },
      schema: {
        tags: ['users'],
        summary: 'Change password (ends the other sessions)',
        body: ChangePasswordBody,
        response: { 204: Type.Null(), 422: Problem },
      },
    },
    async (request, reply) => {
      const keepFamily = typeof request.auth!.claims.sid === "string" ? request.auth!.claims.sid : undefined;
      await w.users.changePassword(request.auth!.user!.id, request.body.current_password, request.body.new_password, requestContext(request), keepFamily);
      return reply.code(204).send(null);
    },
  );
}

export const userRoutes = fp(userApi, { name: 'warden-users', fastify: '5.x', encapsulate: true, decorators: needsWarden(), dependencies: [...ROUTE_PIPELINE, 'warden-audit'] });
