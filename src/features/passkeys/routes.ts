import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ACCOUNT } from '../access/route-access.js';
import { requestContext } from '../audit/request-context.js';
import { Problem } from '../../kernel/problem.js';
import { IdParams } from '../users/schemas.js';
import { PasskeyService, toPasskeyOut } from './service.js';
import { bundleText, bundleUrl, SCRIPT, SCRIPT_URL } from './script.js';
import fp from 'fastify-plugin';
import { needsWarden, ROUTE_PIPELINE } from '../../platform/pipeline.js';

export const PasskeyOut = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  last_used_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  backed_up: Type.Boolean({ description: 'the credential is synced or backed up (a multi-device passkey)' }),
});
const PasskeyList = Type.Object({ items: Type.Array(PasskeyOut) });
/** WebAuthn options JSON as @simplewebauthn/server makes them (PublicKeyCredentialCreation/RequestOptionsJSON). */
const Options = Type.Object({ challenge: Type.String() }, { additionalProperties: true });
/** A PublicKeyCredential's JSON (what @simplewebauthn/browser returns); checked by the library. */
export const CredentialJson = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 1400 }),
    rawId: Type.String({ minLength: 1, maxLength: 1400 }),
    type: Type.Literal('public-key'),
    response: Type.Object({}, { additionalProperties: true }),
  },
  { additionalProperties: true },
);
export const PasskeyName = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S', description: 'a name the user recognises the passkey by' });
const PasskeyIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false });
const UserPasskeyParams = Type.Object({ id: Type.String({ format: 'uuid' }), passkey_id: Type.String({ format: 'uuid' }) }, { additionalProperties: false });

/** Passkeys through the API (docs/passkeys.md); the pages' forms are in src/features/account/account-page.ts and src/features/oauth/authorize/routes.ts. */
async function passkeyApi(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const w = app.warden;
  const passkeys = new PasskeyService(w);
  const script = { kind: 'public', reason: 'the passkey scripts of the sign-in and account pages' } as const;
  const immutable = 'public, max-age=31536000, immutable';

  app.get(SCRIPT_URL, { config: { access: script }, schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', immutable).send(SCRIPT),
  );
  app.get(bundleUrl(), { config: { access: script }, schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', immutable).send(bundleText()),
  );

  app.get(
    '/users/me/passkeys',
    { config: { access: ACCOUNT }, schema: { tags: ['users'], summary: 'Your passkeys', response: { 200: PasskeyList } } },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return { items: (await passkeys.list(request.auth!.user!.id)).map(toPasskeyOut) };
    },
  );

  app.delete(
    '/users/me/passkeys/:id',
    { config: { access: ACCOUNT }, schema: { tags: ['users'], summary: 'Remove one of your passkeys', params: PasskeyIdParams, response: { 204: Type.Null(), 404: Problem } } },
    async (request, reply) => {
      const id = request.auth!.user!.id;
      await passkeys.remove(id, request.params.id, { ...requestContext(request), actorId: id });
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/users/me/passkeys/options',
    {
      config: { access: ACCOUNT, rateLimitGroup: 'account' },
      schema: {
        tags: ['users'],
        summary: 'WebAuthn registration options (needs a sign-in within 5 minutes, or current_password)',
        body: Type.Optional(Type.Object({ current_password: Type.Optional(Type.String({ maxLength: 1024 })) }, { additionalProperties: false })),
        response: { 200: Options, 422: Problem },
      },
    },
    async (request, reply) => {
      const user = request.auth!.user!;
      const authTime = request.auth!.claims.auth_time;
      const ctx = { ...requestContext(request), actorId: user.id };
      await passkeys.checkRecent(user, typeof authTime === 'number' ? authTime * 1000 : undefined, request.body?.current_password || undefined, ctx);
      reply.header('cache-control', 'no-store');
      return passkeys.registrationOptions(user);
    },
  );

  app.post(
    '/users/me/passkeys',
    {
      config: { access: ACCOUNT, rateLimitGroup: 'account' },
      schema: {
        tags: ['users'],
        summary: 'Register a passkey: the attestation response to the options, and a name',
        body: Type.Object({ name: PasskeyName, response: CredentialJson }, { additionalProperties: false }),
        response: { 201: PasskeyOut, 400: Problem, 422: Problem },
      },
    },
    async (request, reply) => {
      const user = request.auth!.user!;
      const row = await passkeys.register(user, request.body.response, request.body.name.trim(), { ...requestContext(request), actorId: user.id });
      return reply.code(201).header('cache-control', 'no-store').send(toPasskeyOut(row));
    },
  );

  app.post(
    '/passkeys/options',
    {
      config: { access: { kind: 'public', reason: 'the sign-in pages ask for a challenge before any user is known' }, rateLimitGroup: 'token' },
      schema: {
        tags: ['oauth'],
        summary: 'WebAuthn authentication options (discoverable credentials) for the sign-in pages',
        body: Type.Optional(Type.Object({}, { additionalProperties: false })),
        response: { 200: Options },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'no-store');
      return passkeys.authenticationOptions();
    },
  );

  app.get(
    '/admin/users/:id/passkeys',
    {
      config: { access: { kind: 'bearer', scopes: ['admin'], permission: 'users:read' }, admin: true },
      schema: { tags: ['admin'], summary: "A user's passkeys", params: IdParams, response: { 200: PasskeyList, 404: Problem } },
    },
    async (request, reply) => {
      await w.users.get(request.params.id);
      reply.header('cache-control', 'no-store');
      return { items: (await passkeys.list(request.params.id)).map(toPasskeyOut) };
    },
  );

  app.delete(
    '/admin/users/:id/passkeys/:passkey_id',
    {
      config: { access: { kind: 'bearer', scopes: ['admin'], permission: 'users:update' }, admin: true },
      schema: { tags: ['admin'], summary: "Remove a user's passkey", params: UserPasskeyParams, response: { 204: Type.Null(), 404: Problem } },
    },
    async (request, reply) => {
      await passkeys.remove(request.params.id, request.params.passkey_id, requestContext(request));
      return reply.code(204).send(null);
    },
  );
}

export const passkeyRoutes = fp(passkeyApi, { name: 'warden-passkeys', fastify: '5.x', encapsulate: true, decorators: needsWarden(), dependencies: [...ROUTE_PIPELINE, 'warden-audit'] });
