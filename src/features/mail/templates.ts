import { html, htmlDocument } from '../../kernel/html/html.js';
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
  return { to: to.email, subject, text, html: htmlDocument(subject, body), kind: 'verify_email' };
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
  return { to: to.email, subject, text, html: htmlDocument(subject, body), kind: 'reset_password' };
}

/**
 * An address shown in a mail to someone who may not own it: enough to recognise (first and last
 * character of the local part, first character of the domain, its last label), not enough to learn it.
 */
export function maskAddress(address: string): string {
  const at = address.lastIndexOf('@');
  const local = at > 0 ? address.slice(0, at) : address;
  const domain = at > 0 ? address.slice(at + 1) : '';
  const maskedLocal = local.length <= 2 ? `${local[0] ?? ''}***` : `${local[0]}***${local[local.length - 1]}`;
  const labels = domain.split('.');
  const tld = labels.length > 1 ? `.${labels[labels.length - 1]}` : '';
  return `${maskedLocal}@${domain[0] ?? ''}***${tld}`;
}

/** To the current address when a change to `newAddress` is requested. */
export function emailChangeNoticeMail(to: Recipient, newAddress: string, forgotLink: string): MailMessage {
  const subject = 'Your e-mail address is being changed';
  const masked = maskAddress(newAddress);
  const text = [
    `Hello ${to.username},`,
    '',
    `someone signed in to your account asked to change its e-mail address to ${masked}.`,
    `Nothing changes until that address is confirmed; until then this address (${to.email}) stays the account's.`,
    '',
    'If this was you, there is nothing to do here.',
    `If it was not you, someone may know your password: reset it now at ${forgotLink} (the link goes to this address). A reset signs everyone out and cancels the change.`,
  ].join('\n');
  const body = html`<p>Hello ${to.username},</p>
<p>someone signed in to your account asked to change its e-mail address to <strong>${masked}</strong>.
Nothing changes until that address is confirmed; until then this address (${to.email}) stays the account's.</p>
<p>If this was you, there is nothing to do here.</p>
<p>If it was not you, someone may know your password: <a href="${forgotLink}">reset it now</a> (the link goes to this address). A reset signs everyone out and cancels the change.</p>`;
  return { to: to.email, subject, text, html: htmlDocument(subject, body), kind: 'email_change_notice' };
}

/** A sign-in from a device not seen before (src/features/sessions/new-device.ts), with a link that ends that session. */
export function newSignInMail(
  to: Recipient,
  signIn: { at: Date; ip?: string | undefined; userAgent?: string | undefined; method: string },
  link: string,
  hours: number,
): MailMessage {
  const subject = 'New sign-in to your account';
  const when = `${signIn.at.toISOString().replace('T', ' ').slice(0, 19)} UTC`;
  const device = signIn.userAgent || 'an unknown device';
  const ip = signIn.ip || 'an unknown address';
  const text = [
    `Hello ${to.username},`,
    '',
    `your account was signed in to from a device we have not seen before:`,
    '',
    `  When:    ${when}`,
    `  Device:  ${device}`,
    `  Address: ${ip}`,
    `  How:     ${signIn.method}`,
    '',
    'If this was you, there is nothing to do.',
    '',
    `If it was not you, open this link within ${hours} hours to end that session at once, then change your password:`,
    '',
    link,
    '',
    'The link works once.',
  ].join('\n');
  const body = html`<p>Hello ${to.username},</p>
<p>your account was signed in to from a device we have not seen before:</p>
<dl><dt>When</dt><dd>${when}</dd><dt>Device</dt><dd>${device}</dd><dt>Address</dt><dd>${ip}</dd><dt>How</dt><dd>${signIn.method}</dd></dl>
<p>If this was you, there is nothing to do.</p>
<p>If it was not you, open this link within ${hours} hours to end that session at once, then change your password:</p>
<p><a href="${link}">End that session</a></p>
<p>Or copy this address into your browser: ${link}</p>
<p>The link works once.</p>`;
  return { to: to.email, subject, text, html: htmlDocument(subject, body), kind: 'new_sign_in' };
}
