import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { WardenAuthError } from './errors.js';
import { checkRole, checkScopes } from './guards.js';
import { createVerifier, type Principal, type Verifier, type VerifierOptions } from './verifier.js';

declare module 'fastify' {
  interface FastifyInstance {
    wardenVerifier: Verifier;
    /** preHandler: a valid access token; its principal is on `request.principal`. */
    authenticate: preHandlerAsyncHookHandler;
    /** preHandler: a valid access token carrying every one of these scopes (else 403 insufficient_scope). */
    requireScope(...scopes: string[]): preHandlerAsyncHookHandler;
    /** preHandler: a valid access token whose `roles` include this one (else 403). */
    requireRole(role: string): preHandlerAsyncHookHandler;
  }
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}

export type WardenAuthOptions = VerifierOptions | { verifier: Verifier };

/** Answer an auth failure the same way whatever the app's error handler does (RFC 6750 §3). */
export function sendAuthError(reply: FastifyReply, e: WardenAuthError): FastifyReply {
  const challenge = e.wwwAuthenticate;
  if (challenge) reply.header('www-authenticate', challenge);
  return reply.code(e.status).header('cache-control', 'no-store').send(e.body());
}

async function wardenAuthPlugin(app: FastifyInstance, options: WardenAuthOptions): Promise<void> {
  const verifier = 'verifier' in options ? options.verifier : createVerifier(options);
  const guard = (check?: (p: Principal) => void): preHandlerAsyncHookHandler =>
    async function (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
      try {
        const principal = request.principal ?? (await verifier.authenticate(request.headers.authorization));
        request.principal = principal;
        check?.(principal);
      } catch (e) {
        if (e instanceof WardenAuthError) return sendAuthError(reply, e);
        throw e;
      }
    };
  app.decorate('wardenVerifier', verifier);
  app.decorateRequest('principal', undefined);
  app.decorate('authenticate', guard());
  app.decorate('requireScope', (...scopes: string[]) => guard((p) => checkScopes(p, scopes)));
  app.decorate('requireRole', (role: string) => guard((p) => checkRole(p, role)));
}

// What fastify-plugin does, without the dependency: the decorators belong to the app that registers this.
Object.assign(wardenAuthPlugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'warden-auth',
  [Symbol.for('plugin-meta')]: { name: 'warden-auth', fastify: '5.x' },
});

/** `await app.register(wardenAuth, { issuer, audience })`, then `preHandler: app.requireScope('orders:read')`. */
export const wardenAuth = wardenAuthPlugin;
