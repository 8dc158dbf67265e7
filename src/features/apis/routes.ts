import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requestContext } from '../audit/request-context.js';
import { Problem } from '../../kernel/problem.js';
import { ApiIdParams, ApiIn, ApiList, ApiOut, ApiPatch, ForceQuery, ListQuery, RoleIn, RoleList, RoleNameParams, RoleOut, RolePatch } from './schemas.js';
import { toApiOut } from './service.js';
import fp from 'fastify-plugin';
import { needsWarden, ROUTE_PIPELINE } from '../../platform/pipeline.js';

/** /admin/apis and /admin/roles (DESIGN "APIs, roles and permissions"). */
async function adminApiApi(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const w = app.warden;
  const admin = w.accessAdmin;

  app.get(
    '/admin/apis',
    {
      config: { access: { kind: 'bearer', scopes: ['admin'], permission: 'apis:list' }, admin: true },
      schema: { tags: ['admin'], summary: 'List API resources', querystring: ListQuery, response: { 200: ApiList, 400: Problem } },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      await w.catalog.fresh();
      return admin.listApis(request.query);
    },
  );

  app.post(
    '/admin/apis',
    {
      config: { access: { kind: 'bearer', scopes: ['admin'], permission: 'apis:create' }, admin: true },
      schema: { tags: ['admin'], summary: 'Register an API resource; its identifier becomes the aud of its tokens', body: ApiIn, response: { 201: ApiOut, 409: Problem, 422: Problem } },
    },
    async (request, reply) => reply.code(201).send(await admin.createApi(request.body, requestContext(request))),
  );

  app.get(
    '/admin/apis/:id',
    {
      config: { access: { kind: 'bearer', scopes: ['admin'], permission: 'apis:list' }, admin: true },
      schema: { tags: ['admin'], params: ApiIdParams, response: { 200: ApiOut, 404: Problem } },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      await w.catalog.fresh();
      return toApiOut(admin.api(request.params.id));
    },
  );

  app.patch(
    '/admin/apis/:id',
    {
      config: { access: { kind: 'bearer', scopes: ['admin'], permission: 'apis:update' }, admin: true },
      schema: { tags: ['admin'], summary: 'Change an API (scopes: the whole list)', params: ApiIdParams, body: ApiPatch, response: { 200: ApiOut, 404: Problem, 422: Problem } },
    },
    async (request) => admin.updateApi(request.params.id, request.body, requestContext(request)),
  );

  app.delete(
    '/admin/apis/:id',
    {
      config: { access: { kind: 'bearer', scopes: ['admin'], permission: 'apis:delete' }, admin: true },
      schema: { tags: ['admin'], summary: 'Delete an API, its scopes and the permissions on them', params: ApiIdParams, response: { 204: Type.Null(), 404: Problem, 409: Problem } },
    },
    async (request, reply) => {
      await admin.deleteApi(request.params.id, requestContext(request));
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/admin/roles',
    {
      config: { access: { kind: 'bearer', scopes: ['admin'], permission: 'roles:list' }, admin: true },
      schema: { tags: ['admin'], summary: 'List roles and their permissions', querystring: ListQuery, response: { 200: RoleList, 400: Problem } },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      await w.catalog.fresh();
      return admin.listRoles(request.query);
    },
  );

  app.post(
    '/admin/roles',
    {
      config: { access: { kind: 'bearer', scopes: ['admin'], permission: 'roles:create' }, admin: true },
      schema: { tags: ['admin'], summary: 'Create a role: permissions are {api, scope} pairs', body: RoleIn, response: { 201: RoleOut, 409: Problem, 422: Problem } },
    },
    async (request, reply) => reply.code(201).send(await admin.createRole(request.body, requestContext(request))),
  );

  app.get(
    '/admin/roles/:name',
    {
      config: { access: { kind: 'bearer', scopes: ['admin'], permission: 'roles:list' }, admin: true },
      schema: { tags: ['admin'], params: RoleNameParams, response: { 200: RoleOut, 404: Problem } },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      await w.catalog.fresh();
      return admin.roleOut(request.params.name);
    },
  );

  app.patch(
    '/admin/roles/:name',
    {
      config: { access: { kind: 'bearer', scopes: ['admin'], permission: 'roles:update' }, admin: true },
      schema: { tags: ['admin'], summary: 'Change a role (permissions: the whole list)', params: RoleNameParams, body: RolePatch, response: { 200: RoleOut, 404: Problem, 422: Problem } },
    },
    async (request) => admin.updateRole(request.params.name, request.body, requestContext(request)),
  );

  app.delete(
    '/admin/roles/:name',
    {
      config: { access: { kind: 'bearer', scopes: ['admin'], permission: 'roles:delete' }, admin: true },
      schema: {
        tags: ['admin'],
        summary: 'Delete a role; one that users hold needs ?force=true',
        params: RoleNameParams,
        querystring: ForceQuery,
        response: { 204: Type.Null(), 404: Problem, 409: Problem },
      },
    },
    async (request, reply) => {
      await admin.deleteRole(request.params.name, request.query.force === true, requestContext(request));
      return reply.code(204).send(null);
    },
  );
}

export const adminApiRoutes = fp(adminApiApi, { name: 'warden-apis', fastify: '5.x', encapsulate: true, decorators: needsWarden(), dependencies: [...ROUTE_PIPELINE, 'warden-audit'] });
