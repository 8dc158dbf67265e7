import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requireScope, requireUser } from '../access/guards.js';
import { html, page } from '../http/html.js';
import { asPage } from '../http/security-headers.js';
import { ListQuery } from '../users/schemas.js';
import { Problem } from '../users/routes.js';
import { ItemList, ItemOut, ItemPatch, NewItem } from './schemas.js';
import { ItemsService, toItemOut } from './service.js';

const Params = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false });

export async function itemRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const items = new ItemsService(app.warden.db, app.warden.clock);
  const security = [{ bearer: [] }];
  const read = [requireUser, requireScope('items:read')];
  const write = [requireUser, requireScope('items:write')];

  app.post(
    '/items',
    { preHandler: write, schema: { tags: ['items'], security, body: NewItem, response: { 201: ItemOut, 422: Problem } } },
    async (request, reply) => {
      const item = await items.create(request.auth!.user!, request.body.title, request.body.description);
      reply.code(201).header('location', `/items/${item.id}`).header('cache-control', 'no-store');
      return toItemOut(item);
    },
  );

  app.get(
    '/items',
    { preHandler: read, schema: { tags: ['items'], summary: 'Your items, newest first', security, querystring: ListQuery, response: { 200: ItemList } } },
    async (request, reply) => {
      const p = await items.list(request.auth!.user!, request.query.limit, request.query.cursor);
      reply.header('cache-control', 'no-store');
      return { items: p.items.map(toItemOut), next_cursor: p.nextCursor };
    },
  );

  app.get(
    '/items/:id',
    {
      preHandler: read,
      schema: {
        tags: ['items'],
        summary: 'One item (JSON, or an HTML page with Accept: text/html)',
        security,
        params: Params,
        response: { 200: ItemOut, 404: Problem },
      },
    },
    async (request, reply) => {
      const item = await items.read(request.auth!.user!, request.params.id);
      reply.header('cache-control', 'no-store');
      if (prefersHtml(request.headers.accept)) {
        const body = html`<main>
<h1>${item.title}</h1>
<p class="description">${item.description ?? ''}</p>
<dl><dt>Owner</dt><dd>${item.ownerId}</dd><dt>Created</dt><dd><time datetime="${item.createdAt.toISOString()}">${item.createdAt.toISOString()}</time></dd></dl>
</main>`;
        return asPage(reply)
          .serializer((s: string) => s)
          .send(page(item.title, body) as never);
      }
      return toItemOut(item);
    },
  );

  app.patch(
    '/items/:id',
    { preHandler: write, schema: { tags: ['items'], security, params: Params, body: ItemPatch, response: { 200: ItemOut, 404: Problem } } },
    async (request, reply) => {
      const item = await items.update(request.auth!.user!, request.params.id, request.body);
      reply.header('cache-control', 'no-store');
      return toItemOut(item);
    },
  );

  app.delete(
    '/items/:id',
    { preHandler: write, schema: { tags: ['items'], security, params: Params, response: { 204: Type.Null(), 404: Problem } } },
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
