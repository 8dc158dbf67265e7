import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Transporter } from 'nodemailer';
import type { MailMessage, MailTransport } from './mailer.js';
import { envelope, loadNodemailer } from './smtp.js';

/**
 * Without SMTP_URL, each message is written as an RFC 5322 .eml file in DATA_DIR/outbox (open it
 * with any mail client). The files hold live links, so they are readable by the owner only; the log
 * line names the file, never the link or its token.
 */
export class OutboxTransport implements MailTransport {
  readonly name = 'outbox';
  private builder: Transporter | undefined;

  constructor(
    readonly dir: string,
    private readonly now: () => number = Date.now,
  ) {}

  async deliver(from: string, m: MailMessage) {
    this.builder ??= (await loadNodemailer()).createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
    const info = await this.builder.sendMail(envelope(from, m));
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const stamp = new Date(this.now()).toISOString().replace(/[:.]/g, '-');
    const file = join(this.dir, `${stamp}-${m.kind}-${randomBytes(4).toString('hex')}.eml`);
    await writeFile(file, info.message as Buffer, { mode: 0o600, flag: 'wx' });
    return { messageId: info.messageId as string | undefined, where: file };
  }

  async close() {
    this.builder?.close();
  }
}
