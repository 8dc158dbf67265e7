import type { Warden } from '../warden.js';
import type { AlertLogger } from './alerts.js';
import { pruneAuditEvents } from './repository.js';

const HOUR = 3_600_000;

/** Delete audit events older than AUDIT_RETENTION_DAYS; returns how many went. */
export async function pruneExpiredAuditEvents(w: Warden): Promise<number> {
  const before = new Date(w.clock.now() - w.config.AUDIT_RETENTION_DAYS * 86_400_000);
  return pruneAuditEvents(w.db, before);
}

/**
 * Prune in the background: a minute after start (not during it), then hourly. Several instances
 * pruning at once is harmless: each deletes what is left. The timers never keep the process alive.
 */
export function scheduleAuditRetention(w: Warden, log: AlertLogger & { info(obj: object, msg: string): void }) {
  let running = false;
  const run = () => {
    if (running) return;
    running = true;
    pruneExpiredAuditEvents(w)
      .then((n) => {
        if (n > 0) log.info({ deleted: n, retention_days: w.config.AUDIT_RETENTION_DAYS }, 'old audit events pruned');
      })
      .catch((err: unknown) => log.warn({ err }, 'audit retention: pruning failed'))
      .finally(() => (running = false));
  };
  const first = setTimeout(run, 60_000);
  const every = setInterval(run, HOUR);
  first.unref();
  every.unref();
  w.timers.push(first, every);
  return () => {
    clearTimeout(first);
    clearInterval(every);
  };
}
