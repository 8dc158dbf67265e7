import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import fp from 'fastify-plugin';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requestContext } from '../audit/request-context.js';
import { sameOriginForm } from '../account/pages.js';
import { ProblemError } from '../../kernel/errors.js';
import { html, type SafeHtml } from '../../kernel/html/html.js';
import { page, problemAlert } from '../../kernel/html/layout.js';
import { asPage } from '../../platform/security-headers.js';
import { adminUsernames, SetupLink } from './first-admin.js';
import { needsWarden, ROUTE_PIPELINE } from '../../platform/pipeline.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The first-admin setup link (issued at start while no admin exists). */
    setupLink: SetupLink;
  }
}

const SetupQuery = Type.Object({ token: Type.Optional(Type.String({ maxLength: 200 })) });
const SetupForm = Type.Record(Type.String(), Type.String({ maxLength: 1024 }));

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/**
 * Loopback only, judged on the socket itself: a reverse proxy on this machine also connects from
 * 127.0.0.1, so a request that carries forwarding headers came from elsewhere and is refused too.
 */
function fromThisMachine(request: FastifyRequest): boolean {
  const h = request.headers;
  if (h['x-forwarded-for'] !== undefined || h.forwarded !== undefined || h['x-real-ip'] !== undefined) return false;
  return LOOPBACK.test(request.socket.remoteAddress ?? '');
}

function send(reply: FastifyReply, status: number, title: string, body: SafeHtml) {
  return asPage(reply.code(status))
    .header('referrer-policy', 'no-referrer')
    .send(page({ title, body }));
}

function form(token: string, values: { username?: string; email?: string }, error?: SafeHtml) {
  return html`${error ?? ''}
<p>No administrator exists yet. Create the first one; this link then stops working.</p>
<form method="post" action="/setup">
<input type="hidden" name="token" value="${token}">
<p><label for="username">Username</label><br><input id="username" name="username" autocomplete="username" required maxlength="32" value="${values.username ?? ''}"></p>
<p><label for="email">E-mail address</label><br><input id="email" name="email" type="email" autocomplete="email" required maxlength="254" value="${values.email ?? ''}"></p>
<p><label for="password">Password</label><br><input id="password" name="password" type="password" autocomplete="new-password" required></p>
<p><label for="password_confirm">Password again</label><br><input id="password_confirm" name="password_confirm" type="password" autocomplete="new-password" required></p>
<p><button type="submit">Create the administrator</button></p>
</form>`;
}

const gone = () =>
  html`<p>This setup link is invalid, used or expired (links last 15 minutes and work once). Restart Warden for a new one, or create the admin with <code>warden user create --role admin</code> while it is stopped.</p>`;

/**
 * GET/POST /setup: the first administrator, created from a one-time link printed at start. Refused from
 * anywhere but this machine, once an admin exists, and without a valid link.
 */
async function setupRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const w = app.warden;
  app.decorate('setupLink', new SetupLink(w.clock));
  const hide = { hide: true, tags: ['pages'] } as FastifySchema;

  const refuseUnlessOpen = async (request: FastifyRequest, reply: FastifyReply, token: string | undefined) => {
    if (!fromThisMachine(request)) return send(reply, 403, 'Setup refused', html`<p>The setup page opens only from the machine Warden runs on.</p>`);
    if ((await adminUsernames(w.db, 1)).count > 0) return send(reply, 410, 'Setup is done', html`<p>An administrator exists. Sign in at <a href="/admin">the console</a>.</p>`);
    if (!token || !app.setupLink.check(token)) return send(reply, 404, 'Setup link not valid', gone());
    return undefined;
  };

  app.get('/setup', { config: { page: true, access: { kind: 'public', reason: 'first-admin setup: loopback only, gated by the one-time token printed at start' } }, schema: { ...hide, querystring: SetupQuery } }, async (request, reply) => {
    const token = request.query.token;
    const refused = await refuseUnlessOpen(request, reply, token);
    if (refused) return refused;
    return send(reply, 200, 'Create the first administrator', form(token!, {}));
  });

  app.post('/setup', { config: { rateLimitGroup: 'account', page: true, access: { kind: 'public', reason: 'first-admin setup: loopback only, gated by the one-time token printed at start' } }, schema: { ...hide, body: SetupForm } }, async (request, reply) => {
    const { token, username = '', email = '', password = '', password_confirm: confirm = '' } = request.body;
    const refused = await refuseUnlessOpen(request, reply, token);
    if (refused) return refused;
    if (!sameOriginForm(request, w.config)) return send(reply, 403, 'Request refused', html`<p>This form must be sent from this site.</p>`);
    const again = (status: number, message: SafeHtml) => send(reply, status, 'Create the first administrator', form(token!, { username, email }, message));
    if (password !== confirm) return again(422, html`<p class="error" role="alert">The two passwords differ.</p>`);
    if (!app.setupLink.take(token!)) return send(reply, 404, 'Setup link not valid', gone());
    try {
      const u = await w.users.create({ username: username.trim(), email: email.trim(), password, roles: ['admin', 'user'], emailVerified: true }, requestContext(request), 'user.created');
      app.setupLink.consume();
      request.log.info({ userId: u.id }, 'first admin created from the setup link');
      return send(reply, 201, 'Administrator created', html`<p>${u.username} is an administrator. Sign in at <a href="/admin">the console</a>.</p>`);
    } catch (e) {
      app.setupLink.giveBack();
      if (e instanceof ProblemError && e.status < 500) {
        return again(e.status, problemAlert(e));
      }
      throw e;
    }
  });
}

export const setupPlugin = fp(setupRoutes, { name: 'warden-setup', fastify: '5.x', decorators: needsWarden(), dependencies: [...ROUTE_PIPELINE, 'warden-audit', '@fastify/formbody'] });
