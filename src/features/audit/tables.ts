import { bigserial, boolean, index, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { ts } from '../../kernel/storage/columns.js';

export const auditEvents = pgTable(
  'audit_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: ts('at').notNull().defaultNow(),
    type: text('type').notNull(),
    actorId: text('actor_id'),
    subjectId: text('subject_id'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    requestId: text('request_id'),
    flagged: boolean('flagged').notNull().default(false),
    details: jsonb('details').notNull().$type<Record<string, unknown>>().default({}),
  },
  (t) => [
    index('audit_at_idx').on(t.at, t.id),
    index('audit_type_at_idx').on(t.type, t.at),
    index('audit_actor_idx').on(t.actorId, t.at),
    index('audit_subject_idx').on(t.subjectId, t.at),
  ],
);
