import type { Clock } from '../clock.js';
import type { Executor } from '../storage/database.js';
import { auditEvents } from '../storage/schema.js';

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

export type AuditListener = (event: AuditEvent & { at: Date; ctx: RequestContext }) => void;

/**
 * Security events. `record` takes the executor so an event is written in the same transaction as the
 * change it records (pass the transaction); listeners (monitoring, alerts) run after it.
 */
export class AuditLog {
  private readonly listeners: AuditListener[] = [];
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
    const at = new Date(this.clock.now());
    await ex.insert(auditEvents).values({
      at,
      type: event.type,
      actorId: event.actorId ?? ctx.actorId ?? null,
      subjectId: event.subjectId ?? null,
      ip: ctx.ip ?? null,
      userAgent: ctx.userAgent?.slice(0, 512) ?? null,
      requestId: ctx.requestId ?? null,
      flagged: event.flagged ?? false,
      details: event.details ?? {},
    });
    for (const l of this.listeners) {
      try {
        l({ ...event, at, ctx });
      } catch {
        // A listener's failure must never fail the change being recorded.
      }
    }
  }
}
