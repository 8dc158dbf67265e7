import { hashToken, sameSecret } from '../../kernel/secrets.js';
import cookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import { Type, type Static } from 'typebox';
import type { RequestContext } from '../audit/audit-log.js';
import { findAuditEvents, type AuditRow } from '../audit/repository.js';
import { requestContext } from '../audit/request-context.js';
import { html, SCRIPT_PAGE_CSP } from '../../kernel/html/html.js';
import { PasskeyError, PasskeyService, toPasskeyOut, type PasskeyOut } from '../passkeys/service.js';
import { scriptTags } from '../passkeys/script.js';
import { signInMethod } from '../oauth/authorize/routes.js';
import { alert, notice, page } from '../../kernel/html/layout.js';
import { ProblemError } from '../../kernel/errors.js';
import { asPage } from '../../platform/security-headers.js';
import { loginPage } from '../oauth/authorize/pages.js';
import { OWN_PAGES_CLIENT_ID } from '../oauth/authorize/routes.js';
import { BrowserCookies, liveSessionUser, type LoginSession } from '../oauth/authorize/session.js';
import { endOtherUserSessions, endUserSession, listSessions, type SessionOut } from '../sessions/self-service.js';
import type { UserRecord } from '../users/repository.js';
import { RECENT_SIGN_IN_MS } from '../users/service.js';
import type { Warden } from '../../kernel/warden.js';
import { sameOriginForm } from './pages.js';
import { identitiesSection, listIdentities, removeIdentity, type IdentityView } from '../federation/account-section.js';
import fp from 'fastify-plugin';
import { needsWarden, ROUTE_PIPELINE } from '../../platform/pipeline.js';

/**
 * The account page, GET /account (docs/account.md): a signed-in user's sessions (end one, end all
 * others), recent sign-ins, password change and TOTP. Server-rendered with the auto-escaping `html`
 * template, no script and no inline style (the strict page CSP), plain POST forms that work without
 * JavaScript, each carrying a CSRF token bound to the browser's CSRF cookie and to the session.
 *
 * Signing in is the /authorize sign-in itself: its session cookie, its login and second-factor pages
 * (an interaction whose `returnTo` is /account), like Keycloak's account console. Every action goes
 * through the same services as the API (src/features/sessions/self-service.ts, UsersService, MfaService).
 */

const PATH = '/account';
const ACCESS = { kind: 'cookie', reason: 'the account page: /authorize sign-in session cookie and a CSRF token bound to it, checked here' } as const;
const HIDDEN = { hide: true, tags: ['pages'] } as FastifySchema;

const Form = Type.Object(
  {
    csrf: Type.Optional(Type.String({ maxLength: 100 })),
    sid: Type.Optional(Type.String({ maxLength: 100 })),
    identity: Type.Optional(Type.String({ maxLength: 100 })),
    current_password: Type.Optional(Type.String({ maxLength: 1024 })),
    new_password: Type.Optional(Type.String({ maxLength: 1024 })),
    confirm_password: Type.Optional(Type.String({ maxLength: 1024 })),
    code: Type.Optional(Type.String({ maxLength: 100 })),
    password: Type.Optional(Type.String({ maxLength: 1024 })),
    name: Type.Optional(Type.String({ maxLength: 100 })),
    response: Type.Optional(Type.String({ maxLength: 16384 })),
    passkey: Type.Optional(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: Type.String({ maxLength: 4096 }) },
);
type Form = Static<typeof Form>;

/** Fixed messages for ?done=… after a redirect (never text taken from the URL). */
const DONE: Record<string, string> = {
  session_ended: 'The session was ended; its tokens stopped working.',
  others_ended: 'Every other session was ended.',
  password_changed: 'Your password was changed. Your other sessions were ended.',
  mfa_removed: 'Two-step verification was turned off.',
  passkey_added: 'The passkey was added. You can sign in with it now.',
  passkey_removed: 'The passkey was removed.',
  identity_removed: 'The link was removed: that account no longer signs you in here.',
};

/** What one section of the page shows after a failed post: a message and the failing fields. */
interface FormError {
  form: 'password' | 'mfa' | 'sessions' | 'passkeys';
  message: string;
  fields: Record<string, string>;
}

interface View {
  user: UserRecord;
  session: LoginSession;
  csrf: string;
  sessions: SessionOut[];
  signIns: AuditRow[];
  mfa: boolean;
  recoveryCodesLeft: number;
  passkeys: PasskeyOut[];
  /** The sign-in is recent enough to add a passkey without the password. */
  recent: boolean;
  /** Links to upstream identity providers (docs/federation.md). */
  identities?: IdentityView[];
  done?: string | undefined;
  error?: FormError | undefined;
  /** After "set up": the new secret, shown once, and the confirmation form. */
  enrolment?: { secret: string; otpauthUri: string } | undefined;
  /** A wrong confirmation code: the confirmation form again (the key is in the app already, not shown again). */
  confirming?: boolean | undefined;
  /** After confirmation: the recovery codes, shown once. */
  recoveryCodes?: string[] | undefined;
}

/** The form token: the browser's CSRF cookie (SameSite=Strict, HttpOnly) bound to the sign-in session. */
const formToken = (csrfCookie: string, sid: string) => hashToken(`warden-account\n${csrfCookie}\n${sid}`);

const time = (d: Date) => html`<time datetime="${d.toISOString()}">${d.toISOString().replace('T', ' ').slice(0, 19)} UTC</time>`;

const FAILURES: Record<string, string> = {
  bad_password: 'wrong password',
  locked: 'account locked after failed attempts',
  disabled: 'account disabled',
  unverified_email: 'e-mail address not verified',
  wrong_code: 'wrong two-step code',
  replay: 'two-step code used twice',
  too_many_failures: 'too many wrong codes',
};

/** How a sign-in was made, in words: where (app, account page, console, API) and with what. */
function method(e: AuditRow): string {
  const d = (e.details ?? {}) as Record<string, unknown>;
  if (e.type === 'mfa.failed') return 'two-step code';
  const amr = Array.isArray(d.amr) ? (d.amr as string[]) : d.mfa ? ['pwd', 'otp'] : ['pwd'];
  const how = signInMethod(amr);
  const where =
    d.via === 'authorize' ? (d.client_id === OWN_PAGES_CLIENT_ID ? 'account page' : 'browser sign-in') : d.via === 'console' ? 'admin console' : d.via === 'password_grant' ? 'app (API)' : '';
  return where ? `${how} (${where})` : how;
}

function result(e: AuditRow): string {
  if (e.type === 'login.succeeded') return 'Succeeded';
  const reason = ((e.details ?? {}) as Record<string, unknown>).reason;
  return `Failed${typeof reason === 'string' && FAILURES[reason] ? ` (${FAILURES[reason]})` : ''}`;
}

/** A labelled input with its field error (aria-describedby), for the forms below. */
function input(v: View, form: FormError['form'], name: string, label: string, type: string, autocomplete: string, required = true) {
  const error = v.error?.form === form ? v.error.fields[name] : undefined;
  const id = `${form}-${name}`;
  return html`<label for="${id}">${label}</label>
<input id="${id}" name="${name}" type="${type}" autocomplete="${autocomplete}"${required ? html` required` : ''}${error ? html` aria-invalid="true" aria-describedby="${id}-error"` : ''}>
${error ? html`<p class="error" id="${id}-error">${label}: ${error}</p>` : ''}`;
}

const csrfField = (v: View) => html`<input type="hidden" name="csrf" value="${v.csrf}">`;
const formAlert = (v: View, form: FormError['form']) => (v.error?.form === form ? html`<p class="error" role="alert">${v.error.message}</p>` : '');

function sessionItem(v: View, s: SessionOut) {
  const apps = s.clients.length ? s.clients.map((c) => c.client_name ?? c.client_id).join(', ') : 'a sign-in without an application (API or this page)';
  return html`<li${s.current ? html` aria-current="true"` : ''}>
<article>
<h3>${s.user_agent ?? 'Unknown device'}${s.current ? html` <strong>(this session)</strong>` : ''}</h3>
<dl>
<dt>Signed in</dt><dd>${time(new Date(s.created_at))} with ${signInMethod(s.amr)}</dd>
<dt>Last used</dt><dd>${time(new Date(s.last_used_at))}</dd>
<dt>IP address</dt><dd>${s.ip ?? 'unknown'}</dd>
<dt>Applications</dt><dd>${apps}</dd>
</dl>
${
  s.current
    ? html`<p>To end this session, <a href="/logout">sign out</a>.</p>`
    : html`<form method="post" action="${PATH}/sessions/end">${csrfField(v)}<input type="hidden" name="sid" value="${s.sid}"><button type="submit">End this session</button></form>`
}
</article>
</li>`;
}

function mfaSection(v: View) {
  if (v.recoveryCodes) {
    return html`<p role="status">Two-step verification is on. Keep these recovery codes somewhere safe: each works once, and they are shown only now.</p>
<ul class="recovery-codes">${v.recoveryCodes.map((c) => html`<li><code>${c}</code></li>`)}</ul>
<p><a href="${PATH}">Done</a></p>`;
  }
  if (v.enrolment || v.confirming) {
    return html`${
      v.enrolment
        ? html`<p>Add this key to your authenticator app (or open the link on the device that has it), then enter the 6-digit code it shows.</p>
<dl><dt>Key</dt><dd><code>${v.enrolment.secret}</code></dd><dt>Link</dt><dd><a href="${v.enrolment.otpauthUri}">${v.enrolment.otpauthUri}</a></dd></dl>`
        : html`<p>Enter the 6-digit code your authenticator app shows for the key you added, or <a href="${PATH}">start again</a>.</p>`
    }
${formAlert(v, 'mfa')}
<form method="post" action="${PATH}/mfa/totp/confirm">${csrfField(v)}
${input(v, 'mfa', 'code', 'Code from the app', 'text', 'one-time-code')}
<button type="submit">Turn on two-step verification</button>
</form>`;
  }
  if (v.mfa) {
    return html`<p>Two-step verification is <strong>on</strong> (authenticator app; ${v.recoveryCodesLeft} recovery codes left).</p>
${formAlert(v, 'mfa')}
<form method="post" action="${PATH}/mfa/totp/remove">${csrfField(v)}
<p>To turn it off, enter a code from your app or a recovery code, or your password.</p>
${input(v, 'mfa', 'code', 'Code', 'text', 'one-time-code', false)}
${input(v, 'mfa', 'password', 'Or your password', 'password', 'current-password', false)}
<button type="submit">Turn off two-step verification</button>
</form>`;
  }
  return html`<p>Two-step verification is <strong>off</strong>. With it on, signing in also needs a code from an authenticator app.</p>
${formAlert(v, 'mfa')}
<form method="post" action="${PATH}/mfa/totp/start">${csrfField(v)}<button type="submit">Set up two-step verification</button></form>`;
}

function passkeySection(v: View) {
  return html`<p>A passkey signs you in with your device's screen lock or a security key instead of your password, and cannot be phished.</p>
${formAlert(v, 'passkeys')}
${
  v.passkeys.length
    ? html`<ul class="sessions">${v.passkeys.map(
        (p) => html`<li><article>
<h3>${p.name}</h3>
<dl>
<dt>Added</dt><dd>${time(new Date(p.created_at))}</dd>
<dt>Last used</dt><dd>${p.last_used_at ? time(new Date(p.last_used_at)) : 'never'}</dd>
<dt>Synced</dt><dd>${p.backed_up ? 'yes (a synced passkey)' : 'no (this device only)'}</dd>
</dl>
<form method="post" action="${PATH}/passkeys/remove">${csrfField(v)}<input type="hidden" name="passkey" value="${p.id}"><button type="submit" class="secondary">Remove ${p.name}</button></form>
</article></li>`,
      )}</ul>`
    : html`<p>No passkeys yet.</p>`
}
<form method="post" action="${PATH}/passkeys/add" id="passkey-add">${csrfField(v)}
<input type="hidden" name="response" value="">
${input(v, 'passkeys', 'name', 'Name of the new passkey', 'text', 'off')}
${v.recent ? '' : input(v, 'passkeys', 'password', 'Your password (you signed in more than 5 minutes ago)', 'password', 'current-password')}
<button type="submit">Add a passkey</button>
<p id="passkey-add-status" aria-live="polite"></p>
</form>`;
}

export function accountView(v: View): string {
  const others = v.sessions.filter((s) => !s.current).length;
  const nav = html`<nav aria-label="Account"><p>Signed in as <strong>${v.user.username}</strong> (${v.user.email}) · <a href="/logout">Sign out</a></p></nav>`;
  const body = html`${notice(v.done)}
<section aria-labelledby="sessions-heading">
<h2 id="sessions-heading">Sessions</h2>
<p>Where your account is signed in. Ending a session signs that device or application out at once.</p>
${formAlert(v, 'sessions')}
<ul class="sessions">${v.sessions.map((s) => sessionItem(v, s))}</ul>
${others ? html`<form method="post" action="${PATH}/sessions/logout-others">${csrfField(v)}<button type="submit">End all other sessions (${others})</button></form>` : html`<p>No other sessions.</p>`}
</section>
<section aria-labelledby="signins-heading">
<h2 id="signins-heading">Recent sign-ins</h2>
<table>
<caption>The latest sign-ins and failed attempts on your account</caption>
<thead><tr><th scope="col">Time</th><th scope="col">Result</th><th scope="col">Method</th><th scope="col">IP address</th><th scope="col">Device</th></tr></thead>
<tbody>
${v.signIns.length ? '' : html`<tr><td colspan="5">None yet.</td></tr>`}
${v.signIns.map((e) => html`<tr><td>${time(e.at)}</td><td>${result(e)}</td><td>${method(e)}</td><td>${e.ip ?? ''}</td><td>${e.userAgent ?? ''}</td></tr>`)}
</tbody>
</table>
</section>
${identitiesSection(v.identities ?? [], csrfField(v))}
<section aria-labelledby="password-heading">
<h2 id="password-heading">Password</h2>
${formAlert(v, 'password')}
<form method="post" action="${PATH}/password">${csrfField(v)}
${input(v, 'password', 'current_password', 'Current password', 'password', 'current-password')}
${input(v, 'password', 'new_password', 'New password', 'password', 'new-password')}
${input(v, 'password', 'confirm_password', 'New password again', 'password', 'new-password')}
<p>Changing it ends your other sessions.</p>
<button type="submit">Change password</button>
</form>
</section>
<section aria-labelledby="passkeys-heading">
<h2 id="passkeys-heading">Passkeys</h2>
${passkeySection(v)}
</section>
<section aria-labelledby="mfa-heading">
<h2 id="mfa-heading">Two-step verification</h2>
${mfaSection(v)}
</section>`;
  return page({ title: 'Your account', body, nav, width: 'wide', scripts: scriptTags() });
}

function refused(reply: FastifyReply, status: number, message: string) {
  return asPage(reply.code(status)).send(page({ title: 'Your account', body: html`${alert(message)}<p><a href="${PATH}">Back to your account</a></p>` }));
}

/** The fields of a ProblemError as the form shows them. */
function formError(form: FormError['form'], e: ProblemError, fallbackField?: string): FormError {
  const fields: Record<string, string> = {};
  for (const f of e.errors ?? []) fields[f.field] ??= f.message;
  if (!Object.keys(fields).length && fallbackField) fields[fallbackField] = e.detail;
  return { form, message: e.detail, fields };
}

async function accountSelfService(fastify: FastifyInstance) {
  const app = fastify;
  const w: Warden = app.warden;
  if (!app.hasDecorator('parseCookie')) await app.register(cookie);
  const cookies = new BrowserCookies(w);
  const passkeys = new PasskeyService(w);

  /** The browser's sign-in, when it is still good: not ended, the user enabled and not logged out since. */
  async function signedIn(request: FastifyRequest): Promise<{ session: LoginSession; user: UserRecord } | undefined> {
    const session = await cookies.loadSession(request);
    const user = await liveSessionUser(w, session);
    return user && session ? { session, user } : undefined;
  }

  async function render(
    request: FastifyRequest,
    reply: FastifyReply,
    s: { session: LoginSession; user: UserRecord },
    status = 200,
    extra: Pick<View, 'done' | 'error' | 'enrolment' | 'recoveryCodes' | 'confirming'> = {},
  ) {
    const csrfCookie = cookies.csrfToken(request, reply);
    await w.audit.flush();
    const [sessions, logins, mfaFailures, mfa, recoveryCodesLeft, keys, identities] = await Promise.all([
      listSessions(w, s.user.id, s.session.sid),
      findAuditEvents(w.db, { subject: s.user.id, type: 'login.*', limit: 20 }),
      findAuditEvents(w.db, { subject: s.user.id, type: 'mfa.failed', limit: 20 }),
      w.mfa.isEnrolled(s.user.id),
      w.mfa.recoveryCodesLeft(s.user.id),
      passkeys.list(s.user.id),
      listIdentities(w.db, s.user.id),
    ]);
    const signIns = [...logins.items, ...mfaFailures.items].sort((a, b) => b.at.getTime() - a.at.getTime() || b.id - a.id).slice(0, 20);
    const view: View = { user: s.user, session: s.session, csrf: formToken(csrfCookie, s.session.sid), sessions, signIns, mfa, recoveryCodesLeft, passkeys: keys.map(toPasskeyOut), recent: w.clock.now() - s.session.authTime <= RECENT_SIGN_IN_MS, identities, ...extra };
    return asPage(reply.code(status), SCRIPT_PAGE_CSP).header('referrer-policy', 'same-origin').send(accountView(view));
  }

  /** Not signed in: the /authorize login page, whose sign-in comes back here. */
  async function signInPage(request: FastifyRequest, reply: FastifyReply) {
    const csrf = cookies.csrfToken(request, reply);
    const ix = await cookies.newInteraction(
      csrf,
      { clientId: OWN_PAGES_CLIENT_ID, redirectUri: `${w.config.issuer}${PATH}`, scopes: [], state: undefined, nonce: undefined, codeChallenge: '', prompt: [] },
      false,
      PATH,
    );
    const providers = (await w.identityProviders.list()).map((p) => ({ id: p.id, name: p.name }));
    return asPage(reply.code(200), SCRIPT_PAGE_CSP).send(loginPage({ ix: ix.id, csrf: ix.csrf, clientName: 'your Warden account', providers }));
  }

  app.get(PATH, { config: { access: ACCESS }, schema: HIDDEN }, async (request, reply) => {
    const s = await signedIn(request);
    if (!s) return signInPage(request, reply);
    return render(request, reply, s, 200, { done: DONE[String((request.query as Record<string, unknown>).done)] });
  });

  type Handler = (request: FastifyRequest, reply: FastifyReply, s: { session: LoginSession; user: UserRecord }, body: Form, ctx: RequestContext) => Promise<unknown>;

  /**
   * A form post: same-origin (Fetch Metadata or Origin), signed in, and carrying the form token of this
   * browser's CSRF cookie and session. Anything else changes nothing.
   */
  function action(path: string, handler: Handler, rateLimitGroup?: 'account') {
    app.post(
      `${PATH}${path}`,
      { config: { access: ACCESS, ...(rateLimitGroup ? { rateLimitGroup } : {}) }, schema: { ...HIDDEN, body: Form } as FastifySchema },
      async (request, reply) => {
        const body = request.body as Form;
        if (!sameOriginForm(request, w.config)) return refused(reply, 403, 'This form must be sent from this site.');
        const s = await signedIn(request);
        if (!s) return reply.redirect(PATH, 303);
        const cookieValue = request.cookies[cookies.csrfName];
        if (!cookieValue || !sameSecret(body.csrf ?? '', formToken(cookieValue, s.session.sid))) {
          return refused(reply, 403, 'This form has expired or did not come from this site. Open your account page again.');
        }
        return handler(request, reply, s, body, { ...requestContext(request), actorId: s.user.id });
      },
    );
  }

  action('/sessions/end', async (request, reply, s, body, ctx) => {
    try {
      await endUserSession(w, s.user.id, body.sid ?? '', { by: 'user' }, ctx);
    } catch (e) {
      if (!(e instanceof ProblemError)) throw e;
      return render(request, reply, s, 404, { error: { form: 'sessions', message: 'That session does not exist or has already ended.', fields: {} } });
    }
    return reply.redirect(`${PATH}?done=session_ended`, 303);
  });

  action('/identities/remove', async (request, reply, s, body, ctx) => {
    const id = body.identity ?? '';
    if (!(await removeIdentity(w.db, s.user.id, id))) {
      return render(request, reply, s, 404, { error: { form: 'sessions', message: 'That link does not exist or was already removed.', fields: {} } });
    }
    await w.audit.record(w.db, { type: 'federation.unlinked', subjectId: s.user.id, details: { identity_id: id } }, ctx);
    return reply.redirect(`${PATH}?done=identity_removed`, 303);
  });

  action('/sessions/logout-others', async (_request, reply, s, _body, ctx) => {
    await endOtherUserSessions(w, s.user.id, s.session.sid, ctx);
    return reply.redirect(`${PATH}?done=others_ended`, 303);
  });

  action(
    '/password',
    async (request, reply, s, body, ctx) => {
      const fail = (error: FormError) => render(request, reply, s, 422, { error });
      const missing: Record<string, string> = {};
      if (!body.current_password) missing.current_password = 'is required';
      if (!body.new_password) missing.new_password = 'is required';
      if (Object.keys(missing).length) return fail({ form: 'password', message: 'Fill in the marked fields.', fields: missing });
      if (body.new_password !== body.confirm_password) {
        return fail({ form: 'password', message: 'The new password was not the same twice.', fields: { confirm_password: 'does not match the new password' } });
      }
      try {
        // As POST /users/me/password: every other session ends; this one is kept.
        await w.users.changePassword(s.user.id, body.current_password!, body.new_password!, ctx, s.session.sid);
      } catch (e) {
        if (!(e instanceof ProblemError) || e.status >= 500) throw e;
        return fail(formError('password', e, 'new_password'));
      }
      // Every token issued before now is refused (tokens_valid_after), this cookie's sign-in too: the
      // password was just proven, so the browser gets a fresh cookie for the same, kept session.
      await cookies.startSession(reply, { ...s.session, authTime: w.clock.now() });
      return reply.redirect(`${PATH}?done=password_changed`, 303);
    },
    'account',
  );

  /** Registration options for the page's script (JSON): a recent sign-in or the password first. */
  action(
    '/passkeys/options',
    async (_request, reply, s, body, ctx) => {
      try {
        await passkeys.checkRecent(s.user, s.session.authTime, body.password || undefined, ctx);
        const options = await passkeys.registrationOptions(s.user);
        return await reply.header('cache-control', 'no-store').send(options);
      } catch (e) {
        if (!(e instanceof ProblemError) || e.status >= 500) throw e;
        return reply.code(e.status).header('cache-control', 'no-store').send({ detail: e.detail, errors: e.errors ?? [] });
      }
    },
    'account',
  );

  action(
    '/passkeys/add',
    async (request, reply, s, body, ctx) => {
      const name = (body.name ?? '').trim();
      if (!name) return render(request, reply, s, 422, { error: { form: 'passkeys', message: 'Give the passkey a name.', fields: { name: 'is required' } } });
      let response: unknown;
      try {
        response = JSON.parse(body.response ?? '');
      } catch {
        response = undefined;
      }
      try {
        await passkeys.register(s.user, response, name, ctx);
      } catch (e) {
        if (!(e instanceof ProblemError) || e.status >= 500) throw e;
        const message = e instanceof PasskeyError ? 'The passkey was not added (the request expired or was not accepted). Try again.' : e.detail;
        return render(request, reply, s, e.status, { error: { form: 'passkeys', message, fields: {} } });
      }
      return reply.redirect(`${PATH}?done=passkey_added`, 303);
    },
    'account',
  );

  action('/passkeys/remove', async (request, reply, s, body, ctx) => {
    try {
      await passkeys.remove(s.user.id, body.passkey ?? '', ctx);
    } catch (e) {
      if (!(e instanceof ProblemError) || e.status >= 500) throw e;
      return render(request, reply, s, 404, { error: { form: 'passkeys', message: 'That passkey does not exist or was removed already.', fields: {} } });
    }
    return reply.redirect(`${PATH}?done=passkey_removed`, 303);
  });

  action('/mfa/totp/start', async (request, reply, s) => {
    try {
      const enrolment = await w.mfa.beginEnrolment(s.user);
      return await render(request, reply, s, 200, { enrolment });
    } catch (e) {
      if (!(e instanceof ProblemError) || e.status >= 500) throw e;
      return render(request, reply, s, e.status, { error: formError('mfa', e) });
    }
  });

  action(
    '/mfa/totp/confirm',
    async (request, reply, s, body, ctx) => {
      try {
        const recoveryCodes = await w.mfa.confirmEnrolment(s.user, body.code ?? '', ctx);
        return await render(request, reply, s, 200, { recoveryCodes });
      } catch (e) {
        if (!(e instanceof ProblemError) || e.status >= 500) throw e;
        // A wrong code: the pending secret stays; show the confirmation form again (the key is in the app already).
        return render(request, reply, s, e.status, { error: formError('mfa', e, 'code'), confirming: e.code === 'invalid_code' });
      }
    },
    'account',
  );

  action(
    '/mfa/totp/remove',
    async (request, reply, s, body, ctx) => {
      try {
        await w.mfa.remove(s.user, { code: body.code || undefined, password: body.code ? undefined : body.password || undefined }, ctx);
      } catch (e) {
        if (!(e instanceof ProblemError) || e.status >= 500) throw e;
        return render(request, reply, s, e.status, { error: formError('mfa', e, 'code') });
      }
      return reply.redirect(`${PATH}?done=mfa_removed`, 303);
    },
    'account',
  );
}

export const accountPageRoutes = fp(accountSelfService, { name: 'warden-account-page', fastify: '5.x', encapsulate: true, decorators: needsWarden(), dependencies: [...ROUTE_PIPELINE, 'warden-audit', '@fastify/formbody'] });
