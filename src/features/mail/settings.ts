import { Type, type Static } from 'typebox';
import { OptStr, Str } from '../../kernel/config/settings.js';

/** Outgoing mail: the SMTP server (or DATA_DIR/outbox) and the sender. */
export const MailSettings = Type.Object({
  SMTP_URL: OptStr('smtp(s)://user:pass@host:port; without it mails go to DATA_DIR/outbox'),
  MAIL_FROM: Str('Warden <no-reply@localhost>', 'From: of mails'),
});

declare module '../../kernel/config/settings.js' {
  interface Settings extends Static<typeof MailSettings> {}
}
