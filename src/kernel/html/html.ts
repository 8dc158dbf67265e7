/**
 * Auto-escaping HTML templates: every interpolated value is escaped unless it is already SafeHtml
 * (the result of another `html` template). Arrays are joined. There is no "raw" escape hatch on purpose.
 */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString() {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

function render(v: unknown): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof SafeHtml) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new SafeHtml(out);
}

/**
 * A bare HTML document (no inline script or style, so the CSP can forbid both). Server-rendered pages
 * use the shared layout, `page()` in src/kernel/html/layout.ts; this is for what has no server around it (mail).
 */
export function htmlDocument(title: string, body: SafeHtml, opts: { stylesheet?: string; icon?: string; scripts?: readonly string[] } = {}): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
${opts.icon ? html`<link rel="icon" href="${opts.icon}">` : ''}
${opts.stylesheet ? html`<link rel="stylesheet" href="${opts.stylesheet}">` : ''}
${(opts.scripts ?? []).map((src) => html`<script src="${src}" defer></script>`)}
</head>
<body>
${body}
</body>
</html>
`.value;
}

/** Strict CSP for server-rendered pages: nothing inline, nothing from elsewhere, no framing. */
export const PAGE_CSP =
  "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/**
 * The page CSP for the pages that run the passkey script (the sign-in and account pages): scripts only
 * from this origin's own files (no inline script), and fetch only back to this origin.
 */
export const SCRIPT_PAGE_CSP = `${PAGE_CSP}; script-src 'self'; connect-src 'self'`;
