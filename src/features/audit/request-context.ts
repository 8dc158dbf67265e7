import type { FastifyRequest } from 'fastify';
import type { RequestContext } from './audit-log.js';

export function requestContext(request: FastifyRequest): RequestContext {
  const ua = request.headers['user-agent'];
  return {
    ip: request.ip,
    userAgent: typeof ua === 'string' ? ua : undefined,
    requestId: request.id,
    actorId: request.auth?.user?.id ?? request.auth?.clientId,
  };
}
