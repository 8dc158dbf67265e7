import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { RequestContext } from '../audit/audit-log.js';
import { requestContext } from '../audit/request-context.js';
import type { Warden } from '../../kernel/warden.js';

const KeyInfo = Type.Object({
  kid: Type.String(),
  alg: Type.String(),
  state: Type.String(),
  created_at: Type.String(),
  retiring_at: Type.Union([Type.String(), Type.Null()]),
  retired_at: Type.Union([Type.String(), Type.Null()]),
});

/**
 * The one rotation, whoever asks (admin API, console, CLI, key timer): audited as key.rotated with its
 * reason, announced to every instance. The old key keeps verifying (and stays in the JWKS) until its
 * tokens expire. With HS256 this rotates the id_token key; access tokens stay on SECRET_KEY.
 */
export async function rotateSigningKey(w: Warden, ctx: RequestContext, reason: 'manual' | 'scheduled'): Promise<string> {
  return w.keys.rotate({
    onRotated: async (kid, previous) => {
      await w.audit.record(w.db, { type: 'key.rotated', details: { kid, previous, reason } }, ctx);
    },
  });
}

/**
 * The key timer: retire keys whose tokens have all expired, and rotate when KEY_ROTATION_DAYS is due.
 * Verified-token cache is dropped after a retirement so no cached verification outlives its key.
 */
export async function maintainSigningKeys(w: Warden): Promise<{ retired: number; rotated: string | undefined }> {
  const before = new Set(w.keys.jwks().keys.map((k) => k.kid));
  const retired = await w.keys.retireExpired();
  await reloadSigningKeys(w, before, retired > 0);
  let rotated: string | undefined;
  if (w.config.KEY_ROTATION_DAYS > 0) {
    const keys = await w.keys.list();
    const newest = Math.max(0, ...keys.filter((k) => k.state === 'active').map((k) => Date.parse(k.created_at)));
    if (w.clock.now() - newest >= w.config.KEY_ROTATION_DAYS * 86400_000) {
      rotated = await rotateSigningKey(w, { actorId: 'system' }, 'scheduled');
    }
  }
  return { retired, rotated };
}

/**
 * Another instance may have retired or rotated (and its announcement been lost): reload, and forget
 * cached verifications if a key left.
 */
export async function reloadSigningKeys(w: Warden, before = new Set(w.keys.jwks().keys.map((k) => k.kid)), keyLeft = false): Promise<void> {
  await w.keys.reload();
  const after = new Set(w.keys.jwks().keys.map((k) => k.kid));
  if (keyLeft || [...before].some((kid) => !after.has(kid))) w.accessTokens.clearCache();
}

export async function adminKeyRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const w = app.warden;
  app.get(
    '/admin/keys',
    {
      config: { access: { kind: 'bearer', scopes: ['admin'], permission: 'keys:list' }, admin: true },
      schema: {
        tags: ['admin'],
        summary: 'Signing keys',
        response: { 200: Type.Object({ items: Type.Array(KeyInfo), next_cursor: Type.Null() }) },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'no-store');
      return { items: (await w.keys.list()).reverse(), next_cursor: null };
    },
  );
  app.post(
    '/admin/keys/rotate',
    {
      config: { access: { kind: 'bearer', scopes: ['admin'], permission: 'keys:rotate' }, admin: true },
      schema: { tags: ['admin'], summary: 'Rotate the signing key now (with HS256: the id_token key)', response: { 201: KeyInfo } },
    },
    async (request, reply) => {
      const kid = await rotateSigningKey(w, requestContext(request), 'manual');
      const info = (await w.keys.list()).find((k) => k.kid === kid)!;
      return reply.code(201).send(info);
    },
  );
}
