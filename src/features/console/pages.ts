import type { SessionOut } from '../sessions/self-service.js';
import type { PasskeyOut } from '../passkeys/service.js';
import { scriptTags } from '../passkeys/script.js';
import { html, type SafeHtml } from '../../kernel/html/html.js';
import { alert, confirmForm, notice, page } from '../../kernel/html/layout.js';
import type { AuditRow } from '../audit/repository.js';
import type { UserRecord } from '../users/repository.js';

export { alert, notice };

export const BASE = '/admin/console';

export interface Viewer {
  user: UserRecord;
  csrfToken: string;
}

const NAV = [
  ['users', 'Users'],
  ['clients', 'Clients'],
  ['apis', 'APIs'],
  ['roles', 'Roles'],
  ['identity-providers', 'Sign-in providers'],
  ['keys', 'Signing keys'],
  ['audit', 'Audit log'],
] as const;

export type Section = (typeof NAV)[number][0];

/** A page of the signed-in console: the shared layout with the console's navigation, who is signed in, sign-out form. */
export function consolePage(title: string, viewer: Viewer, current: Section, body: SafeHtml): string {
  const who = viewer.user.fullName ? html`${viewer.user.username} (${viewer.user.fullName})` : html`${viewer.user.username}`;
  return page({
    title,
    documentTitle: `${title} · Warden admin`,
    brand: 'Warden admin',
    home: `${BASE}/users`,
    width: 'wide',
    nav: html`<nav aria-label="Console">
<ul>
${NAV.map(([id, label]) => html`<li><a href="${BASE}/${id}"${id === current ? html` aria-current="page"` : ''}>${label}</a></li>`)}
</ul>
</nav>
<form method="post" action="${BASE}/logout" class="signout">
${csrf(viewer)}
<p>Signed in as ${who} <button type="submit" class="secondary">Sign out</button></p>
</form>`,
    body,
  });
}

/** The pages before sign-in (and refusals). */
export function publicPage(title: string, body: SafeHtml, scripts?: readonly string[]): string {
  return page({ title, documentTitle: `${title} · Warden admin`, brand: 'Warden admin', home: `${BASE}/users`, body, ...(scripts ? { scripts } : {}) });
}

/** A destructive console action: the shared confirmation pattern (the handler checks `confirm=yes` too). */
export const confirmed = (v: Viewer, action: string, button: string, consequence: string) => confirmForm({ action, hidden: csrf(v), button, consequence });

export const csrf = (v: { csrfToken: string }) => html`<input type="hidden" name="_csrf" value="${v.csrfToken}">`;


export function loginForm(csrfToken: string, error?: string, login?: string) {
  return publicPage(
    'Sign in',
    html`${alert(error)}
<form method="post" action="${BASE}/login">
<input type="hidden" name="_csrf" value="${csrfToken}">
<p><label for="login">Username or e-mail</label><br>
<input id="login" name="login" autocomplete="username" required value="${login ?? ''}"></p>
<p><label for="password">Password</label><br>
<input id="password" name="password" type="password" autocomplete="current-password" required></p>
<p><button type="submit">Sign in</button></p>
</form>
<form method="post" action="${BASE}/login/passkey" id="passkey-form" hidden>
<input type="hidden" name="_csrf" value="${csrfToken}"><input type="hidden" name="response" value="">
<p><button type="button" id="passkey-signin" class="secondary">Sign in with a passkey</button></p>
<p id="passkey-status" aria-live="polite"></p>
</form>
<p class="below"><a href="/password/forgot">Forgot your password?</a><a href="/">Home</a></p>`,
    scriptTags(),
  );
}

export function mfaForm(csrfToken: string, error?: string) {
  return publicPage(
    'Second factor',
    html`${alert(error)}
<form method="post" action="${BASE}/login/mfa">
<input type="hidden" name="_csrf" value="${csrfToken}">
<p><label for="code">Code from your authenticator app, or a recovery code</label><br>
<input id="code" name="code" autocomplete="one-time-code" inputmode="numeric" required></p>
<p><button type="submit">Continue</button></p>
</form>`,
  );
}

export function refusedPage(reason: string) {
  return publicPage('Request refused', html`<p class="error" role="alert">${reason}</p><p><a href="${BASE}/users">Back to the console</a></p>`);
}

const date = (d: Date) => html`<time datetime="${d.toISOString()}">${d.toISOString().replace('T', ' ').slice(0, 19)} UTC</time>`;

export function usersPage(v: Viewer, q: string | undefined, users: UserRecord[], next: string | null, done?: string) {
  return consolePage(
    'Users',
    v,
    'users',
    html`${notice(done)}
<form method="get" action="${BASE}/users" role="search">
<p><label for="q">Search username or e-mail</label>
<input id="q" name="q" type="search" value="${q ?? ''}"> <button type="submit">Search</button></p>
</form>
<div class="table"><table>
<caption>${q ? html`Users matching “${q}”` : 'All users, newest first'}</caption>
<thead><tr><th scope="col">Username</th><th scope="col">E-mail</th><th scope="col">Full name</th><th scope="col">Roles</th><th scope="col">Status</th><th scope="col">Created</th></tr></thead>
<tbody>
${users.length ? '' : html`<tr><td colspan="6">No users found.</td></tr>`}
${users.map(
  (u) => html`<tr>
<th scope="row"><a href="${BASE}/users/${u.id}">${u.username}</a></th>
<td>${u.email}</td><td>${u.fullName ?? ''}</td><td>${u.roles.join(', ')}</td>
<td>${u.disabled ? 'disabled' : 'active'}</td><td>${date(u.createdAt)}</td>
</tr>`,
)}
</tbody>
</table></div>
${next ? html`<p><a rel="next" href="${BASE}/users?${new URLSearchParams({ ...(q ? { q } : {}), cursor: next }).toString()}">Next page</a></p>` : ''}`,
  );
}

export function userPage(
  v: Viewer,
  u: UserRecord,
  opts: {
    locked: boolean | undefined;
    mfa: boolean | undefined;
    events: AuditRow[];
    names?: ReadonlyMap<string, string>;
    done?: string;
    error?: string;
    roles: readonly string[];
    /** The user's live sessions, each with an end button (src/features/sessions/self-service.ts). */
    sessions?: readonly SessionOut[];
    /** The user's passkeys, each with a remove button (docs/passkeys.md). */
    passkeys?: readonly PasskeyOut[];
  },
) {
  const action = (path: string, label: string, extra: SafeHtml | string = '') =>
    html`<form method="post" action="${BASE}/users/${u.id}/${path}" class="inline">${csrf(v)}${extra}<button type="submit">${label}</button></form>`;
  return consolePage(
    `User ${u.username}`,
    v,
    'users',
    html`${notice(opts.done)}${alert(opts.error)}
<dl>
<dt>Id</dt><dd><code>${u.id}</code></dd>
<dt>Username</dt><dd>${u.username}</dd>
<dt>E-mail</dt><dd>${u.email} ${u.emailVerified ? '(verified)' : '(not verified)'}</dd>
<dt>Full name</dt><dd>${u.fullName ?? '—'}</dd>
<dt>Roles</dt><dd>${u.roles.join(', ')}</dd>
<dt>Status</dt><dd>${u.disabled ? 'disabled' : 'active'}${opts.locked ? ', locked out after failed logins' : ''}</dd>
<dt>Second factor</dt><dd>${opts.mfa === undefined ? 'unknown' : opts.mfa ? 'TOTP enrolled' : 'none'}</dd>
<dt>Created</dt><dd>${date(u.createdAt)}</dd>
</dl>
<h2>Roles</h2>
<form method="post" action="${BASE}/users/${u.id}/roles">
${csrf(v)}
<fieldset><legend>Roles of ${u.username}</legend>
${opts.roles.map((r) => html`<label><input type="checkbox" name="roles" value="${r}"${u.roles.includes(r) ? html` checked` : ''}> ${r}</label> `)}
</fieldset>
<p><button type="submit">Save roles</button></p>
</form>
<h2>Account</h2>
<div class="actions">
${u.disabled ? action('enable', 'Enable account') : confirmed(v, `${BASE}/users/${u.id}/disable`, 'Disable account', `Yes, disable ${u.username}: every session ends, sign-ins are refused`)}
${confirmed(v, `${BASE}/users/${u.id}/logout`, 'Force logout (end every session)', `Yes, sign ${u.username} out everywhere`)}
${opts.locked === undefined ? '' : action('unlock', opts.locked ? 'Unlock (clear failed logins)' : 'Clear failed-login counters')}
</div>
${opts.sessions ? sessionsTable(v, u, opts.sessions) : ''}
${opts.passkeys ? passkeysTable(v, u, opts.passkeys) : ''}
<h2>Recent events about ${u.username}</h2>
${auditTable(opts.events, `Latest security events with ${u.username} as subject`, opts.names)}
<p><a href="${BASE}/audit?subject=${u.id}">All events about this user</a></p>`,
  );
}

/** A user's passkeys on their console page: one row each, with a button that removes that one. */
function passkeysTable(v: Viewer, u: UserRecord, keys: readonly PasskeyOut[]) {
  return html`<h2 id="passkeys">Passkeys</h2>
<table>
<caption>Passkeys of ${u.username} (${keys.length})</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Added</th><th scope="col">Last used</th><th scope="col">Synced</th><th scope="col">Action</th></tr></thead>
<tbody>
${keys.length ? '' : html`<tr><td colspan="5">No passkeys.</td></tr>`}
${keys.map(
  (p) => html`<tr>
<td>${p.name}</td><td>${date(new Date(p.created_at))}</td><td>${p.last_used_at ? date(new Date(p.last_used_at)) : 'never'}</td><td>${p.backed_up ? 'yes' : 'no'}</td>
<td><form method="post" action="${BASE}/users/${u.id}/passkeys/${p.id}/remove" class="inline">${csrf(v)}<button type="submit" aria-label="Remove passkey ${p.name}">Remove</button></form></td>
</tr>`,
)}
</tbody>
</table>`;
}

/** A user's live sessions on their console page: one row each, with a button that ends that one. */
function sessionsTable(v: Viewer, u: UserRecord, sessions: readonly SessionOut[]) {
  return html`<h2 id="sessions">Sessions</h2>
<table>
<caption>Live sessions of ${u.username} (${sessions.length})</caption>
<thead><tr><th scope="col">Started</th><th scope="col">Last used</th><th scope="col">Sign-in</th><th scope="col">IP</th><th scope="col">User agent</th><th scope="col">Applications</th><th scope="col">Session</th><th scope="col">Action</th></tr></thead>
<tbody>
${sessions.length ? '' : html`<tr><td colspan="8">No live sessions.</td></tr>`}
${sessions.map(
  (s) => html`<tr>
<td>${date(new Date(s.created_at))}</td><td>${date(new Date(s.last_used_at))}</td><td>${s.amr.join(' + ')}</td><td>${s.ip ?? ''}</td><td>${s.user_agent ?? ''}</td>
<td>${s.clients.length ? s.clients.map((c) => c.client_name ?? c.client_id).join(', ') : 'password sign-in'}</td><td><code>${s.sid}</code></td>
<td><form method="post" action="${BASE}/users/${u.id}/sessions/${s.sid}/end" class="inline">${csrf(v)}<button type="submit" aria-label="End session ${s.sid}">End</button></form></td>
</tr>`,
)}
</tbody>
</table>`;
}

/** An id with what it names (a username, a client's name) above it, when known. */
const named = (id: string | null, names: ReadonlyMap<string, string>) =>
  id ? (names.has(id) ? html`${names.get(id)}<span class="who"><code>${id}</code></span>` : html`<code>${id}</code>`) : '';

export function auditTable(events: AuditRow[], caption: string, names: ReadonlyMap<string, string> = new Map()) {
  return html`<div class="table"><table>
<caption>${caption}</caption>
<thead><tr><th scope="col">Time</th><th scope="col">Event</th><th scope="col">Actor</th><th scope="col">Subject</th><th scope="col">IP</th><th scope="col">Request</th><th scope="col">Details</th></tr></thead>
<tbody>
${events.length ? '' : html`<tr><td colspan="7">No events.</td></tr>`}
${events.map(
  (e) => html`<tr${e.flagged ? html` class="flagged"` : ''}>
<td>${date(e.at)}</td>
<th scope="row">${e.type}${e.flagged ? html` <strong>(flagged)</strong>` : ''}</th>
<td>${named(e.actorId, names)}</td><td>${named(e.subjectId, names)}</td><td>${e.ip ?? ''}</td><td>${e.requestId ?? ''}</td>
<td><code>${JSON.stringify(e.details ?? {})}</code></td>
</tr>`,
)}
</tbody>
</table></div>`;
}

export interface AuditFilters {
  type?: string | undefined;
  actor?: string | undefined;
  subject?: string | undefined;
  ip?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  flagged?: boolean | undefined;
}

export function auditPage(v: Viewer, f: AuditFilters, events: AuditRow[], next: string | null, error?: string, names?: ReadonlyMap<string, string>) {
  const field = (name: keyof AuditFilters, label: string, type = 'text', hint = '') =>
    html`<p><label for="f-${name}">${label}</label>${hint ? html` <small>${hint}</small>` : ''}<br><input id="f-${name}" name="${name}" type="${type}" value="${(f[name] as string | undefined) ?? ''}"></p>`;
  const query = new URLSearchParams();
  for (const [k, val] of Object.entries(f)) if (val !== undefined && val !== '' && val !== false) query.set(k, String(val));
  return consolePage(
    'Audit log',
    v,
    'audit',
    html`${alert(error)}
<form method="get" action="${BASE}/audit" class="filters">
<fieldset><legend>Filters</legend>
${field('type', 'Event type', 'text', 'exact, or a prefix like login.*')}
${field('actor', 'Actor id')}
${field('subject', 'Subject id')}
${field('ip', 'IP address')}
${field('from', 'From (UTC)', 'datetime-local')}
${field('to', 'To (UTC)', 'datetime-local')}
<p><label><input type="checkbox" name="flagged" value="true"${f.flagged ? html` checked` : ''}> Flagged only</label></p>
<p><button type="submit">Apply filters</button> <a href="${BASE}/audit">Clear</a></p>
</fieldset>
</form>
${auditTable(events, 'Security events, newest first', names)}
${next ? html`<p><a rel="next" href="${BASE}/audit?${(query.set('cursor', next), query.toString())}">Older events</a></p>` : ''}`,
  );
}

export interface ClientView {
  client_id: string;
  client_name: string;
  client_type: string;
  grant_types: string[];
  redirect_uris: string[];
  scope: string;
  first_party: boolean;
  token_endpoint_auth_method: string;
}

export function clientsPage(v: Viewer, clients: ClientView[] | undefined, opts: { done?: string; error?: string; secret?: { client: ClientView; secret: string } }) {
  if (!clients) return consolePage('Clients', v, 'clients', html`<p>OAuth clients are not available on this server.</p>`);
  const s = opts.secret;
  return consolePage(
    'Clients',
    v,
    'clients',
    html`${notice(opts.done)}${alert(opts.error)}
${s
  ? html`<section class="secret" aria-labelledby="secret-h">
<h2 id="secret-h">Secret of ${s.client.client_name}</h2>
<p>Copy it now: it is shown this once and stored only as a hash.</p>
<dl><dt>client_id</dt><dd><code>${s.client.client_id}</code></dd><dt>client_secret</dt><dd><code id="client-secret">${s.secret}</code></dd></dl>
</section>`
  : ''}
<div class="table"><table>
<caption>Registered OAuth clients</caption>
<thead><tr><th scope="col">Name</th><th scope="col">client_id</th><th scope="col">Type</th><th scope="col">Grants</th><th scope="col">Redirect URIs</th><th scope="col">Actions</th></tr></thead>
<tbody>
${clients.length ? '' : html`<tr><td colspan="6">No clients yet.</td></tr>`}
${clients.map(
  (c) => html`<tr>
<th scope="row">${c.client_name}${c.first_party ? ' (first party)' : ''}</th>
<td><code>${c.client_id}</code> <a href="${BASE}/clients/${c.client_id}/resources">APIs</a></td><td>${c.client_type}</td><td>${c.grant_types.join(', ')}</td>
<td>${c.redirect_uris.map((u) => html`<div>${u}</div>`)}</td>
<td>
${c.client_type === 'confidential' ? confirmed(v, `${BASE}/clients/${c.client_id}/rotate`, 'Rotate secret', 'The old secret stops working at once') : ''}
${confirmed(v, `${BASE}/clients/${c.client_id}/delete`, `Delete ${c.client_name}`, 'Its tokens and sign-ins stop working')}
</td>
</tr>`,
)}
</tbody>
</table></div>
<h2>New client</h2>
<form method="post" action="${BASE}/clients">
${csrf(v)}
<p><label for="client_name">Name</label><br><input id="client_name" name="client_name" required maxlength="200"></p>
<p><label for="redirect_uris">Redirect URIs (one a line)</label><br><textarea id="redirect_uris" name="redirect_uris" rows="3" cols="60"></textarea></p>
<fieldset><legend>Grant types</legend>
${['authorization_code', 'refresh_token', 'client_credentials', 'password'].map(
  (g) => html`<label><input type="checkbox" name="grant_types" value="${g}"${g === 'authorization_code' ? html` checked` : ''}> ${g}</label> `,
)}
</fieldset>
<p><label for="auth_method">Client authentication</label><br>
<select id="auth_method" name="token_endpoint_auth_method">
<option value="client_secret_basic">client_secret_basic (confidential)</option>
<option value="client_secret_post">client_secret_post (confidential)</option>
<option value="none">none (public client, PKCE)</option>
</select></p>
<p><label for="scope">Scopes (space separated; empty for the default)</label><br><input id="scope" name="scope" maxlength="1000"></p>
<p><label><input type="checkbox" name="first_party" value="true"> First party (may use the password grant, skips consent)</label></p>
<p><label for="post_logout_redirect_uris">Post-logout redirect URIs (one a line; where /logout may return)</label><br><textarea id="post_logout_redirect_uris" name="post_logout_redirect_uris" rows="2" cols="60"></textarea></p>
<p><label for="backchannel_logout_uri">Back-channel logout URI (http or https; receives a logout_token when a session ends)</label><br><input id="backchannel_logout_uri" name="backchannel_logout_uri" maxlength="2000" size="60"></p>
<p><button type="submit">Create client</button></p>
</form>`,
  );
}

export interface KeyView {
  kid: string;
  alg: string;
  state: string;
  created_at: string;
}

export function keysPage(v: Viewer, keys: KeyView[], opts: { done?: string; error?: string; hs256: boolean }) {
  return consolePage(
    'Signing keys',
    v,
    'keys',
    html`${notice(opts.done)}${alert(opts.error)}
${opts.hs256 ? html`<p>Access tokens are signed with the shared HS256 secret (SECRET_KEY); the keys below sign id_tokens only.</p>` : ''}
<div class="table"><table>
<caption>Keys in the JWKS, newest first</caption>
<thead><tr><th scope="col">kid</th><th scope="col">Algorithm</th><th scope="col">State</th><th scope="col">Created</th></tr></thead>
<tbody>
${keys.length ? '' : html`<tr><td colspan="4">No keys.</td></tr>`}
${keys.map((k) => html`<tr><th scope="row"><code>${k.kid}</code></th><td>${k.alg}</td><td>${k.state}</td><td>${k.created_at}</td></tr>`)}
</tbody>
</table></div>
${opts.hs256
  ? ''
  : html`<p>New tokens use the new key; old keys keep verifying until their tokens expire.</p>
${confirmed(v, `${BASE}/keys/rotate`, 'Rotate now', 'Sign new tokens with a new key')}`}`,
  );
}
