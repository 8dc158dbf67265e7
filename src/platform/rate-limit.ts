import fp from 'fastify-plugin';
import rateLimit, { normalizeIP, type FastifyRateLimitStore } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { StateStore } from '../kernel/storage/state/store.js';
import { OAuthError, ProblemError } from '../kernel/errors.js';
import { needsWarden } from './pipeline.js';

type Group = 'token' | 'register' | 'account';

/**
 * @fastify/rate-limit store on Warden's StateStore: one atomic increment per request (memory or Redis),
 * so every instance counts against the same numbers and concurrent requests cannot slip past the limit.
 * Fixed windows: the counter is created with the window as its lifetime and is never extended.
 */
export function stateStoreRateLimitStore(state: StateStore) {
  return class StateStoreRateLimitStore implements FastifyRateLimitStore {
    incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number) {
      state.increment(`rl:${key}`, timeWindow).then(
        (r) => callback(null, { current: r.value, ttl: Math.max(0, r.resetInMs) }),
        (e: Error) => callback(e),
      );
    }
    child() {
      return this;
    }
  };
}

interface Limit {
  name: 'global' | Group;
  max: number;
  check: (req: FastifyRequest) => Promise<
    { isAllowed: true; key: string } | { isAllowed: false; max: number; remaining: number; ttlInSeconds: number; isExceeded: boolean }
  >;
}

/**
 * A global per-IP limit on every request (404s included) and a stricter one for the routes that
 * name a `rateLimitGroup` (token, register, account). The client is request.ip: the socket's peer
 * unless that peer is in TRUSTED_PROXIES (Fastify trustProxy), so X-Forwarded-For from anyone else
 * changes nothing. IPv6 clients are counted per /64, which one host usually controls whole.
 * Answers: 429 with Retry-After and the draft-ietf-httpapi-ratelimit-headers fields; OAuth routes in
 * RFC 6749 style. If the store fails (Redis down), requests pass: availability over a counter, while
 * account lockout, which guards credentials, fails closed.
 */
async function rateLimits(app: FastifyInstance) {
  const { config, state, metrics } = app.warden;
  if (!config.RATE_LIMIT_ENABLED) return;
  await app.register(rateLimit, {
    global: false,
    store: stateStoreRateLimitStore(state),
    skipOnError: true,
    enableDraftSpec: true,
  });
  const windowMs = config.RATE_LIMIT_WINDOW_SECONDS * 1000;
  const make = (name: Limit['name'], max: number): Limit => ({
    name,
    max,
    check: app.createRateLimit({ max, timeWindow: windowMs, keyGenerator: (req) => `${name}:${normalizeIP(req.ip)}` }) as Limit['check'],
  });
  const global = make('global', config.RATE_LIMIT_GLOBAL);
  const groups: Record<Group, Limit> = {
    token: make('token', config.RATE_LIMIT_TOKEN),
    register: make('register', config.RATE_LIMIT_REGISTER),
    account: make('account', config.RATE_LIMIT_ACCOUNT),
  };
  const policy = (l: Limit) => `${l.max};w=${config.RATE_LIMIT_WINDOW_SECONDS}`;

  const apply = async (limit: Limit, request: FastifyRequest, reply: FastifyReply) => {
    const r = await limit.check(request);
    if (r.isAllowed) return;
    reply.header('ratelimit-policy', policy(limit));
    reply.header('ratelimit-limit', String(r.max));
    reply.header('ratelimit-remaining', String(r.remaining));
    reply.header('ratelimit-reset', String(r.ttlInSeconds));
    if (!r.isExceeded) return;
    reply.header('retry-after', String(Math.max(1, r.ttlInSeconds)));
    metrics.rateLimited.inc({ group: limit.name });
    request.log.warn({ limit: limit.name, ip: request.ip }, 'rate limited');
    const detail = 'too many requests; retry later';
    if (request.routeOptions.config?.oauth) throw new OAuthError('slow_down', detail, { status: 429 });
    throw new ProblemError(429, 'rate_limited', detail);
  };

  app.addHook('onRequest', async (request, reply) => {
    await apply(global, request, reply);
    const group = request.routeOptions.config?.rateLimitGroup;
    // The stricter group's numbers replace the global ones in the headers: that is the limit that bites first.
    if (group) await apply(groups[group], request, reply);
  });
}

// After CORS, so an allowed origin can read a 429; its refusals are answered by the error handler.
export const rateLimitPlugin = fp(rateLimits, {
  name: 'warden-rate-limit',
  fastify: '5.x',
  decorators: needsWarden(),
  dependencies: ['warden-cors', 'warden-error-handler'],
});
