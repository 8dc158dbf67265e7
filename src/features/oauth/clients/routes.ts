import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requestContext } from '../../audit/request-context.js';
import { Problem } from '../../../kernel/problem.js';
import { ClientIdParams, ClientList, ClientResourcesPatch, ClientListQuery, ClientMetadata, ClientOut, ClientWithSecret } from './schemas.js';

/** /admin/clients: the RFC 7591 metadata in, client_id and (once) client_secret out. */
export async function adminClientRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const w = app.warden;

  app.post(
    '/admin/clients',
    {
      config: { access: { kind: 'bearer', scopes: ['admin'], permission: 'clients:create' }, admin: true },
      schema: { tags: ['admin'], summary: 'Register an OAuth client (RFC 7591 metadata)', body: ClientMetadata, response: { 201: ClientWithSecret, 422: Problem } },
    },
    async (request, reply) => {
      const { client, secret } = await w.clients.create(request.body, requestContext(request));
      reply.header('cache-control', 'no-store');
      return reply.code(201).send({ ...client, ...(secret ? { client_secret: secret, client_secret_expires_at: 0 } : {}) });
    },
  );

  app.get(
    '/admin/clients',
    {
      config: { access: { kind: 'bearer', scopes: ['admin'], permission: 'clients:list' }, admin: true },
      schema: { tags: ['admin'], summary: 'List OAuth clients', querystring: ClientListQuery, response: { 200: ClientList } },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return w.clients.list(request.query);
    },
  );

  app.get(
    '/admin/clients/:id',
    {
      config: { access: { kind: 'bearer', scopes: ['admin'], permission: 'clients:list' }, admin: true },
      schema: { tags: ['admin'], params: ClientIdParams, response: { 200: ClientOut, 404: Problem } },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return w.clients.get(request.params.id);
    },
  );

  app.patch(
    '/admin/clients/:id',
    {
      config: { access: { kind: 'bearer', scopes: ['admin'], permission: 'clients:create' }, admin: true },
      schema: {
        tags: ['admin'],
        summary: 'Change what the client may ask for at each API (resources: the whole map) and its logout metadata',
        params: ClientIdParams,
        body: ClientResourcesPatch,
        response: { 200: ClientOut, 404: Problem, 422: Problem },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const { resources, ...logout } = request.body;
      const ctx = requestContext(request);
      let out = resources ? await w.clients.setResources(request.params.id, resources, ctx) : undefined;
      if (Object.keys(logout).length || !out) out = await w.clients.setLogout(request.params.id, logout, ctx);
      return out;
    },
  );

  app.post(
    '/admin/clients/:id/rotate-secret',
    {
      config: { access: { kind: 'bearer', scopes: ['admin'], permission: 'clients:rotate' }, admin: true },
      schema: { tags: ['admin'], summary: 'New client secret (shown once); the old one stops working', params: ClientIdParams, response: { 200: ClientWithSecret, 404: Problem, 422: Problem } },
    },
    async (request, reply) => {
      const { client, secret } = await w.clients.rotateSecret(request.params.id, requestContext(request));
      reply.header('cache-control', 'no-store');
      return { ...client, client_secret: secret, client_secret_expires_at: 0 };
    },
  );

  app.delete(
    '/admin/clients/:id',
    {
      config: { access: { kind: 'bearer', scopes: ['admin'], permission: 'clients:delete' }, admin: true },
      schema: { tags: ['admin'], summary: 'Delete a client, its refresh tokens and consents', params: ClientIdParams, response: { 204: Type.Null(), 404: Problem } },
    },
    async (request, reply) => {
      await w.clients.delete(request.params.id, requestContext(request));
      return reply.code(204).send(null);
    },
  );
}
