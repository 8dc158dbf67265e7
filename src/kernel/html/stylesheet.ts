import { createHash } from 'node:crypto';

/**
 * The one stylesheet of every server-rendered page (console, sign-in, consent, MFA, account links,
 * setup, registration, the home page). Served as a file so the CSP can forbid inline style; kept in TS
 * because the build copies no assets. Its URL carries a hash of the content, so it is cached for a
 * year and a new release is fetched at once (docs/pages.md).
 */
export const CSS = `/* Warden pages: one plain stylesheet, system fonts, no framework. */
:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --card: #fff; --fg: #1b2430; --muted: #4f5b69; --line: #cfd6de;
  --accent: #1d5bbf; --accent-fg: #fff; --danger: #b3261e; --danger-bg: #fdecea; --ok-bg: #e7f1fd; --flag: #fff4d6;
  --radius: 6px;
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Liberation Sans", Arial, sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root { --bg: #14181d; --card: #1c2128; --fg: #e6e9ed; --muted: #a8b3bf; --line: #3a434e;
    --accent: #7fb0ff; --accent-fg: #0b1320; --danger: #ff8a80; --danger-bg: #3a1d1b; --ok-bg: #16263b; --flag: #3a3118; }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--fg); font: inherit; }
a { color: var(--accent); text-underline-offset: .15em; }
a:hover { text-decoration-thickness: 2px; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: 0 0 1rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; }
code, pre { font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .9em; }
code { background: color-mix(in srgb, var(--line) 35%, transparent); padding: 0 .25em; border-radius: 3px; overflow-wrap: anywhere; }
small, .hint { color: var(--muted); }

/* Skip link, visible on focus only. */
.skip { position: absolute; left: -999px; top: .5rem; }
.skip:focus { left: .5rem; z-index: 10; background: var(--card); padding: .5rem .75rem; border-radius: var(--radius); }

/* Top bar: brand, optional navigation, who is signed in. */
.topbar { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1.5rem; padding: .6rem 1.25rem; background: var(--card); border-bottom: 1px solid var(--line); }
.brand { font-weight: 700; margin: 0; font-size: 1.05rem; }
.brand a { color: inherit; text-decoration: none; }
.topbar nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem 1rem; margin: 0; padding: 0; }
.topbar nav a[aria-current="page"] { font-weight: 700; text-decoration: underline 3px; }
.signout { margin-left: auto; }
.signout p { margin: 0; display: flex; flex-wrap: wrap; align-items: center; gap: .5rem; }

/* Content: a card; narrow for forms, wide for tables. */
main { margin: 1.5rem auto 3rem; padding: 1.5rem; background: var(--card); border: 1px solid var(--line); border-radius: var(--radius); }
main.narrow { max-width: min(30rem, calc(100% - 2rem)); }
main.wide { max-width: min(80rem, calc(100% - 2rem)); }
@media (max-width: 40rem) { main.narrow, main.wide { max-width: none; margin: 0 0 2rem; border-radius: 0; border-left: 0; border-right: 0; padding: 1rem; } }
.footer { text-align: center; color: var(--muted); font-size: .875rem; margin-bottom: 2rem; }

/* Forms. */
form p, .field { margin: 0 0 1rem; }
label { font-weight: 600; }
label:has(> input[type=checkbox]), label:has(> input[type=radio]) { font-weight: 400; margin-right: .75rem; }
label.check { font-weight: 400; display: inline-flex; gap: .4rem; align-items: baseline; margin-right: 1rem; }
input, select, textarea { font: inherit; color: inherit; background: var(--card); border: 1px solid var(--muted); border-radius: 4px; padding: .45rem .6rem; max-width: 100%; }
input:not([type=checkbox]):not([type=radio]), select, textarea { width: 100%; margin-top: .2rem; }
form.search input, .inline-fields input { width: auto; }
input[type=checkbox] { width: 1.05rem; height: 1.05rem; accent-color: var(--accent); }
input[aria-invalid="true"] { border-color: var(--danger); border-width: 2px; }
.field-error { color: var(--danger); font-weight: 600; margin: .2rem 0 0; }
fieldset { border: 1px solid var(--line); border-radius: var(--radius); margin: 0 0 1rem; padding: .5rem 1rem .75rem; }
legend { font-weight: 600; padding: 0 .25rem; }
.filters fieldset { display: grid; grid-template-columns: repeat(auto-fill, minmax(12rem, 1fr)); gap: 0 1rem; }
button, .button { font: inherit; font-weight: 600; display: inline-block; padding: .45rem 1rem; border-radius: 4px; border: 1px solid var(--accent); background: var(--accent); color: var(--accent-fg); cursor: pointer; text-decoration: none; }
button.secondary, .button.secondary { background: transparent; color: var(--accent); }
button.danger { background: var(--danger); border-color: var(--danger); color: #fff; }
@media (prefers-color-scheme: dark) { button.danger { color: #1b0b0a; } }
.actions { display: flex; flex-wrap: wrap; gap: .75rem; align-items: flex-start; margin: 0 0 1rem; }
form.inline { display: inline; }
/* A destructive action: its own box with the required confirmation checkbox next to the button. */
form.confirm { display: inline-flex; flex-wrap: wrap; gap: .5rem; align-items: center; border: 1px solid var(--danger); border-radius: var(--radius); padding: .4rem .6rem; margin: .25rem 0; }
form.confirm label { font-weight: 400; display: inline-flex; gap: .4rem; align-items: center; }

/* Messages. */
.notice, .error, .secret { border-radius: var(--radius); padding: .6rem .9rem; margin: 0 0 1rem; }
.notice { background: var(--ok-bg); border-left: 4px solid var(--accent); }
.error { background: var(--danger-bg); border-left: 4px solid var(--danger); }
.error ul { margin: .25rem 0 0; padding-left: 1.25rem; }
.secret { border: 2px solid var(--danger); }
.links { list-style: none; padding: 0; display: grid; gap: .75rem; }
.links a { font-weight: 600; }
.links li { border: 1px solid var(--line); border-radius: var(--radius); padding: .75rem 1rem; }
.links p { margin: .25rem 0 0; color: var(--muted); }
.below { margin-top: 1.25rem; display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; }

/* Tables scroll sideways on narrow screens instead of squeezing. */
.table { overflow-x: auto; margin: 1rem 0; }
table { border-collapse: collapse; width: 100%; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { text-align: left; vertical-align: top; padding: .4rem .6rem; border-bottom: 1px solid var(--line); }
thead th { border-bottom: 2px solid var(--line); }
td code { word-break: break-all; font-size: .85em; }
tr.flagged { background: var(--flag); }
.who { display: block; color: var(--muted); font-size: .85em; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
@media (max-width: 40rem) { dl { grid-template-columns: 1fr; } dd { margin-bottom: .5rem; } }
dt { font-weight: 600; }
dd { margin: 0; }
ul.scopes { padding-left: 1.2rem; }
`;

/** The first 12 hex digits of the content's SHA-256: changes whenever the stylesheet does. */
export const STYLESHEET_HASH = createHash('sha256').update(CSS).digest('hex').slice(0, 12);

/** Where every page links the stylesheet. */
export const STYLESHEET_URL = `/static/warden-${STYLESHEET_HASH}.css`;

/** Warden's mark as the pages' icon: a data: URL (the CSP allows data: images), so no request for /favicon.ico. */
export const ICON_URL = `data:image/svg+xml,${encodeURIComponent(
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#1d5bbf"/><path d="M7 9l4 14 5-10 5 10 4-14" fill="none" stroke="#fff" stroke-width="3" stroke-linejoin="round" stroke-linecap="round"/></svg>',
)}`;
