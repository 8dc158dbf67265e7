import type { SendMailOptions, Transporter } from 'nodemailer';
import type { MailMessage, MailTransport } from './mailer.js';

let nodemailerModule: Promise<typeof import('nodemailer')> | undefined;
/** nodemailer is ~15 MB of resident code: loaded with the first mail, not at start (idle memory, issue 7). */
export const loadNodemailer = async () => (await (nodemailerModule ??= import('nodemailer'))).default;

/**
 * SMTP through nodemailer. TLS is what the URL says: smtps:// is TLS from the first byte (port 465);
 * smtp:// upgrades with STARTTLS when the server offers it (add ?requireTLS=true to insist).
 * Credentials in the URL (smtp://user:pass@host) are used for AUTH and never logged.
 */
export class SmtpTransport implements MailTransport {
  readonly name = 'smtp';
  private transporter: Transporter | undefined;

  constructor(private readonly url: string) {}

  async deliver(from: string, m: MailMessage) {
    this.transporter ??= (await loadNodemailer()).createTransport(this.url);
    const info = await this.transporter.sendMail(envelope(from, m));
    return { messageId: info.messageId as string | undefined };
  }

  async close() {
    this.transporter?.close();
  }
}

/** The nodemailer message both transports build. */
export function envelope(from: string, m: MailMessage): SendMailOptions {
  return {
    from,
    to: m.to,
    subject: m.subject,
    text: m.text,
    html: m.html,
    headers: {
      // RFC 3834: an automatic message; well-behaved responders do not answer it.
      'Auto-Submitted': 'auto-generated',
      'X-Warden-Mail': m.kind,
    },
  };
}
