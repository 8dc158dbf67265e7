import fp from 'fastify-plugin';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { page } from '../kernel/html/layout.js';
import type { CatalogueEntry, ErrorCatalogue, ErrorCode } from '../kernel/error-catalogue.js';
import { html, type SafeHtml } from '../kernel/html/html.js';
import { asPage } from './security-headers.js';
import { ROUTE_PIPELINE } from './pipeline.js';

type Entry = [ErrorCode, CatalogueEntry];
type Section = { id: string; title: string; intro: string; entries: Entry[] };

/**
 * The catalogue is composed by the app (src/app/error-catalogue.ts: the kernel's codes and every
 * feature's) and handed in; its order is the page's. Problem codes first (the `type` URIs point here),
 * then the OAuth-only codes; each code once, as one anchor.
 */
function sections(catalogue: ErrorCatalogue): Section[] {
  const entries = Object.entries(catalogue) as Entry[];
  return [
    {
      id: 'problems',
      title: 'Problem codes',
      intro:
        'Answers of the API outside the OAuth endpoints are RFC 9457 problem details (application/problem+json) with `type`, `title`, `status`, `detail`, `code` and, for invalid fields, `errors`. Their `type` is this page with the code as anchor.',
      entries: entries.filter(([, e]) => e.family.includes('problem')),
    },
    {
      id: 'oauth',
      title: 'OAuth error codes',
      intro:
        '/token, /revoke and /introspect answer RFC 6749 errors: `{"error": code, "error_description": …}`. The authorization endpoint sends its errors to the client\'s redirect URI as `?error=code&error_description=…&state=…`.',
      entries: entries.filter(([, e]) => !e.family.includes('problem')),
    },
  ];
}

function where(e: CatalogueEntry): string {
  const parts: string[] = [];
  if (e.status.length) parts.push(`HTTP ${e.status.join(', ')}`);
  else parts.push('in the redirect to the client');
  if (e.family.length > 1) parts.push('as a problem and as an OAuth error');
  return parts.join(' · ');
}

/** `backticks` in the catalogue's text become <code>; everything is escaped. */
function inline(text: string): SafeHtml[] {
  return text.split('`').map((part, i) => (i % 2 ? html`<code>${part}</code>` : html`${part}`));
}

function renderPage(catalogue: ErrorCatalogue): string {
  const parts = sections(catalogue);
  const body = html`<p>Every code this server answers with: what causes it and what fixes it. The same list is in
<code>docs/errors.md</code>.</p>
<nav><ul>${parts.map((s) => html`<li><a href="#${s.id}">${s.title}</a> (${s.entries.length})</li>`)}</ul></nav>
${parts.map(
  (s) => html`<section id="${s.id}">
<h2>${s.title}</h2>
<p>${inline(s.intro)}</p>
<dl>
${s.entries.map(
  ([code, e]) => html`<dt id="${code}"><a href="#${code}"><code>${code}</code></a> — ${e.title}</dt>
<dd><p class="status">${where(e)}</p><p>${inline(e.text)}</p></dd>
`,
)}</dl>
</section>
`,
)}`;
  return page({ title: 'Warden error codes', documentTitle: 'Error codes · Warden', width: 'wide', body });
}

/** docs/errors.md, from the same catalogue (scripts/error-docs.ts writes it; a test fails when it is stale). */
export function catalogueMarkdown(catalogue: ErrorCatalogue): string {
  const out = [
    '# Warden error codes',
    '',
    '<!-- Generated from src/app/error-catalogue.ts (the kernel’s codes and each feature’s error-codes.ts) by `npx tsx scripts/error-docs.ts`; do not edit by hand. -->',
    '',
    'Every code Warden answers with: what causes it and what fixes it. A running server serves the same',
    'list at `GET /docs/errors`; a problem\'s `type` is `{PUBLIC_URL}/docs/errors#<code>`.',
    '',
  ];
  for (const s of sections(catalogue)) {
    out.push(`## ${s.title}`, '', s.intro, '');
    for (const [code, e] of s.entries) out.push(`### ${code}`, '', `**${e.title}** — ${where(e)}.`, '', e.text, '');
  }
  return out.join('\n');
}

const PUBLIC = { kind: 'public', reason: 'the error catalogue that problem `type` URIs point at' } as const;

export interface ErrorPageOptions {
  /** Every code the app answers with (src/app/error-catalogue.ts); the platform cannot list the features' codes itself. */
  catalogue: ErrorCatalogue;
}

/** GET /docs/errors: served whether or not DOCS is enabled, because every problem's `type` points here. */
async function errorCatalogue(app: FastifyInstance, opts: ErrorPageOptions) {
  const body = renderPage(opts.catalogue);
  app.get('/docs/errors', { config: { access: PUBLIC }, schema: { hide: true } as FastifySchema }, async (_request, reply) =>
    asPage(reply).header('cache-control', 'public, max-age=3600').send(body),
  );
}

export const errorCatalogueRoutes = fp<ErrorPageOptions>(errorCatalogue, { name: 'warden-error-page', fastify: '5.x', encapsulate: true, dependencies: [...ROUTE_PIPELINE] });
