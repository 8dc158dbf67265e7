import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requestContext } from '../audit/request-context.js';
import type { Config } from '../../kernel/config/load.js';
import { ProblemError } from '../../kernel/errors.js';
import { html, type SafeHtml } from '../../kernel/html/html.js';
import { page, problemAlert } from '../../kernel/html/layout.js';
import { asPage } from '../../platform/security-headers.js';
import { FORGOT_ANSWER } from './routes.js';
import { endLinkValid, endSessionByLink } from '../sessions/new-device.js';
import { FormBody, TokenQuery } from './schemas.js';
import fp from 'fastify-plugin';
import { needsWarden, ROUTE_PIPELINE } from '../../platform/pipeline.js';

/**
 * The pages the mailed links open. Plain HTML forms, no JavaScript: they work in any browser and
 * under the strict CSP. Opening a link never uses the token up (mail scanners fetch links); only the
 * form's POST does. Every value is escaped by the `html` template.
 */

function send(reply: FastifyReply, status: number, title: string, body: SafeHtml) {
  return (
    asPage(reply.code(status))
      // The URL carries the token: never pass it on to another site. (Not no-referrer: with it, browsers
      // send "Origin: null" on the form post, which the same-origin check must refuse.)
      .header('referrer-policy', 'same-origin')
      .send(page({ title, body }))
  );
}

/**
 * Cross-site form posts are refused (CSRF). Browsers that send Fetch Metadata are trusted on it
 * (Sec-Fetch-Site cannot be set by a page): same-origin, or none (typed by the user). Older ones must
 * send this server's Origin, or none at all (non-browser clients). The token in the form is what
 * authorises the change; this stops another site from driving a victim's browser with a token the
 * attacker chose (e.g. resetting the victim into an account the attacker controls).
 */
export function sameOriginForm(request: FastifyRequest, config: Pick<Config, 'issuer' | 'publicUrl'>): boolean {
  const site = request.headers['sec-fetch-site'];
  if (typeof site === 'string') return site === 'same-origin' || site === 'none';
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  const allowed = new Set([new URL(config.publicUrl).origin, new URL(config.issuer).origin, `${request.protocol}://${request.host}`]);
  return allowed.has(origin);
}

const crossSite = () => html`<p class="error" role="alert">This form must be sent from this site. Open the link from your mail again.</p>`;
const problems = (e: ProblemError) => problemAlert(e);

function resetForm(token: string, error?: SafeHtml) {
  return html`${error ?? ''}
<form method="post" action="/password/reset/form">
<input type="hidden" name="token" value="${token}">
<p><label for="new_password">New password</label><br>
<input id="new_password" name="new_password" type="password" autocomplete="new-password" required></p>
<p><label for="confirm_password">New password again</label><br>
<input id="confirm_password" name="confirm_password" type="password" autocomplete="new-password" required></p>
<p><button type="submit">Set the new password</button></p>
</form>`;
}

const expiredReset = html`<p>This reset link is invalid, already used or expired.</p><p><a href="/password/forgot">Ask for a new link</a></p>`;

async function accountMailPages(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const w = app.warden;
  // Pages are for browsers, not API clients: kept out of /docs.
  const hide = { hide: true, tags: ['pages'] } as FastifySchema;
  // The mailed single-use token in the form is the credential; no session is involved.
  const access = { kind: 'public', reason: 'pages of the mailed links; the token in the form is the credential' } as const;

  app.get('/password/forgot', { config: { access, page: true }, schema: hide }, async (_request, reply) =>
    send(
      reply,
      200,
      'Forgot your password?',
      html`<form method="post" action="/password/forgot/form">
<p><label for="email">Your e-mail address</label><br><input id="email" name="email" type="email" autocomplete="email" required maxlength="254"></p>
<p><button type="submit">Mail me a reset link</button></p>
</form>
<p class="below"><a href="/">Home</a></p>`,
    ),
  );

  app.post('/password/forgot/form', { config: { access, page: true, rateLimitGroup: 'account' }, schema: { ...hide, body: FormBody } }, async (request, reply) => {
    if (!sameOriginForm(request, w.config)) return send(reply, 403, 'Request refused', crossSite());
    const email = (request.body.email ?? '').trim();
    if (!/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 254) {
      return send(reply, 422, 'Forgot your password?', html`<p class="error" role="alert">Enter a valid e-mail address.</p><p><a href="/password/forgot">Try again</a></p>`);
    }
    w.account.reset.request(email, requestContext(request));
    return send(reply, 202, 'Check your mail', html`<p>${FORGOT_ANSWER.detail}</p>`);
  });

  app.get('/password/reset', { config: { access, page: true }, schema: { ...hide, querystring: TokenQuery } }, async (request, reply) => {
    const token = request.query.token ?? '';
    if (!token || !(await w.account.reset.check(token))) return send(reply, 400, 'Reset your password', expiredReset);
    return send(reply, 200, 'Reset your password', resetForm(token));
  });

  app.post('/password/reset/form', { config: { access, page: true, rateLimitGroup: 'account' }, schema: { ...hide, body: FormBody } }, async (request, reply) => {
    if (!sameOriginForm(request, w.config)) return send(reply, 403, 'Request refused', crossSite());
    const { token = '', new_password: password = '', confirm_password: confirm = '' } = request.body;
    if (!token) return send(reply, 400, 'Reset your password', expiredReset);
    if (password !== confirm) {
      return send(reply, 422, 'Reset your password', resetForm(token, html`<p class="error" role="alert">The two passwords differ.</p>`));
    }
    try {
      await w.account.reset.reset(token, password, requestContext(request));
    } catch (e) {
      if (!(e instanceof ProblemError)) throw e;
      if (e.code === 'invalid_reset_token') return send(reply, 400, 'Reset your password', expiredReset);
      return send(reply, e.status, 'Reset your password', resetForm(token, problems(e)));
    }
    return send(reply, 200, 'Password changed', html`<p class="notice" role="status">Your password has been changed and every session signed out. Sign in with the new password.</p><p><a href="/account">Go to your account</a></p>`);
  });

  app.get('/email/verify', { config: { access, page: true }, schema: { ...hide, querystring: TokenQuery } }, async (request, reply) => {
    const token = request.query.token ?? '';
    if (!token || !(await w.account.verification.check(token))) {
      return send(reply, 400, 'Confirm your e-mail address', html`<p>This link is invalid, already used or expired. Sign in and ask for a new one.</p>`);
    }
    return send(
      reply,
      200,
      'Confirm your e-mail address',
      html`<form method="post" action="/email/verify/form">
<input type="hidden" name="token" value="${token}">
<p><button type="submit">Confirm my e-mail address</button></p>
</form>`,
    );
  });

  app.post('/email/verify/form', { config: { access, page: true, rateLimitGroup: 'account' }, schema: { ...hide, body: FormBody } }, async (request, reply) => {
    if (!sameOriginForm(request, w.config)) return send(reply, 403, 'Request refused', crossSite());
    try {
      const user = await w.account.verification.verify(request.body.token ?? '', requestContext(request));
      return send(reply, 200, 'E-mail address confirmed', html`<p class="notice" role="status">Thank you: ${user.email} is confirmed.</p><p><a href="/account">Go to your account</a></p>`);
    } catch (e) {
      if (!(e instanceof ProblemError)) throw e;
      return send(reply, e.status, 'Confirm your e-mail address', problems(e));
    }
  });

  // The new-device mail's link (src/features/sessions/new-device.ts): opening it shows a button; only the post ends the session.
  const usedEndLink = html`<p>This link is invalid, already used or expired.</p><p>You can see and end your sessions on <a href="/account">your account page</a>.</p>`;
  app.get('/sessions/end', { config: { access }, schema: { ...hide, querystring: TokenQuery } }, async (request, reply) => {
    const token = request.query.token ?? '';
    if (!token || !(await endLinkValid(w, token))) return send(reply, 400, 'End that session', usedEndLink);
    return send(
      reply,
      200,
      'End that session',
      html`<p>The sign-in we mailed you about will be signed out at once, on every device and application it reached.</p>
<form method="post" action="/sessions/end/form">
<input type="hidden" name="token" value="${token}">
<p><button type="submit">End that session</button></p>
</form>`,
    );
  });

  app.post('/sessions/end/form', { config: { access, rateLimitGroup: 'account' }, schema: { ...hide, body: FormBody } }, async (request, reply) => {
    if (!sameOriginForm(request, w.config)) return send(reply, 403, 'Request refused', crossSite());
    const outcome = await endSessionByLink(w, request.body.token ?? '', requestContext(request));
    if (outcome === 'used') return send(reply, 400, 'End that session', usedEndLink);
    return send(
      reply,
      200,
      'Session ended',
      html`<p>${outcome === 'ended' ? 'That session was ended: it is signed out everywhere.' : 'That session had already ended.'}</p>
<p>If that sign-in was not you, <a href="/account">change your password</a> now.</p>`,
    );
  });
}

export const accountPages = fp(accountMailPages, { name: 'warden-account-pages', fastify: '5.x', encapsulate: true, decorators: needsWarden(), dependencies: [...ROUTE_PIPELINE, 'warden-audit', '@fastify/formbody'] });
