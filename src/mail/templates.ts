import { html, page } from '../http/html.js';
import type { MailMessage } from './mailer.js';

/**
 * Mail bodies: a plain-text part and an HTML part with the same content. Values in the HTML part go
 * through the auto-escaping `html` template (a username like `<img src=x>` stays text); the text part
 * is plain text, where nothing is interpreted.
 */

interface Recipient {
  username: string;
  email: string;
}

export function verificationMail(to: Recipient, link: string, hours: number): MailMessage {
  const subject = 'Confirm your e-mail address';
  const text = [
    `Hello ${to.username},`,
    '',
    `please confirm that ${to.email} is your e-mail address by opening this link within ${hours} hours:`,
    '',
    link,
    '',
    'If you did not ask for this, ignore this message; nothing will change.',
  ].join('\n');
  const body = html`<p>Hello ${to.username},</p>
<p>please confirm that <strong>${to.email}</strong> is your e-mail address by opening this link within ${hours} hours:</p>
<p><a href="${link}">Confirm my e-mail address</a></p>
<p>Or copy this address into your browser: ${link}</p>
<p>If you did not ask for this, ignore this message; nothing will change.</p>`;
  return { to: to.email, subject, text, html: page(subject, body), kind: 'verify_email' };
}

export function passwordResetMail(to: Recipient, link: string, minutes: number): MailMessage {
  const subject = 'Reset your password';
  const text = [
    `Hello ${to.username},`,
    '',
    `someone (hopefully you) asked to reset the password of your account. Open this link within ${minutes} minutes to choose a new one:`,
    '',
    link,
    '',
    'The link works once. If you did not ask for this, ignore this message: your password stays as it is.',
  ].join('\n');
  const body = html`<p>Hello ${to.username},</p>
<p>someone (hopefully you) asked to reset the password of your account. Open this link within ${minutes} minutes to choose a new one:</p>
<p><a href="${link}">Choose a new password</a></p>
<p>Or copy this address into your browser: ${link}</p>
<p>The link works once. If you did not ask for this, ignore this message: your password stays as it is.</p>`;
  return { to: to.email, subject, text, html: page(subject, body), kind: 'reset_password' };
}
