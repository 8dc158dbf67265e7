import { Type, type Static } from 'typebox';

export const AuditEventOut = Type.Object(
  {
    id: Type.String({ description: 'opaque, increasing' }),
    at: Type.String({ format: 'date-time' }),
    type: Type.String(),
    actor_id: Type.Union([Type.String(), Type.Null()]),
    subject_id: Type.Union([Type.String(), Type.Null()]),
    ip: Type.Union([Type.String(), Type.Null()]),
    user_agent: Type.Union([Type.String(), Type.Null()]),
    request_id: Type.Union([Type.String(), Type.Null()]),
    flagged: Type.Boolean(),
    details: Type.Record(Type.String(), Type.Unknown()),
  },
  { additionalProperties: false },
);
export type AuditEventOut = Static<typeof AuditEventOut>;

export const AuditList = Type.Object(
  { items: Type.Array(AuditEventOut), next_cursor: Type.Union([Type.String(), Type.Null()]) },
  { additionalProperties: false },
);

export const AuditListQuery = Type.Object(
  {
    type: Type.Optional(Type.String({ maxLength: 100, pattern: '^[a-z_]+(\\.[a-z_]+)*(\\.\\*)?$', description: 'exact type, or a prefix like "login.*"' })),
    actor: Type.Optional(Type.String({ maxLength: 200 })),
    subject: Type.Optional(Type.String({ maxLength: 200 })),
    ip: Type.Optional(Type.String({ maxLength: 64 })),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'events at or after' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'events at or before' })),
    flagged: Type.Optional(Type.Boolean()),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 50 }),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type AuditListQuery = Static<typeof AuditListQuery>;
