import type { Warden } from '../../kernel/warden.js';
import type { Job } from '../../platform/jobs.js';
import { pruneAuditEvents } from './repository.js';

const HOUR = 3_600_000;

/** Delete audit events older than AUDIT_RETENTION_DAYS; returns how many went. */
export async function pruneExpiredAuditEvents(w: Warden): Promise<number> {
  const before = new Date(w.clock.now() - w.config.AUDIT_RETENTION_DAYS * 86_400_000);
  return pruneAuditEvents(w.db, before);
}

/**
 * The retention job: a minute after start (not during it), then hourly, on one instance at a time when
 * several share the database (a large DELETE twice at once is only lock contention).
 */
export function auditRetentionJob(w: Warden): Job {
  return {
    name: 'audit-events.prune',
    everyMs: HOUR,
    firstAfterMs: 60_000,
    singleRunner: true,
    run: async ({ db, now }) => ({ deleted: await pruneAuditEvents(db, new Date(now.getTime() - w.config.AUDIT_RETENTION_DAYS * 86_400_000)) }),
  };
}
