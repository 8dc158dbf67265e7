import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { and, desc, eq } from 'drizzle-orm';
import { Type } from 'typebox';
import { ACCOUNT } from '../access/route-access.js';
import { requestContext } from '../audit/request-context.js';
import { notFound } from '../../kernel/errors.js';
import { identityProviders, userIdentities } from './tables.js';
import type { Db } from '../../kernel/storage/database.js';
import { isUuid } from '../users/repository.js';
import { Problem } from '../../kernel/problem.js';
import { toProviderOut } from './providers.js';
import fp from 'fastify-plugin';
import { needsWarden, ROUTE_PIPELINE } from '../../platform/pipeline.js';

const Kind = Type.Union([Type.Literal('oidc'), Type.Literal('github')]);
const Name = Type.String({ minLength: 1, maxLength: 64, pattern: '\\S' });
const Issuer = Type.String({ minLength: 8, maxLength: 500, format: 'uri' });
const ClientId = Type.String({ minLength: 1, maxLength: 255 });
const ClientSecret = Type.String({ minLength: 1, maxLength: 1024, description: 'write-only: never returned' });
const Scopes = Type.String({ minLength: 1, maxLength: 500, pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+( [\\x21\\x23-\\x5B\\x5D-\\x7E]+)*$', description: 'space-separated' });

export const ProviderIn = Type.Object(
  { kind: Kind, name: Name, issuer: Type.Optional(Issuer), client_id: ClientId, client_secret: ClientSecret, scopes: Type.Optional(Scopes) },
  { additionalProperties: false },
);
export const ProviderPatch = Type.Object(
  { name: Type.Optional(Name), issuer: Type.Optional(Issuer), client_id: Type.Optional(ClientId), client_secret: Type.Optional(ClientSecret), scopes: Type.Optional(Scopes) },
  { additionalProperties: false, minProperties: 1 },
);
export const ProviderOut = Type.Object({
  id: Type.String(),
  kind: Kind,
  name: Type.String(),
  issuer: Type.Union([Type.String(), Type.Null()]),
  client_id: Type.String(),
  scopes: Type.String(),
  created_at: Type.String(),
  updated_at: Type.String(),
});
const ProviderList = Type.Object({ items: Type.Array(ProviderOut) });
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

export const IdentityOut = Type.Object({
  id: Type.String(),
  provider_id: Type.String(),
  provider_name: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(),
  last_used_at: Type.Union([Type.String(), Type.Null()]),
});
const IdentityList = Type.Object({ items: Type.Array(IdentityOut) });

/** A user's links to upstream accounts, newest first. */
export async function listIdentities(db: Db, userId: string) {
  const rows = await db
    .select({
      id: userIdentities.id,
      providerId: userIdentities.providerId,
      providerName: identityProviders.name,
      email: userIdentities.email,
      createdAt: userIdentities.createdAt,
      lastUsedAt: userIdentities.lastUsedAt,
    })
    .from(userIdentities)
    .innerJoin(identityProviders, eq(identityProviders.id, userIdentities.providerId))
    .where(eq(userIdentities.userId, userId))
    .orderBy(desc(userIdentities.createdAt));
  return rows.map((r) => ({
    id: r.id,
    provider_id: r.providerId,
    provider_name: r.providerName,
    email: r.email,
    created_at: r.createdAt.toISOString(),
    last_used_at: r.lastUsedAt?.toISOString() ?? null,
  }));
}

/** Remove one of the user's own links; another user's or an unknown id is 404 (nothing revealed). */
export async function removeIdentity(db: Db, userId: string, id: string): Promise<boolean> {
  if (!isUuid(id)) return false;
  const gone = await db
    .delete(userIdentities)
    .where(and(eq(userIdentities.id, id), eq(userIdentities.userId, userId)))
    .returning({ providerId: userIdentities.providerId });
  return gone.length > 0;
}

/** /admin/identity-providers and /users/me/identities (docs/federation.md). */
async function federationApi(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const w = app.warden;
  const providers = w.identityProviders;
  const ADMIN = { kind: 'bearer', scopes: ['admin'], role: 'admin' } as const;

  app.get(
    '/admin/identity-providers',
    { config: { access: ADMIN, admin: true }, schema: { tags: ['admin'], summary: 'Upstream identity providers (client secrets never shown)', response: { 200: ProviderList } } },
    async (_request, reply) => {
      reply.header('cache-control', 'no-store');
      return { items: (await providers.list()).map(toProviderOut) };
    },
  );

  app.post(
    '/admin/identity-providers',
    {
      config: { access: ADMIN, admin: true },
      schema: {
        tags: ['admin'],
        summary: 'Add an upstream identity provider: generic OIDC (by discovery from issuer) or the GitHub preset',
        body: ProviderIn,
        response: { 201: ProviderOut, 422: Problem },
      },
    },
    async (request, reply) => reply.code(201).send(toProviderOut(await providers.create(request.body, requestContext(request)))),
  );

  app.get(
    '/admin/identity-providers/:id',
    { config: { access: ADMIN, admin: true }, schema: { tags: ['admin'], params: IdParams, response: { 200: ProviderOut, 404: Problem } } },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return toProviderOut(await providers.get(request.params.id));
    },
  );

  app.patch(
    '/admin/identity-providers/:id',
    {
      config: { access: ADMIN, admin: true },
      schema: { tags: ['admin'], summary: 'Change a provider (client_secret: replace it)', params: IdParams, body: ProviderPatch, response: { 200: ProviderOut, 404: Problem, 422: Problem } },
    },
    async (request) => toProviderOut(await providers.update(request.params.id, request.body, requestContext(request))),
  );

  app.delete(
    '/admin/identity-providers/:id',
    {
      config: { access: ADMIN, admin: true },
      schema: { tags: ['admin'], summary: 'Delete a provider and every link to it (the accounts stay)', params: IdParams, response: { 204: Type.Null(), 404: Problem } },
    },
    async (request, reply) => {
      await providers.delete(request.params.id, requestContext(request));
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/users/me/identities',
    { config: { access: ACCOUNT }, schema: { tags: ['users'], summary: 'Your links to upstream identity providers', response: { 200: IdentityList } } },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return { items: await listIdentities(w.db, request.auth!.user!.id) };
    },
  );

  app.delete(
    '/users/me/identities/:id',
    {
      config: { access: ACCOUNT, rateLimitGroup: 'account' },
      schema: { tags: ['users'], summary: 'Remove a link: that upstream account no longer signs you in', params: IdParams, response: { 204: Type.Null(), 404: Problem } },
    },
    async (request, reply) => {
      const userId = request.auth!.user!.id;
      if (!(await removeIdentity(w.db, userId, request.params.id))) throw notFound('no such identity link');
      await w.audit.record(w.db, { type: 'federation.unlinked', subjectId: userId, details: { identity_id: request.params.id } }, requestContext(request));
      return reply.code(204).send(null);
    },
  );
}

export const federationApiRoutes = fp(federationApi, { name: 'warden-federation', fastify: '5.x', encapsulate: true, decorators: needsWarden(), dependencies: [...ROUTE_PIPELINE, 'warden-audit'] });
