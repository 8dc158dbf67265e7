import { Type, type Static } from 'typebox';
import { Int, OptStr } from '../../kernel/config/settings.js';

/** Audit: how long events are kept, the alert webhook and the failed-login monitoring rules. */
export const AuditSettings = Type.Object({
  AUDIT_RETENTION_DAYS: Int(90, 1, 3650, 'audit events older than this are pruned'),
  ALERT_WEBHOOK_URL: OptStr('flagged security events are POSTed here as JSON'),
  ALERT_WEBHOOK_QUEUE: Int(1000, 1, 100000, 'flagged events waiting for the webhook; beyond it new ones are dropped with a warning'),
  ALERT_WEBHOOK_ATTEMPTS: Int(5, 1, 20, 'deliveries tried per alert (exponential backoff between them)'),
  MONITOR_WINDOW_SECONDS: Int(300, 10, 86400, 'sliding window of the failed-login burst rules'),
  MONITOR_STUFFING_ACCOUNTS: Int(10, 2, 100000, 'distinct accounts failing from one IP within the window: credential stuffing'),
  MONITOR_DISTRIBUTED_IPS: Int(10, 2, 100000, 'distinct IPs failing on one account within the window: distributed attack'),
});

declare module '../../kernel/config/settings.js' {
  interface Settings extends Static<typeof AuditSettings> {}
}
