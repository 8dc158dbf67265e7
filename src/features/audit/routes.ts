import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Problem } from '../../kernel/problem.js';
import { findAuditEvents, type AuditRow } from './repository.js';
import { AuditList, AuditListQuery, type AuditEventOut } from './schemas.js';

export function toAuditEventOut(r: AuditRow): AuditEventOut {
  return {
    id: String(r.id),
    at: r.at.toISOString(),
    type: r.type,
    actor_id: r.actorId,
    subject_id: r.subjectId,
    ip: r.ip,
    user_agent: r.userAgent,
    request_id: r.requestId,
    flagged: r.flagged,
    details: r.details ?? {},
  };
}

export async function auditRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/admin/audit',
    {
      config: { access: { kind: 'bearer', scopes: ['admin'], permission: 'audit:read' }, admin: true },
      schema: {
        tags: ['admin'],
        summary: 'Security events, newest first',
        querystring: AuditListQuery,
        response: { 200: AuditList, 401: Problem, 403: Problem, 422: Problem },
      },
    },
    async (request, reply) => {
      const q = request.query;
      await app.warden.audit.flush();
      const page = await findAuditEvents(app.warden.db, {
        type: q.type,
        actor: q.actor,
        subject: q.subject,
        ip: q.ip,
        from: q.from ? new Date(q.from) : undefined,
        to: q.to ? new Date(q.to) : undefined,
        flagged: q.flagged,
        limit: q.limit,
        cursor: q.cursor,
      });
      reply.header('cache-control', 'no-store');
      return { items: page.items.map(toAuditEventOut), next_cursor: page.nextCursor };
    },
  );
}
