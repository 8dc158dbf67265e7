import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { QueuedMailer, type MailLog, type MailMessage, type MailTransport } from '../../src/features/mail/mailer.js';
import { OutboxTransport } from '../../src/features/mail/outbox.js';
import { SmtpTransport } from '../../src/features/mail/smtp.js';
import { passwordResetMail, verificationMail } from '../../src/features/mail/templates.js';
import { startSmtp } from '../account/smtp.js';

function capture(): MailLog & { lines: Array<{ level: string; obj: object; msg: string }> } {
  const lines: Array<{ level: string; obj: object; msg: string }> = [];
  return {
    lines,
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => lines.push({ level: 'error', obj, msg }),
  };
}

const LINK = 'https://id.example.com/password/reset?token=wpr_SECRETTOKENVALUE';
const message = (): MailMessage => passwordResetMail({ username: 'alice', email: 'alice@example.com' }, LINK, 30);

class FlakyTransport implements MailTransport {
  readonly name = 'flaky';
  calls = 0;
  constructor(private failures: number) {}
  async deliver() {
    this.calls++;
    if (this.calls <= this.failures) throw Object.assign(new Error('451 try later'), { code: 'EENVELOPE' });
    return { messageId: `<m${this.calls}@test>` };
  }
  async close() {}
}

describe('mail templates', () => {
  it('escape values in the HTML part and carry the link in both parts', () => {
    const m = verificationMail({ username: 'x<script>alert(1)</script>', email: 'a"b@example.com' }, 'https://id.example.com/email/verify?token=wev_a&b', 24);
    assert.doesNotMatch(m.html, /<script>/);
    assert.match(m.html, /x&lt;script&gt;/);
    assert.match(m.html, /a&quot;b@example\.com/);
    assert.match(m.html, /href="https:\/\/id\.example\.com\/email\/verify\?token=wev_a&amp;b"/);
    assert.match(m.text, /https:\/\/id\.example\.com\/email\/verify\?token=wev_a&b/);
    assert.match(m.text, /within 24 hours/);
  });
});

describe('QueuedMailer', () => {
  it('retries a failed send with backoff, logs each failure, and delivers', async () => {
    const transport = new FlakyTransport(2);
    const mailer = new QueuedMailer(transport, { from: 'w@example.com', retryDelayMs: 5 });
    const log = capture();
    mailer.useLogger(log);
    const outcomes: boolean[] = [];
    mailer.onOutcome((o) => outcomes.push(o.ok));
    mailer.send(message());
    assert.equal(transport.calls, 0, 'send() returns before any delivery is attempted');
    await mailer.flush();
    assert.equal(transport.calls, 3);
    assert.deepEqual(outcomes, [true]);
    assert.deepEqual(log.lines.map((l) => l.level), ['warn', 'warn', 'info']);
    assert.doesNotMatch(JSON.stringify(log.lines), /SECRETTOKENVALUE/);
    await mailer.close();
  });

  it('gives up after the bounded number of attempts and logs an error', async () => {
    const transport = new FlakyTransport(100);
    const mailer = new QueuedMailer(transport, { from: 'w@example.com', retryDelayMs: 1, attempts: 3 });
    const log = capture();
    mailer.useLogger(log);
    mailer.send(message());
    await mailer.flush();
    assert.equal(transport.calls, 3);
    assert.equal(log.lines.at(-1)!.level, 'error');
    assert.match(log.lines.at(-1)!.msg, /abandoned/);
    await mailer.close();
  });

  it('close() delivers what is waiting for a retry instead of dropping it', async () => {
    const transport = new FlakyTransport(1);
    const mailer = new QueuedMailer(transport, { from: 'w@example.com', retryDelayMs: 60_000 });
    mailer.useLogger(capture());
    mailer.send(message());
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(transport.calls, 1);
    await mailer.close();
    assert.equal(transport.calls, 2);
  });
});

describe('OutboxTransport', () => {
  it('writes an .eml readable by the owner only and logs the file, never the token', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'warden-outbox-')), 'outbox');
    const mailer = new QueuedMailer(new OutboxTransport(dir), { from: 'Warden <w@example.com>' });
    const log = capture();
    mailer.useLogger(log);
    mailer.send(message());
    await mailer.flush();
    const files = readdirSync(dir);
    assert.equal(files.length, 1);
    assert.match(files[0]!, /reset_password.*\.eml$/);
    const file = join(dir, files[0]!);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const raw = readFileSync(file, 'utf8');
    assert.match(raw, /^From: Warden <w@example\.com>$/m);
    assert.match(raw, /^To: alice@example\.com$/m);
    assert.match(raw, /Content-Type: multipart\/alternative/);
    assert.match(raw.replace(/=\n/g, ''), /SECRETTOKENVALUE/);
    assert.equal(log.lines.length, 1);
    assert.match(log.lines[0]!.msg, new RegExp(files[0]!.replace(/[.]/g, '\\.')));
    assert.doesNotMatch(JSON.stringify(log.lines), /SECRETTOKENVALUE/);
    await mailer.close();
  });
});

describe('SmtpTransport', () => {
  it('delivers through a real SMTP server on loopback, retrying a temporary refusal', async () => {
    const smtp = await startSmtp({ failFirst: 1 });
    try {
      const mailer = new QueuedMailer(new SmtpTransport(smtp.url), { from: 'Warden <w@example.com>', retryDelayMs: 10 });
      const log = capture();
      mailer.useLogger(log);
      mailer.send(message());
      const got = await smtp.next('alice@example.com');
      assert.equal(got.from, 'w@example.com');
      assert.match(got.text, /SECRETTOKENVALUE/);
      assert.match(got.raw, /^Auto-Submitted: auto-generated/m);
      await mailer.flush();
      assert.deepEqual(log.lines.map((l) => l.level), ['warn', 'info']);
      await mailer.close();
    } finally {
      await smtp.close();
    }
  });
});
