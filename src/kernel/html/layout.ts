import { html, htmlDocument, type SafeHtml } from './html.js';
import { ICON_URL, STYLESHEET_URL } from './stylesheet.js';

/**
 * The layout of every server-rendered page, and the few components pages share. Text reaches the
 * markup only through the `html` template (src/kernel/html/html.ts), which escapes it. No inline script or
 * style anywhere: the page CSP forbids both (docs/pages.md).
 */

export interface PageOptions {
  /** The page's <h1>; also its <title> unless `documentTitle` says otherwise. */
  title: string;
  body: SafeHtml;
  /** What goes in the top bar after the brand (a navigation, who is signed in); absent: the brand alone. */
  nav?: SafeHtml;
  /** "narrow" (the default) for a form, "wide" for tables. */
  width?: 'narrow' | 'wide';
  /** The <title>, when it should say more than the heading ("Users · Warden admin"). */
  documentTitle?: string;
  /** Where the brand links (default: the home page). */
  home?: string;
  /** Name shown as the brand (default "Warden"). */
  brand?: string;
  /** Script files (this origin's, deferred); the page must be sent with SCRIPT_PAGE_CSP. */
  scripts?: readonly string[];
}

/** A whole page: skip link, top bar, one card of content with the heading, a small footer. */
export function page(o: PageOptions): string {
  const brand = o.brand ?? 'Warden';
  return htmlDocument(
    o.documentTitle ?? `${o.title} · Warden`,
    html`<a class="skip" href="#main">Skip to content</a>
<header class="topbar">
<p class="brand"><a href="${o.home ?? '/'}">${brand}</a></p>
${o.nav ?? ''}
</header>
<main id="main" class="${o.width ?? 'narrow'}">
<h1>${o.title}</h1>
${o.body}
</main>
<footer class="footer"><p>Warden identity server · <a href="/">Home</a></p></footer>`,
    { stylesheet: STYLESHEET_URL, icon: ICON_URL, ...(o.scripts ? { scripts: o.scripts } : {}) },
  );
}

/** A success or information message (announced politely). */
export const notice = (text: string | undefined) => (text ? html`<p class="notice" role="status">${text}</p>` : '');

/** An error message (announced at once). */
export const alert = (text: string | undefined) => (text ? html`<p class="error" role="alert">${text}</p>` : '');

/** A refusal with its field errors, as the API's problem JSON carries them. */
export function problemAlert(p: { detail: string; errors?: ReadonlyArray<{ field: string; message: string }> | undefined }) {
  return html`<div class="error" role="alert"><p>${p.detail}</p>${p.errors?.length ? html`<ul>${p.errors.map((x) => html`<li>${x.field}: ${x.message}</li>`)}</ul>` : ''}</div>`;
}

export interface FieldOptions {
  name: string;
  label: string;
  type?: string;
  value?: string | undefined;
  autocomplete?: string;
  required?: boolean;
  maxlength?: number;
  hint?: string;
  /** This field's error: shown under it, tied to it with aria-describedby, the field marked invalid. */
  error?: string | undefined;
  id?: string;
}

/** A labelled input with its hint and error. Never echoes a password back. */
export function field(f: FieldOptions) {
  const id = f.id ?? f.name;
  const type = f.type ?? 'text';
  const described = [f.hint ? `${id}-hint` : '', f.error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return html`<div class="field"><label for="${id}">${f.label}</label>
${f.hint ? html`<small id="${id}-hint" class="hint">${f.hint}</small>` : ''}
<input id="${id}" name="${f.name}" type="${type}"${f.autocomplete ? html` autocomplete="${f.autocomplete}"` : ''}${f.required ? html` required` : ''}${f.maxlength ? html` maxlength="${f.maxlength}"` : ''}${type !== 'password' && f.value !== undefined ? html` value="${f.value}"` : ''}${f.error ? html` aria-invalid="true"` : ''}${described ? html` aria-describedby="${described}"` : ''}>
${f.error ? html`<p id="${id}-error" class="field-error">${f.error}</p>` : ''}</div>`;
}

/**
 * The one pattern for a destructive action, working without JavaScript: a form whose required
 * checkbox (`confirm=yes`) states the consequence; the server refuses the post without it too.
 */
export function confirmForm(o: { action: string; hidden: SafeHtml; button: string; consequence: string }) {
  return html`<form method="post" action="${o.action}" class="confirm">${o.hidden}
<label><input type="checkbox" name="confirm" value="yes" required> ${o.consequence}</label>
<button type="submit" class="danger">${o.button}</button></form>`;
}

/** Did the post carry the ticked confirmation box of `confirmForm`? */
export const isConfirmed = (body: unknown) => (body as Record<string, unknown> | undefined)?.confirm === 'yes';

/**
 * The page a browser page answers when it cannot serve now and will later: 503 (a service it needs is
 * down, the server is busy) or 429 (too many requests). Problem JSON says the same to API clients.
 */
export function retryLaterPage(title: string, reason: string, retryAfterSeconds: number | undefined) {
  const when = retryAfterSeconds ? `in ${retryAfterSeconds} seconds` : 'shortly';
  return page({
    title,
    body: html`<p class="error" role="alert">${reason}</p>
<p>Nothing was changed. Try again ${when}: reload this page, or go back and send the form again.</p>`,
  });
}
