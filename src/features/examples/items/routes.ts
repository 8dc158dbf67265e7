import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { RouteAccess } from '../../../platform/route-access.js';
import { html } from '../../../kernel/html/html.js';
import { page } from '../../../kernel/html/layout.js';
import { asPage } from '../../../platform/security-headers.js';
import { ListQuery } from '../../users/schemas.js';
import { Problem } from '../../../kernel/problem.js';
import { ItemList, ItemOut, ItemPatch, NewItem } from './schemas.js';
import { ItemsService, toItemOut } from './service.js';

const Params = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false });

/**
 * The scope says what the client may do for the user, the permission what the user may do at all
 * (src/features/access/roles.ts): a guest holds no items permission. An admin's items:read-any reads every item.
 */
const READ: RouteAccess = { kind: 'bearer', scopes: ['items:read'], permission: ['items:read', 'items:read-any'] };
const CREATE: RouteAccess = { kind: 'bearer', scopes: ['items:write'], permission: 'items:create' };
const UPDATE: RouteAccess = { kind: 'bearer', scopes: ['items:write'], permission: 'items:update' };
const DELETE: RouteAccess = { kind: 'bearer', scopes: ['items:write'], permission: 'items:delete' };

export async function itemRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const items = new ItemsService(app.warden.db, app.warden.clock);

  app.post(
    '/items',
    { config: { access: CREATE }, schema: { tags: ['items'], body: NewItem, response: { 201: ItemOut, 422: Problem } } },
    async (request, reply) => {
      const item = await items.create(request.auth!.user!, request.body.title, request.body.description);
      reply.code(201).header('location', `/items/${item.id}`).header('cache-control', 'no-store');
      return toItemOut(item);
    },
  );

  app.get(
    '/items',
    { config: { access: READ }, schema: { tags: ['items'], summary: 'Your items, newest first', querystring: ListQuery, response: { 200: ItemList } } },
    async (request, reply) => {
      const p = await items.list(request.auth!.user!, request.query.limit, request.query.cursor);
      reply.header('cache-control', 'no-store');
      return { items: p.items.map(toItemOut), next_cursor: p.nextCursor };
    },
  );

  app.get(
    '/items/:id',
    {
      config: { access: READ },
      schema: {
        tags: ['items'],
        summary: 'One item (JSON, or an HTML page with Accept: text/html)',
        params: Params,
        response: { 200: ItemOut, 404: Problem },
      },
    },
    async (request, reply) => {
      const item = await items.read(request.auth!.user!, request.params.id);
      reply.header('cache-control', 'no-store');
      if (prefersHtml(request.headers.accept)) {
        const body = html`<p class="description">${item.description ?? ''}</p>
<dl><dt>Owner</dt><dd>${item.ownerId}</dd><dt>Created</dt><dd><time datetime="${item.createdAt.toISOString()}">${item.createdAt.toISOString()}</time></dd></dl>`;
        return asPage(reply)
          .serializer((s: string) => s)
          .send(page({ title: item.title, body }) as never);
      }
      return toItemOut(item);
    },
  );

  app.patch(
    '/items/:id',
    { config: { access: UPDATE }, schema: { tags: ['items'], params: Params, body: ItemPatch, response: { 200: ItemOut, 404: Problem } } },
    async (request, reply) => {
      const item = await items.update(request.auth!.user!, request.params.id, request.body);
      reply.header('cache-control', 'no-store');
      return toItemOut(item);
    },
  );

  app.delete(
    '/items/:id',
    { config: { access: DELETE }, schema: { tags: ['items'], params: Params, response: { 204: Type.Null(), 404: Problem } } },
    async (request, reply) => {
      await items.remove(request.auth!.user!, request.params.id);
      return reply.code(204).send(null);
    },
  );
}

/** Accept negotiation between JSON (the default) and HTML, honouring q-values. */
export function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  let html = -1;
  let json = -1;
  for (const part of accept.split(',')) {
    const [type, ...params] = part.trim().toLowerCase().split(';');
    const q = Number(params.map((p) => p.trim()).find((p) => p.startsWith('q='))?.slice(2) ?? 1);
    if (type === 'text/html') html = Math.max(html, q);
    if (type === 'application/json' || type === 'application/*') json = Math.max(json, q);
  }
  return html > 0 && html > json;
}
