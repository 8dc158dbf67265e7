import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import fp from 'fastify-plugin';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Value } from 'typebox/value';
import { requestContext } from '../audit/request-context.js';
import { sameOriginForm } from '../account/pages.js';
import { ProblemError } from '../../kernel/errors.js';
import { html } from '../../kernel/html/html.js';
import { alert, field, notice, page } from '../../kernel/html/layout.js';
import { PAGE_SCHEMA, sendPage } from '../pages/routes.js';
import { Email, FullName, Password, Username } from './schemas.js';
import { needsWarden, ROUTE_PIPELINE } from '../../platform/pipeline.js';

/**
 * GET/POST /register: the sign-up form for people (REGISTRATION=open), the same rules as POST /users
 * (one service call: password policy, unique username and e-mail, the verification mail). After it,
 * back to the sign-in page it came from, which says the account was made.
 */

/** The sign-in page's one-time message after registering: a fixed key in a short cookie, never text from the request. */
const NOTICE_COOKIE = 'warden_notice';
const NOTICES: Record<string, string> = {
  registered: 'Your account was created. Sign in with it below.',
  registered_verify: 'Your account was created. Open the link we mailed you to confirm your e-mail address, then sign in.',
};

/** The notice left for the sign-in page, if any; it is shown once. */
export function takeSignInNotice(request: FastifyRequest, reply: FastifyReply): string | undefined {
  const key = request.cookies[NOTICE_COOKIE];
  if (!key) return undefined;
  reply.clearCookie(NOTICE_COOKIE, { path: '/authorize' });
  return NOTICES[key];
}

/** Only back to an authorization request of this server: anything else would be an open redirect. */
const RETURN_TO = /^\/authorize\?[A-Za-z0-9\-._~%!$&'()*+,;=:@/?]{1,4000}$/;
const returnTarget = (v: unknown) => (typeof v === 'string' && RETURN_TO.test(v) ? v : undefined);

// Not bounded below the URL limit: an over-long return_to is ignored (returnTarget), not refused as JSON.
const RegisterQuery = Type.Object({ return_to: Type.Optional(Type.String({ maxLength: 8192 })) });
const RegisterForm = Type.Record(Type.String(), Type.String({ maxLength: 8192 }));

interface Values {
  username?: string;
  email?: string;
  full_name?: string;
}

function registerPage(values: Values, o: { returnTo?: string | undefined; errors?: Record<string, string>; error?: string | undefined }) {
  const e = o.errors ?? {};
  return page({
    title: 'Create an account',
    body: html`${alert(o.error)}
<form method="post" action="/register" novalidate>
${o.returnTo ? html`<input type="hidden" name="return_to" value="${o.returnTo}">` : ''}
${field({ name: 'username', label: 'Username', autocomplete: 'username', required: true, maxlength: 32, hint: '3 to 32 letters, digits, _ . -', value: values.username, error: e.username })}
${field({ name: 'email', label: 'E-mail address', type: 'email', autocomplete: 'email', required: true, maxlength: 254, value: values.email, error: e.email })}
${field({ name: 'full_name', label: 'Full name (optional)', autocomplete: 'name', maxlength: 200, value: values.full_name, error: e.full_name })}
${field({ name: 'password', label: 'Password', type: 'password', autocomplete: 'new-password', required: true, error: e.password })}
${field({ name: 'password_confirm', label: 'Password again', type: 'password', autocomplete: 'new-password', required: true, error: e.password_confirm })}
<p><button type="submit">Create the account</button></p>
</form>
<p class="below">${o.returnTo ? html`<a href="${o.returnTo}">Back to sign-in</a>` : html`<a href="/">Home</a>`}</p>`,
  });
}

async function registerRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  if (!app.hasDecorator('parseCookie')) await app.register(cookie);
  const w = app.warden;
  const access = { kind: 'public', reason: 'the sign-up page (REGISTRATION=open), the same rules as POST /users' } as const;
  const closed = (reply: FastifyReply) =>
    sendPage(reply, 403, page({ title: 'Registration is closed', body: html`<p>This server does not take new accounts. Ask its administrator for one.</p>` }));

  app.get('/register', { config: { access, page: true }, schema: { ...PAGE_SCHEMA, querystring: RegisterQuery } }, async (request, reply) => {
    if (w.config.REGISTRATION !== 'open') return closed(reply);
    return sendPage(reply, 200, registerPage({}, { returnTo: returnTarget(request.query.return_to) }));
  });

  app.post('/register', { config: { access, page: true, rateLimitGroup: 'register' }, schema: { ...PAGE_SCHEMA, body: RegisterForm } }, async (request, reply) => {
    if (w.config.REGISTRATION !== 'open') return closed(reply);
    const b = request.body;
    const returnTo = returnTarget(b.return_to);
    const values: Values = { username: (b.username ?? '').trim(), email: (b.email ?? '').trim(), full_name: (b.full_name ?? '').trim() };
    const again = (status: number, errors: Record<string, string>, error?: string) => sendPage(reply, status, registerPage(values, { returnTo, errors, error }));
    if (!sameOriginForm(request, w.config)) return again(403, {}, 'This form must be sent from this site.');

    // The schema of POST /users, field by field, so each error stands beside its field.
    const errors: Record<string, string> = {};
    if (!Value.Check(Username, values.username)) errors.username = 'Use 3 to 32 letters, digits, _ . - (starting with a letter or digit).';
    if (!Value.Check(Email, values.email)) errors.email = 'Enter an e-mail address such as name@example.com.';
    if (values.full_name && !Value.Check(FullName, values.full_name)) errors.full_name = 'At most 200 characters.';
    const password = b.password ?? '';
    if (!password) errors.password = 'Choose a password.';
    else if (!Value.Check(Password, password)) errors.password = 'At most 1024 characters.';
    else if (password !== (b.password_confirm ?? '')) errors.password_confirm = 'The two passwords differ.';
    if (Object.keys(errors).length) return again(422, errors, 'Correct the fields marked below.');

    try {
      await w.users.create({ username: values.username!, email: values.email!, password, fullName: values.full_name || undefined }, requestContext(request));
    } catch (e) {
      if (!(e instanceof ProblemError) || e.status >= 500) throw e;
      for (const x of e.errors ?? []) errors[x.field] = errors[x.field] ? `${errors[x.field]} ${x.message}` : x.message;
      return again(e.status, errors, e.errors?.length ? 'Correct the fields marked below.' : e.detail);
    }
    const key = w.config.REQUIRE_VERIFIED_EMAIL ? 'registered_verify' : 'registered';
    if (returnTo) {
      reply.setCookie(NOTICE_COOKIE, key, { path: '/authorize', httpOnly: true, sameSite: 'lax', secure: w.config.issuer.startsWith('https://'), maxAge: 600 });
      return reply.redirect(returnTo, 303);
    }
    return sendPage(reply, 201, page({ title: 'Account created', body: html`${notice(NOTICES[key])}<p><a href="/account">Go to your account</a></p>` }));
  });
}

export const registerPagePlugin = fp(registerRoutes, { name: 'warden-register-page', fastify: '5.x', decorators: needsWarden(), dependencies: [...ROUTE_PIPELINE, 'warden-audit', '@fastify/formbody'] });
