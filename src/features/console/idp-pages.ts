import type { IdentityProvider } from '../federation/providers.js';
import { html } from '../../kernel/html/html.js';
import { alert, BASE, confirmed, consolePage, csrf, notice, type Viewer } from './pages.js';

/**
 * /admin/console/identity-providers: the upstream sign-in providers (docs/federation.md). The client
 * secret is asked for when a provider is added and never shown again, as in the admin API.
 */
export function identityProvidersPage(v: Viewer, providers: readonly IdentityProvider[], opts: { done?: string | undefined; error?: string | undefined; callbackBase: string }) {
  return consolePage(
    'Sign-in providers',
    v,
    'identity-providers',
    html`${notice(opts.done)}${alert(opts.error)}
<p>Users may sign in with an account they hold at one of these providers ("Sign in with …" on the sign-in page).
An existing Warden account is linked only by a verified e-mail address and that account's own password.
Register <code>${opts.callbackBase}/federation/&lt;id&gt;/callback</code> as the redirect URI at the provider.</p>
<div class="table"><table>
<caption>Providers</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Issuer</th><th scope="col">Client id</th><th scope="col">Scopes</th><th scope="col">Redirect URI to register</th><th scope="col">Remove</th></tr></thead>
<tbody>
${providers.map(
  (p) => html`<tr>
<th scope="row">${p.name}</th><td>${p.kind === 'github' ? 'GitHub' : 'OpenID Connect'}</td><td><code>${p.issuer ?? ''}</code></td><td><code>${p.clientId}</code></td><td>${p.scopes}</td>
<td><code>${opts.callbackBase}/federation/${p.id}/callback</code></td>
<td>${confirmed(v, `${BASE}/identity-providers/${p.id}/delete`, 'Delete', `Delete ${p.name}: its users can no longer sign in with it (their accounts and passwords stay)`)}</td>
</tr>`,
)}
</tbody>
</table></div>
${providers.length ? '' : html`<p>No provider yet.</p>`}
<h2>New provider</h2>
<form method="post" action="${BASE}/identity-providers">
${csrf(v)}
<p><label for="kind">Kind</label><br><select id="kind" name="kind"><option value="oidc">OpenID Connect (found by discovery from its issuer)</option><option value="github">GitHub (OAuth 2 preset)</option></select></p>
<p><label for="name">Name shown on the button ("Sign in with …")</label><br><input id="name" name="name" required maxlength="100"></p>
<p><label for="issuer">Issuer (OpenID Connect only), e.g. https://accounts.example.com</label><br><input id="issuer" name="issuer" type="url" maxlength="500"></p>
<p><label for="client_id">Client id at the provider</label><br><input id="client_id" name="client_id" required maxlength="500" autocomplete="off"></p>
<p><label for="client_secret">Client secret at the provider (stored encrypted; never shown again)</label><br><input id="client_secret" name="client_secret" type="password" required maxlength="2000" autocomplete="new-password"></p>
<p><label for="scopes">Scopes (empty for the default: openid email profile, or read:user user:email for GitHub)</label><br><input id="scopes" name="scopes" maxlength="500"></p>
<p><button type="submit">Add provider</button></p>
</form>`,
  );
}
