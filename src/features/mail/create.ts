import { join } from 'node:path';
import type { Config } from '../../kernel/config/load.js';
import { QueuedMailer, type QueueOptions } from './mailer.js';
import { OutboxTransport } from './outbox.js';
import { SmtpTransport } from './smtp.js';

/** SMTP when SMTP_URL is set, the DATA_DIR/outbox folder otherwise. */
export function createMailer(config: Pick<Config, 'MAIL_FROM' | 'SMTP_URL' | 'dataDir'>, opts: Partial<QueueOptions> = {}): QueuedMailer {
  const transport = config.SMTP_URL ? new SmtpTransport(config.SMTP_URL) : new OutboxTransport(join(config.dataDir, 'outbox'));
  return new QueuedMailer(transport, { from: config.MAIL_FROM, ...opts });
}
