/** The admin console's stylesheet, served as a file so the CSP can forbid inline style (kept in TS: the build copies no assets). */
export const CONSOLE_CSS = `
/* The admin console: plain, readable, no framework. Served as a file so the CSP can forbid inline style. */
:root { color-scheme: light dark; --accent: #1f5fbf; --warn: #a33; --line: #8884; }
* { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, sans-serif; margin: 0; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: Canvas; padding: .5rem; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 1rem 2rem; padding: .5rem 1.5rem; border-bottom: 1px solid var(--line); }
.brand { font-weight: 700; margin: 0; }
nav ul { list-style: none; display: flex; gap: 1.25rem; margin: 0; padding: 0; }
nav a[aria-current="page"] { font-weight: 700; text-decoration: underline 3px; }
.signout { margin-left: auto; }
.signout p { margin: 0; }
main { padding: 1rem 1.5rem 3rem; max-width: 80rem; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { text-align: left; vertical-align: top; padding: .35rem .6rem; border-bottom: 1px solid var(--line); }
td code { word-break: break-all; font-size: .85em; }
tr.flagged { background: #f003; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dt { font-weight: 600; }
dd { margin: 0; }
fieldset { border: 1px solid var(--line); margin: .5rem 0; }
form.inline { display: inline; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; }
.filters fieldset { display: flex; flex-wrap: wrap; gap: 0 1rem; }
.notice { border-left: 4px solid var(--accent); padding: .4rem .8rem; }
.error { border-left: 4px solid var(--warn); padding: .4rem .8rem; }
.secret { border: 2px solid var(--warn); padding: .5rem 1rem; }
button { font: inherit; padding: .2rem .7rem; cursor: pointer; }
input, select, textarea { font: inherit; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
`;
