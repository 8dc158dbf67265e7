import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  /** Decoded text part (quoted-printable undone). */
  text: string;
  subject: string;
}

/** Undo quoted-printable (RFC 2045 §6.7): soft line breaks and =XX escapes. */
export function decodeQuotedPrintable(s: string): string {
  const bytes = s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

function textPart(raw: string): string {
  const m = /Content-Type: text\/plain[^\n]*\r?\n(?:[^\r\n]+\r?\n)*?\r?\n([\s\S]*?)\r?\n--/i.exec(raw);
  const encoded = /Content-Type: text\/plain[\s\S]*?Content-Transfer-Encoding: quoted-printable/i.test(raw);
  const body = m ? m[1]! : raw;
  return encoded ? decodeQuotedPrintable(body) : body;
}

/**
 * A real SMTP server on 127.0.0.1 (port 0) for end-to-end tests: plain SMTP, no AUTH, no STARTTLS.
 * `next(to)` resolves with the next message for that address.
 */
export async function startSmtp(opts: { delayMs?: number; failFirst?: number; hold?: boolean } = {}) {
  let release: () => void = () => {};
  const gate = opts.hold ? new Promise<void>((r) => (release = r)) : Promise.resolve();
  const received: ReceivedMail[] = [];
  const waiters: Array<{ to: string; resolve: (m: ReceivedMail) => void }> = [];
  let failures = opts.failFirst ?? 0;
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const finish = () => {
          if (failures > 0) {
            failures--;
            const err = new Error('try again later') as Error & { responseCode: number };
            err.responseCode = 451;
            return callback(err);
          }
          const raw = Buffer.concat(chunks).toString('utf8');
          const mail: ReceivedMail = {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw,
            text: textPart(raw),
            subject: /^Subject: (.*)$/m.exec(raw)?.[1]?.trim() ?? '',
          };
          received.push(mail);
          for (const w of [...waiters]) {
            if (mail.to.includes(w.to)) {
              waiters.splice(waiters.indexOf(w), 1);
              w.resolve(mail);
              break;
            }
          }
          callback();
        };
        void gate.then(() => (opts.delayMs ? setTimeout(finish, opts.delayMs) : finish()));
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  const returned = new Set<ReceivedMail>();
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    /** With `hold`: let the stalled deliveries finish. */
    release: () => release(),
    /** The next message to `to` not yet returned by next(). */
    next(to: string, timeoutMs = 10_000): Promise<ReceivedMail> {
      const already = received.find((m) => m.to.includes(to) && !returned.has(m));
      if (already) {
        returned.add(already);
        return Promise.resolve(already);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no mail for ${to} within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          to,
          resolve: (m) => {
            clearTimeout(timer);
            returned.add(m);
            resolve(m);
          },
        });
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type SmtpHarness = Awaited<ReturnType<typeof startSmtp>>;

/** The token in a mailed link `…/path?token=…`. */
export function tokenFrom(mail: ReceivedMail, path: string): { token: string; link: string } {
  const m = new RegExp(`(https?://[^\\s]+${path.replace(/\//g, '\\/')}\\?token=([A-Za-z0-9_%.-]+))`).exec(mail.text);
  if (!m) throw new Error(`no ${path} link in mail:\n${mail.text}`);
  return { link: m[1]!, token: decodeURIComponent(m[2]!) };
}
