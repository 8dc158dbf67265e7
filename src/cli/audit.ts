import { setTimeout as sleep } from 'node:timers/promises';
import { auditEventsAfter, findAuditEvents, type AuditRow } from '../features/audit/repository.js';
import { UsageError, type Command } from './command.js';
import { withWarden } from './context.js';

const TYPE = /^[a-z_]+(\.[a-z_]+)*(\.\*)?$/;

/** One line per event: time, type, who, whom, where, then the details as JSON. */
export function formatEvent(e: AuditRow): string {
  return [
    e.at.toISOString(),
    e.type + (e.flagged ? ' [flagged]' : ''),
    `actor=${e.actorId ?? '-'}`,
    `subject=${e.subjectId ?? '-'}`,
    `ip=${e.ip ?? '-'}`,
    `request=${e.requestId ?? '-'}`,
    JSON.stringify(e.details ?? {}),
  ].join('  ');
}

export const auditTail: Command = {
  name: 'audit tail',
  summary: 'print the latest audit events; --follow keeps printing new ones',
  usage: 'audit tail [--follow] [--type T] [--limit N]',
  options: { follow: { type: 'boolean', short: 'f' }, type: { type: 'string' }, limit: { type: 'string' } },
  async run({ values }) {
    const limit = values.limit === undefined ? 20 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit must be a whole number from 1 to 1000');
    const type = values.type as string | undefined;
    if (type !== undefined && !TYPE.test(type)) throw new UsageError('--type takes an event type like login.failed, or a prefix like login.*');
    await withWarden(async (w) => {
      const latest = await findAuditEvents(w.db, { type, limit });
      const rows = latest.items.reverse();
      for (const e of rows) console.log(formatEvent(e));
      if (!values.follow) return;
      // Polls the table: works the same on PGlite and on PostgreSQL shared by several instances.
      let lastId = Math.max(0, ...rows.map((r) => r.id));
      if (!rows.length) lastId = (await findAuditEvents(w.db, { limit: 1 })).items[0]?.id ?? 0;
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        while (!stop.signal.aborted) {
          for (const e of await auditEventsAfter(w.db, lastId, type, 500)) {
            console.log(formatEvent(e));
            lastId = Math.max(lastId, e.id);
          }
          await sleep(1000, undefined, { signal: stop.signal }).catch(() => {});
        }
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
  },
};
