import type { Api, RoleRecord } from '../apis/repository.js';
import { html } from '../../kernel/html/html.js';
import { alert, BASE, confirmed, consolePage, csrf, notice, type Viewer } from './pages.js';

/** The console's pages for API resources, roles and a client's per-API grants (issue 15). */

const ttl = (a: Api) => (a.builtIn ? 'ACCESS_TOKEN_EXPIRE_MINUTES' : a.accessTokenTtlSeconds === null ? 'default' : `${a.accessTokenTtlSeconds} s`);

export function apisPage(v: Viewer, apis: readonly Api[], opts: { done?: string | undefined; error?: string | undefined }) {
  return consolePage(
    'APIs',
    v,
    'apis',
    html`${notice(opts.done)}${alert(opts.error)}
<p>An API is a service whose tokens Warden issues: its identifier becomes the tokens' <code>aud</code>, its scopes are what roles and clients are granted.
A client asks for one with <code>resource=&lt;identifier&gt;</code>.</p>
<div class="table"><table>
<caption>Registered APIs</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Identifier (aud)</th><th scope="col">Scopes</th><th scope="col">Token lifetime</th><th scope="col">Refresh tokens</th></tr></thead>
<tbody>
${apis.map(
  (a) => html`<tr>
<th scope="row"><a href="${BASE}/apis/${a.id}">${a.name}</a>${a.builtIn ? ' (built in)' : ''}</th>
<td><code>${a.identifier}</code></td><td>${a.scopes.map((s) => s.name).join(' ')}</td><td>${ttl(a)}</td><td>${a.allowOfflineAccess ? 'allowed' : 'not allowed'}</td>
</tr>`,
)}
</tbody>
</table></div>
<h2>New API</h2>
<form method="post" action="${BASE}/apis">
${csrf(v)}
<p><label for="identifier">Identifier (an absolute URI such as https://orders.example, or a plain string)</label><br><input id="identifier" name="identifier" required maxlength="300"></p>
<p><label for="name">Name</label><br><input id="name" name="name" required maxlength="200"></p>
<p><label for="scopes">Scopes, one a line: the name, then a description</label><br><textarea id="scopes" name="scopes" rows="4" cols="60" placeholder="orders:read Read orders"></textarea></p>
<p><label for="ttl">Access-token lifetime in seconds (60–86400; empty for the server's default)</label><br><input id="ttl" name="access_token_ttl_seconds" inputmode="numeric" maxlength="5"></p>
<p><label><input type="checkbox" name="allow_offline_access" value="true" checked> Allow refresh tokens (offline_access)</label></p>
<p><button type="submit">Create API</button></p>
</form>`,
  );
}

export function apiPage(v: Viewer, a: Api, opts: { done?: string | undefined; error?: string | undefined }) {
  const base = `${BASE}/apis/${a.id}`;
  return consolePage(
    `API ${a.name}`,
    v,
    'apis',
    html`${notice(opts.done)}${alert(opts.error)}
<dl>
<dt>Identifier (aud)</dt><dd><code>${a.identifier}</code></dd>
<dt>Token lifetime</dt><dd>${ttl(a)}</dd>
<dt>Refresh tokens</dt><dd>${a.allowOfflineAccess ? 'allowed' : 'not allowed'}</dd>
</dl>
<h2>Scopes</h2>
<div class="table"><table>
<caption>Scopes of ${a.name}</caption>
<thead><tr><th scope="col">Scope</th><th scope="col">Description</th><th scope="col">Actions</th></tr></thead>
<tbody>
${a.scopes.length ? '' : html`<tr><td colspan="3">No scopes yet.</td></tr>`}
${a.scopes.map(
  (s) => html`<tr><th scope="row"><code>${s.name}</code></th><td>${s.description}</td>
<td>${s.builtIn ? 'built in' : confirmed(v, `${base}/scopes/remove?scope=${encodeURIComponent(s.name)}`, `Remove ${s.name}`, 'Yes, remove it: roles and clients lose it')}</td></tr>`,
)}
</tbody>
</table></div>
<form method="post" action="${base}/scopes">
${csrf(v)}
<p><label for="scope-name">New scope</label> <input id="scope-name" name="name" required maxlength="100">
<label for="scope-description">Description</label> <input id="scope-description" name="description" maxlength="300">
<button type="submit">Add scope</button></p>
</form>
<h2>Settings</h2>
<form method="post" action="${base}">
${csrf(v)}
<p><label for="name">Name</label><br><input id="name" name="name" required maxlength="200" value="${a.name}"></p>
${a.builtIn
  ? ''
  : html`<p><label for="ttl">Access-token lifetime in seconds (60–86400; empty for the server's default)</label><br><input id="ttl" name="access_token_ttl_seconds" inputmode="numeric" maxlength="5" value="${a.accessTokenTtlSeconds ?? ''}"></p>`}
<p><label><input type="checkbox" name="allow_offline_access" value="true"${a.allowOfflineAccess ? html` checked` : ''}> Allow refresh tokens (offline_access)</label></p>
<p><button type="submit">Save</button></p>
</form>
${a.builtIn ? '' : html`<h2>Delete</h2>${confirmed(v, `${base}/delete`, `Delete ${a.name}`, 'Yes, delete it: its scopes, and every role permission and client grant on them, go too')}`}`,
  );
}

const permissionLabel = (apis: readonly Api[], p: { apiId: string; scope: string }) => {
  const api = apis.find((a) => a.id === p.apiId);
  return `${api?.identifier ?? p.apiId} ${p.scope}`;
};

export function rolesPage(v: Viewer, roles: readonly RoleRecord[], apis: readonly Api[], opts: { done?: string | undefined; error?: string | undefined }) {
  return consolePage(
    'Roles',
    v,
    'roles',
    html`${notice(opts.done)}${alert(opts.error)}
<p>A role gives its holders scopes of APIs (permissions). A user's token for an API carries what was asked for, what the client may ask for there, and what the user's roles give.
Assign roles on a user's page.</p>
<div class="table"><table>
<caption>Roles</caption>
<thead><tr><th scope="col">Role</th><th scope="col">Description</th><th scope="col">Permissions</th></tr></thead>
<tbody>
${roles.map(
  (r) => html`<tr><th scope="row"><a href="${BASE}/roles/${encodeURIComponent(r.name)}">${r.name}</a>${r.builtIn ? ' (built in)' : ''}</th><td>${r.description}</td>
<td>${r.permissions.map((p) => html`<div><code>${permissionLabel(apis, p)}</code></div>`)}</td></tr>`,
)}
</tbody>
</table></div>
<h2>New role</h2>
<form method="post" action="${BASE}/roles">
${csrf(v)}
<p><label for="role-name">Name (letters, digits, _ . : -)</label><br><input id="role-name" name="name" required maxlength="64"></p>
<p><label for="role-description">Description</label><br><input id="role-description" name="description" maxlength="300"></p>
<p><button type="submit">Create role</button></p>
</form>`,
  );
}

/** Checkboxes for every scope of every API: `perm` values are `<api id> <scope>`. */
const scopeChoices = (apis: readonly Api[], has: (apiId: string, scope: string) => boolean, name: string) =>
  apis.map(
    (a) => html`<fieldset><legend>${a.name} <code>${a.identifier}</code></legend>
${a.scopes.length ? '' : html`<p>This API has no scopes.</p>`}
${a.scopes.map((s) => html`<label><input type="checkbox" name="${name}" value="${a.id} ${s.name}"${has(a.id, s.name) ? html` checked` : ''}> <code>${s.name}</code>${s.description ? html` — ${s.description}` : ''}</label><br>`)}
</fieldset>`,
  );

export function rolePage(v: Viewer, r: RoleRecord, apis: readonly Api[], holders: number, opts: { done?: string | undefined; error?: string | undefined }) {
  const base = `${BASE}/roles/${encodeURIComponent(r.name)}`;
  return consolePage(
    `Role ${r.name}`,
    v,
    'roles',
    html`${notice(opts.done)}${alert(opts.error)}
<p>${holders} user(s) hold this role. Changes apply to their next token, and to Warden's own API within the user cache interval.</p>
<form method="post" action="${base}">
${csrf(v)}
<p><label for="role-description">Description</label><br><input id="role-description" name="description" maxlength="300" value="${r.description}"></p>
<h2>Permissions</h2>
${scopeChoices(apis, (apiId, scope) => r.permissions.some((p) => p.apiId === apiId && p.scope === scope), 'perm')}
<p><button type="submit">Save role</button></p>
</form>
${r.builtIn
  ? ''
  : html`<h2>Delete</h2>${confirmed(v, `${base}/delete`, `Delete ${r.name}`, holders ? `Yes, delete it and take it from the ${holders} user(s) who hold it` : 'Yes, delete this role')}`}`,
  );
}

export interface ClientGrantView {
  client_id: string;
  client_name: string;
  resources: Readonly<Record<string, readonly string[]>>;
}

export function clientResourcesPage(v: Viewer, c: ClientGrantView, apis: readonly Api[], opts: { done?: string | undefined; error?: string | undefined }) {
  const others = apis.filter((a) => !a.builtIn);
  return consolePage(
    `APIs for ${c.client_name}`,
    v,
    'clients',
    html`${notice(opts.done)}${alert(opts.error)}
<p>What <code>${c.client_id}</code> may ask for at each API with <code>resource=</code> (also with client_credentials). Warden's own API follows the client's registered scope.</p>
${others.length
  ? html`<form method="post" action="${BASE}/clients/${c.client_id}/resources">
${csrf(v)}
${scopeChoices(others, (apiId, scope) => {
  const a = others.find((x) => x.id === apiId)!;
  return (c.resources[a.identifier] ?? []).includes(scope);
}, 'grant')}
<p><button type="submit">Save grants</button></p>
</form>`
  : html`<p>No API is registered besides Warden's own: <a href="${BASE}/apis">register one</a>.</p>`}
<p><a href="${BASE}/clients">Back to the clients</a></p>`,
  );
}
