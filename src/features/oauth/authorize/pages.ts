import { html, type SafeHtml } from '../../../kernel/html/html.js';
import { alert, notice, page } from '../../../kernel/html/layout.js';
import { scriptTags } from '../../passkeys/script.js';
import { SCOPES } from '../scopes.js';
import type { Api } from '../../apis/repository.js';
import type { AuthorizationRequest } from './session.js';

function shell(title: string, body: SafeHtml, scripts?: readonly string[]): string {
  return page({ title, body, ...(scripts ? { scripts } : {}) });
}

const hidden = (ix: string, csrf: string, action: string) =>
  html`<input type="hidden" name="interaction" value="${ix}"><input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="action" value="${action}">`;

/**
 * The same authorization request as a URL: where "create an account" comes back to. Every value was
 * checked when the request came in; a new interaction is made when it is opened again.
 */
export function authorizeUrl(req: AuthorizationRequest): string {
  const q = new URLSearchParams({ response_type: 'code', client_id: req.clientId, redirect_uri: req.redirectUri, scope: req.scopes.join(' ') });
  if (req.state !== undefined) q.set('state', req.state);
  if (req.nonce !== undefined) q.set('nonce', req.nonce);
  if (req.resource !== undefined) q.set('resource', req.resource);
  q.set('code_challenge', req.codeChallenge);
  q.set('code_challenge_method', 'S256');
  const prompt = req.prompt.filter((p) => p !== 'none');
  if (prompt.length) q.set('prompt', prompt.join(' '));
  return `/authorize?${q.toString()}`;
}

/**
 * Where a redirect URI leads, as a person can judge it: the origin of an http(s) URI, the scheme of an
 * app's private-use one (RFC 8252 §7.1).
 */
export function destination(redirectUri: string): string {
  const u = new URL(redirectUri);
  return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : `the app that opens ${u.protocol}`;
}

export interface LoginPageOptions {
  ix: string;
  csrf: string;
  clientName: string;
  error?: string | undefined;
  notice?: string | undefined;
  login?: string | undefined;
  /** The authorization request again, for "create an account" to return to; absent: no such link. */
  registerReturn?: string | undefined;
  /** Upstream identity providers: a "Sign in with …" link each (docs/federation.md). */
  providers?: Array<{ id: string; name: string }> | undefined;
}

/** /register, coming back to this request afterwards when it fits the return_to limit (src/features/users/register-page.ts). */
const registerLink = (back: string) => (back.length <= 4000 ? `/register?${new URLSearchParams({ return_to: back }).toString()}` : '/register');

export function loginPage(o: LoginPageOptions): string {
  return shell(
    'Sign in',
    html`<p>to continue to <strong>${o.clientName}</strong></p>
${notice(o.notice)}${alert(o.error)}
<form method="post" action="/authorize">
${hidden(o.ix, o.csrf, 'login')}
<p><label for="username">Username or e-mail</label><input id="username" name="username" autocomplete="username" required value="${o.login ?? ''}"></p>
<p><label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required></p>
<p><button type="submit">Sign in</button></p>
</form>
<form method="post" action="/passkeys/verify" id="passkey-form" hidden>
<input type="hidden" name="interaction" value="${o.ix}"><input type="hidden" name="csrf" value="${o.csrf}"><input type="hidden" name="response" value="">
<p><button type="button" id="passkey-signin" class="secondary">Sign in with a passkey</button></p>
<p id="passkey-status" aria-live="polite"></p>
</form>
${o.providers?.length ? html`<ul class="federation">${o.providers.map((p) => html`<li><a class="button secondary" href="/federation/${p.id}/start?interaction=${o.ix}">Sign in with ${p.name}</a></li>`)}</ul>` : ''}
<p class="below"><a href="/password/forgot">Forgot your password?</a>${o.registerReturn ? html`<a href="${registerLink(o.registerReturn)}">Create an account</a>` : ''}</p>`,
    scriptTags(),
  );
}

/** `passkey`: the account holds a passkey, offered instead of the code (docs/passkeys.md). */
export function mfaPage(o: { ix: string; csrf: string; error?: string; passkey?: boolean }): string {
  return shell(
    'Two-step verification',
    html`<p>Enter the 6-digit code from your authenticator app, or one of your recovery codes.</p>
${alert(o.error)}
<form method="post" action="/authorize">
${hidden(o.ix, o.csrf, 'mfa')}
<p><label for="code">Code</label><input id="code" name="code" autocomplete="one-time-code" inputmode="text" required></p>
<p><button type="submit">Verify</button></p>
</form>
${o.passkey ? html`<form method="post" action="/passkeys/second-factor" id="passkey-mfa-form" hidden>
<input type="hidden" name="interaction" value="${o.ix}"><input type="hidden" name="csrf" value="${o.csrf}"><input type="hidden" name="response" value="">
<p><button type="button" id="passkey-mfa" class="secondary">Use a passkey instead</button></p>
<p id="passkey-mfa-status" aria-live="polite"></p>
</form>` : ''}`,
    o.passkey ? scriptTags() : undefined,
  );
}

export function consentPage(o: { ix: string; csrf: string; clientName: string; username: string; scopes: string[]; api?: Api; redirectUri: string }): string {
  // The API's own descriptions (data), OIDC's from the fixed map.
  const describe = (s: string) => o.api?.scopes.find((x) => x.name === s)?.description || SCOPES[s as keyof typeof SCOPES] || s;
  return shell(
    'Allow access?',
    html`<p><strong>${o.clientName}</strong> asks to act for <strong>${o.username}</strong>${o.api && !o.api.builtIn ? html` at <strong>${o.api.name}</strong> (<code>${o.api.identifier}</code>)` : ''}:</p>
<ul class="scopes">${o.scopes.map((s) => html`<li><code>${s}</code> — ${describe(s)}</li>`)}</ul>
<p>Either way you will be sent to <strong class="destination">${destination(o.redirectUri)}</strong>.</p>
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
