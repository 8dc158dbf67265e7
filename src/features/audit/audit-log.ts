import type { Clock } from '../../kernel/clock.js';
import type { Executor } from '../../kernel/storage/database.js';
import { auditEvents } from './tables.js';
import { sql, type SQL } from 'drizzle-orm';

/** Who and where a request came from; threaded from routes to services so events can name it. */
export interface RequestContext {
  ip?: string | undefined;
  userAgent?: string | undefined;
  requestId?: string | undefined;
  /** The user or client acting, when known. */
  actorId?: string | undefined;
}

export interface AuditEvent {
  type: string;
  actorId?: string | null | undefined;
  subjectId?: string | null | undefined;
  flagged?: boolean;
  /** Never a password, token, code, secret or hash. */
  details?: Record<string, unknown>;
}

/** A batched event waits at most this long, or until this many are queued. */
const FLUSH_MS = 50;
const FLUSH_AT = 200;

export type AuditListener = (event: AuditEvent & { at: Date; ctx: RequestContext }) => void;

/**
 * Security events. `record` takes the executor so an event is written in the same transaction as the
 * change it records (pass the transaction); listeners (monitoring, alerts) run after it.
 */
export class AuditLog {
  private readonly listeners: AuditListener[] = [];
  private pending: Array<{ row: typeof auditEvents.$inferInsert; event: AuditEvent; ctx: RequestContext; at: Date }> = [];
  private batchDb: Executor | undefined;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  constructor(private readonly clock: Clock) {}

  /** Returns a function that removes the listener (an app closing while its Warden lives on). */
  onEvent(listener: AuditListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  async record(ex: Executor, event: AuditEvent, ctx: RequestContext = {}) {
    await this.recordAll(ex, [event], ctx);
  }

  /** Several events of one request in one INSERT (one round trip inside the caller's transaction). */
  async recordAll(ex: Executor, events: AuditEvent[], ctx: RequestContext = {}) {
    const at = new Date(this.clock.now());
    await ex.insert(auditEvents).values(events.map((e) => this.row(e, ctx, at)));
    for (const e of events) this.notify(e, ctx, at);
  }

  /**
   * Events that the caller's own statement writes together with the change they record (a refresh
   * token and its `token.issued` row: one statement, one round trip, one commit). `rows` goes into
   * `auditInsert`; `announce` tells the listeners once that statement has committed (with the subject
   * the statement found, for events that named none).
   */
  prepare(events: AuditEvent[], ctx: RequestContext = {}): PreparedAudit {
    const at = new Date(this.clock.now());
    return {
      rows: events.map((e) => this.row(e, ctx, at)),
      announce: (subjectId?: string) => {
        for (const e of events) this.notify(subjectId && !e.subjectId ? { ...e, subjectId } : e, ctx, at);
      },
    };
  }

  /**
   * For an event that records no database change of its own (a client_credentials token: nothing is
   * stored), so there is no transaction to share: the row is queued and written with others in one
   * multi-row INSERT every FLUSH_MS or FLUSH_AT events, and on close. A machine client asking for
   * thousands of tokens a second otherwise pays a committed write per token. Readers of the audit
   * log (API, console) call `flush` first, so nothing queued is missing from what they show.
   */
  recordBatched(db: Executor, event: AuditEvent, ctx: RequestContext = {}): void {
    const at = new Date(this.clock.now());
    this.pending.push({ row: this.row(event, ctx, at), event, ctx, at });
    this.batchDb = db;
    if (this.pending.length >= FLUSH_AT) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }

  /** Writes every queued event; resolves when they (and any flush already running) are stored. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const batch = this.pending.splice(0);
    const db = this.batchDb;
    if (batch.length && db) {
      const write = this.writing.then(async () => {
        try {
          await insertBatch(db, batch.map((b) => b.row));
        } catch (e) {
          // Audit rows must not vanish silently: say so where the operator looks.
          process.emitWarning(`audit: ${batch.length} queued event(s) could not be written: ${(e as Error).message}`, 'WardenAuditWarning');
          return;
        }
        for (const b of batch) this.notify(b.event, b.ctx, b.at);
      });
      this.writing = write;
    }
    await this.writing;
  }

  private row(event: AuditEvent, ctx: RequestContext, at: Date) {
    return {
      at,
      type: event.type,
      actorId: event.actorId ?? ctx.actorId ?? null,
      subjectId: event.subjectId ?? null,
      ip: ctx.ip ?? null,
      userAgent: ctx.userAgent?.slice(0, 512) ?? null,
      requestId: ctx.requestId ?? null,
      flagged: event.flagged ?? false,
      details: event.details ?? {},
    };
  }

  private notify(event: AuditEvent, ctx: RequestContext, at: Date) {
    for (const l of this.listeners) {
      try {
        l({ ...event, at, ctx });
      } catch {
        // A listener's failure must never fail the change being recorded.
      }
    }
  }
}

export type AuditRow = typeof auditEvents.$inferInsert;

export interface PreparedAudit {
  readonly rows: AuditRow[];
  announce(subjectId?: string): void;
}

/**
 * The INSERT of these rows, for a statement of the caller's (a data-modifying CTE runs whether or not
 * the rest of the statement reads it). One parameter for all of them: the rows as a JSON array,
 * expanded by jsonb_to_recordset, so a batch of any size is one parameter (Drizzle's multi-row insert
 * builds nine per row through its generic query builder, on the token endpoint's path).
 *
 * `from`: a row source of the statement (e.g. the CTE of a refresh token it just consumed), joined so
 * that the events are written only when it has a row, their subject its `user_id` where they name none.
 */
export function auditInsert(rows: AuditRow[], from?: SQL): SQL {
  // The rows' own (camelCase) keys name the record's columns; JSON turns `at` into an ISO timestamp.
  const subject = from ? sql.raw(`coalesce(r."subjectId", s.user_id::text)`) : sql.raw(`r."subjectId"`);
  return sql`insert into audit_events (at, type, actor_id, subject_id, ip, user_agent, request_id, flagged, details)
    select r.at, r.type, r."actorId", ${subject}, r.ip, r."userAgent", r."requestId", r.flagged, r.details
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      as r(at timestamptz, type text, "actorId" text, "subjectId" text, ip text, "userAgent" text, "requestId" text, flagged boolean, details jsonb)
    ${from ? sql`cross join ${from} as s` : sql``}`;
}

async function insertBatch(db: Executor, rows: AuditRow[]) {
  await db.execute(auditInsert(rows));
}

declare module '../../kernel/warden.js' {
  interface Warden {
    readonly audit: AuditLog;
  }
}
