import { html, page, type SafeHtml } from '../../http/html.js';
import { SCOPES } from '../scopes.js';
import type { Api } from '../../apis/repository.js';

export const STYLESHEET = '/oauth/style.css';

/** Small, static, served from our origin: the CSP allows style-src 'self' and nothing inline. */
export const STYLE_CSS = `body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#1d2733;line-height:1.5}
h1{font-size:1.4rem}form{display:grid;gap:.75rem}label{display:grid;gap:.25rem;font-weight:600}
input{font:inherit;padding:.5rem;border:1px solid #9aa6b2;border-radius:4px}
button{font:inherit;padding:.55rem 1rem;border-radius:4px;border:1px solid #1f5fbf;background:#1f5fbf;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#1f5fbf}.error{color:#a4161a;font-weight:600}.actions{display:flex;gap:.5rem}
ul.scopes{padding-left:1.2rem}code{background:#eef1f4;padding:0 .25rem}
`;

function shell(title: string, body: SafeHtml): string {
  return page(title, html`<main><h1>${title}</h1>${body}</main>`, { stylesheet: STYLESHEET });
}

const hidden = (ix: string, csrf: string, action: string) =>
  html`<input type="hidden" name="interaction" value="${ix}"><input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="action" value="${action}">`;

export function loginPage(o: { ix: string; csrf: string; clientName: string; error?: string; login?: string }): string {
  return shell(
    'Sign in',
    html`<p>to continue to <strong>${o.clientName}</strong></p>
${o.error ? html`<p class="error" role="alert">${o.error}</p>` : ''}
<form method="post" action="/authorize">
${hidden(o.ix, o.csrf, 'login')}
<label>Username or e-mail <input name="username" autocomplete="username" required value="${o.login ?? ''}"></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form>`,
  );
}

export function mfaPage(o: { ix: string; csrf: string; error?: string }): string {
  return shell(
    'Two-step verification',
    html`<p>Enter the 6-digit code from your authenticator app, or one of your recovery codes.</p>
${o.error ? html`<p class="error" role="alert">${o.error}</p>` : ''}
<form method="post" action="/authorize">
${hidden(o.ix, o.csrf, 'mfa')}
<label>Code <input name="code" autocomplete="one-time-code" inputmode="text" required></label>
<button type="submit">Verify</button>
</form>`,
  );
}

export function consentPage(o: { ix: string; csrf: string; clientName: string; username: string; scopes: string[]; api?: Api }): string {
  // The API's own descriptions (data), OIDC's from the fixed map.
  const describe = (s: string) => o.api?.scopes.find((x) => x.name === s)?.description || SCOPES[s as keyof typeof SCOPES] || s;
  return shell(
    'Allow access?',
    html`<p><strong>${o.clientName}</strong> asks to act for <strong>${o.username}</strong>${o.api && !o.api.builtIn ? html` at <strong>${o.api.name}</strong> (<code>${o.api.identifier}</code>)` : ''}:</p>
<ul class="scopes">${o.scopes.map((s) => html`<li><code>${s}</code> — ${describe(s)}</li>`)}</ul>
<form method="post" action="/authorize">
${hidden(o.ix, o.csrf, 'consent')}
<div class="actions"><button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button></div>
</form>`,
  );
}

/** For what must never go back to a redirect URI (unknown client, unregistered redirect_uri, expired form). */
export function errorPage(title: string, message: string): string {
  return shell(title, html`<p class="error" role="alert">${message}</p><p>Return to the application and start again.</p>`);
}

/** OIDC RP-Initiated Logout §2: the End-User confirms that they want to sign out (a form of our own, CSRF-bound). */
export function logoutConfirmPage(o: { ix: string; csrf: string; clientName?: string | undefined; username?: string | undefined }): string {
  return shell(
    'Sign out?',
    html`<p>${o.clientName ? html`<strong>${o.clientName}</strong> asks to sign you out` : 'Do you want to sign out'}${o.username ? html` of <strong>${o.username}</strong>` : ''}.</p>
<form method="post" action="/logout">
${hidden(o.ix, o.csrf, 'logout')}
<div class="actions"><button type="submit" name="decision" value="logout">Sign out</button>
<button type="submit" name="decision" value="stay" class="secondary">Stay signed in</button></div>
</form>`,
  );
}

/** After /logout when the client gave no (registered) place to return to. */
export function signedOutPage(stillSignedIn = false): string {
  return stillSignedIn
    ? shell('Still signed in', html`<p>You are still signed in. You may close this window.</p>`)
    : shell('Signed out', html`<p>You are signed out. You may close this window.</p>`);
}
