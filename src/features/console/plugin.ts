import cookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import { can, type Permission } from '../access/roles.js';
import { accessConsoleRoutes } from './access-routes.js';
import { identityProviderConsoleRoutes } from './idp-routes.js';
import { auditEventNames, findAuditEvents } from '../audit/repository.js';
import { requestContext } from '../audit/request-context.js';
import type { RequestContext } from '../audit/audit-log.js';
import { ProblemError } from '../../kernel/errors.js';
import { asPage } from '../../platform/security-headers.js';
import { SCRIPT_PAGE_CSP } from '../../kernel/html/html.js';
import { isConfirmed } from '../../kernel/html/layout.js';
import { rotateSigningKey } from '../oauth/keys-routes.js';
import type { ClientMetadata } from '../oauth/clients/schemas.js';
import { LoginError } from '../users/service.js';
import { endUserSession, listSessions } from '../sessions/self-service.js';
import { PasskeyError, PasskeyService, toPasskeyOut } from '../passkeys/service.js';
import {
  auditPage,
  BASE,
  clientsPage,
  keysPage,
  loginForm,
  mfaForm,
  refusedPage,
  usersPage,
  userPage,
  type AuditFilters,
  type Viewer,
} from './pages.js';
import { ConsoleCookies, ConsoleSessions, pruneConsoleSessions, randomToken, tokensEqual, type ConsoleSession } from './session.js';
import fp from 'fastify-plugin';
import { needsWarden, ROUTE_PIPELINE } from '../../platform/pipeline.js';

declare module 'fastify' {
  interface FastifyRequest {
    consoleSession: ConsoleSession | undefined;
  }
}

const HIDDEN = { hide: true } as FastifySchema;
/** Refused unless the form's confirmation box was ticked (the shared pattern, src/kernel/html/layout.ts confirmForm). */
const UNCONFIRMED = (what: string) => new ProblemError(422, 'confirmation_required', `Tick the confirmation box to ${what}.`);
/** Signed-in pages: the console's own guard checks the session cookie, CSRF token and permission. */
const CONSOLE = { kind: 'cookie', reason: 'console session cookie, CSRF token and permission, checked by the console guard' } as const;
/** The sign-in pages, the style sheet and the redirects: before any session (login CSRF cookie only). */
const PAGE = { kind: 'public', reason: 'console sign-in pages and redirects' } as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Fixed messages for ?done=… after a redirect (never text taken from the URL). */
const DONE: Record<string, string> = {
  roles: 'Roles saved.',
  disabled: 'Account disabled; its sessions were ended.',
  enabled: 'Account enabled.',
  logout: 'Every session of this user was ended.',
  session_ended: 'The session was ended; its tokens stopped working.',
  passkey_removed: 'The passkey was removed.',
  unlocked: 'Failed-login counters cleared.',
  deleted: 'Client deleted.',
  rotated: 'A new signing key is active.',
};

type Body = Record<string, string | string[] | undefined>;
const field = (body: unknown, name: string): string | undefined => {
  const v = (body as Body | undefined)?.[name];
  return typeof v === 'string' ? v : Array.isArray(v) ? v[0] : undefined;
};
const fields = (body: unknown, name: string): string[] => {
  const v = (body as Body | undefined)?.[name];
  return typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x) => typeof x === 'string') : [];
};
const str = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

function send(reply: FastifyReply, status: number, body: string, csp?: string) {
  return asPage(reply.code(status), csp).header('referrer-policy', 'same-origin').send(body);
}
/** The sign-in page runs the passkey script (this origin's files, no inline script). */
const sendLogin = (reply: FastifyReply, status: number, body: string) => send(reply, status, body, SCRIPT_PAGE_CSP);

/**
 * A form post must come from a page of this origin. Fetch Metadata (Sec-Fetch-Site, which a page
 * cannot forge) when the browser sends it, else the Origin header; a request with neither is not a
 * browser and still needs the session's CSRF token.
 */
export function sameOrigin(request: FastifyRequest, issuer: string): boolean {
  const site = request.headers['sec-fetch-site'];
  if (typeof site === 'string') return site === 'same-origin';
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  return origin === new URL(issuer).origin || origin === `${request.protocol}://${request.host}`;
}

/**
 * The admin console at /admin: server-rendered pages (auto-escaping templates, no script, strict
 * CSP), a session cookie bound to a console_sessions row, and a CSRF token on every form.
 */
async function adminConsole(fastify: FastifyInstance) {
  const app = fastify;
  const w = app.warden;
  if (!app.hasDecorator('parseCookie')) await app.register(cookie);
  const cookies = new ConsoleCookies(w.config);
  const sessions = new ConsoleSessions(w);
  app.jobs.register({ name: 'console-sessions.prune', everyMs: 3600_000, singleRunner: true, run: ({ db, now }) => pruneConsoleSessions(db, now) });
  app.decorateRequest('consoleSession', undefined);

  const viewer = (request: FastifyRequest): Viewer => ({ user: request.consoleSession!.user, csrfToken: request.consoleSession!.csrfToken });
  const ctxOf = (request: FastifyRequest): RequestContext => ({ ...requestContext(request), actorId: request.consoleSession?.user.id });

  /** Signed in (else to the login page) and, for a post, same-origin with the session's CSRF token. */
  function guard(permission: Permission) {
    return async (request: FastifyRequest, reply: FastifyReply) => {
      const session = await sessions.find(cookies.read(request, cookies.session));
      if (request.method === 'POST') {
        if (!sameOrigin(request, w.config.issuer)) return send(reply, 403, refusedPage('Cross-site form posts are refused.'));
        if (!session || !tokensEqual(field(request.body, '_csrf'), session.csrfToken)) {
          return send(reply, 403, refusedPage('The form was stale or not sent from this console. Sign in and try again.'));
        }
      } else if (!session) {
        return reply.redirect(`${BASE}/login`, 303);
      }
      if (!can(session.user.roles, permission)) return send(reply, 403, refusedPage(`Your roles do not allow this (${permission}).`));
      request.consoleSession = session;
    };
  }

  const opts = (permission: Permission) => ({ preHandler: guard(permission), config: { access: CONSOLE, admin: true, page: true }, schema: HIDDEN });

  app.get('/admin', { config: { access: PAGE, admin: true, page: true }, schema: HIDDEN }, async (_request, reply) => reply.redirect(`${BASE}/users`, 303));
  app.get(BASE, { config: { access: PAGE, admin: true, page: true }, schema: HIDDEN }, async (_request, reply) => reply.redirect(`${BASE}/users`, 303));

  // --- sign-in ---------------------------------------------------------------------------------

  const loginCsrf = (request: FastifyRequest, reply: FastifyReply) => {
    const token = cookies.read(request, cookies.login) ?? randomToken();
    cookies.set(reply, cookies.login, token, 3600);
    return token;
  };
  const loginCsrfValid = (request: FastifyRequest) =>
    sameOrigin(request, w.config.issuer) && tokensEqual(field(request.body, '_csrf'), cookies.read(request, cookies.login));

  app.get(`${BASE}/login`, { config: { access: PAGE, admin: true, page: true }, schema: HIDDEN }, async (request, reply) => {
    if (await sessions.find(cookies.read(request, cookies.session))) return reply.redirect(`${BASE}/users`, 303);
    return sendLogin(reply, 200, loginForm(loginCsrf(request, reply)));
  });

  async function startSession(request: FastifyRequest, reply: FastifyReply, userId: string, mfa: boolean, amr?: string[]) {
    const s = await sessions.create(userId);
    await w.audit.record(w.db, { type: 'login.succeeded', actorId: userId, subjectId: userId, details: { via: 'console', mfa, ...(amr ? { amr } : {}) } }, requestContext(request));
    cookies.set(reply, cookies.session, s.id, s.maxAgeSeconds);
    cookies.clear(reply, cookies.login);
    return reply.redirect(`${BASE}/users`, 303);
  }

  app.post(`${BASE}/login`, { config: { access: PAGE, admin: true, page: true, rateLimitGroup: 'token' }, schema: HIDDEN }, async (request, reply) => {
    if (!loginCsrfValid(request)) return send(reply, 403, refusedPage('Cross-site or stale sign-in form refused. Open the sign-in page again.'));
    const csrfToken = cookies.read(request, cookies.login)!;
    const login = str(field(request.body, 'login'))?.slice(0, 254);
    const password = field(request.body, 'password');
    if (!login || !password) return sendLogin(reply, 400, loginForm(csrfToken, 'Enter your username or e-mail and your password.', login));
    const ctx = requestContext(request);
    let user;
    try {
      // Through the users service: lockout, rehash and login.failed auditing all apply here too.
      user = await w.users.authenticate(login, password, ctx);
    } catch (e) {
      if (e instanceof LoginError) return sendLogin(reply, 401, loginForm(csrfToken, 'Invalid username or password.', login));
      throw e;
    }
    if (!can(user.roles, 'users:list')) {
      await w.audit.record(w.db, { type: 'login.failed', subjectId: user.id, details: { reason: 'not_admin', via: 'console', login } }, ctx);
      return sendLogin(reply, 403, loginForm(csrfToken, 'This account may not use the admin console.', login));
    }
    const enrolled = await w.mfa.isEnrolled(user.id);
    if (!enrolled && w.config.REQUIRE_ADMIN_MFA) {
      await w.audit.record(w.db, { type: 'login.failed', subjectId: user.id, details: { reason: 'mfa_not_enrolled', via: 'console', login } }, ctx);
      return sendLogin(reply, 403, loginForm(csrfToken, 'Administrators must enrol a second factor (TOTP) before signing in.', login));
    }
    if (enrolled) {
      const pending = await sessions.startMfa(user.id, login);
      cookies.set(reply, cookies.mfa, pending, 300);
      return reply.redirect(`${BASE}/login/mfa`, 303);
    }
    return startSession(request, reply, user.id, false);
  });

  const passkeys = new PasskeyService(w);

  /**
   * "Sign in with a passkey" on the console's sign-in page (docs/passkeys.md): the page's script got
   * options from POST /passkeys/options (discoverable credentials: no username typed) and posts the
   * assertion here with the login CSRF token. Only an admin gets a session; user verification (always
   * required) is the second factor, so REQUIRE_ADMIN_MFA is met without TOTP.
   */
  app.post(`${BASE}/login/passkey`, { config: { access: PAGE, admin: true, page: true, rateLimitGroup: 'token' }, schema: HIDDEN }, async (request, reply) => {
    if (!loginCsrfValid(request)) return send(reply, 403, refusedPage('Cross-site or stale sign-in form refused. Open the sign-in page again.'));
    const csrfToken = cookies.read(request, cookies.login)!;
    const ctx = requestContext(request);
    let response: unknown;
    try {
      response = JSON.parse(field(request.body, 'response') ?? '');
    } catch {
      response = undefined;
    }
    let signedIn;
    try {
      signedIn = await passkeys.authenticate(response, ctx);
    } catch (e) {
      if (e instanceof PasskeyError) return sendLogin(reply, 400, loginForm(csrfToken, 'That passkey could not be used to sign in.'));
      throw e;
    }
    const { user, passkeyId, userVerified } = signedIn;
    if (!can(user.roles, 'users:list')) {
      await w.audit.record(w.db, { type: 'login.failed', subjectId: user.id, details: { reason: 'not_admin', via: 'console', method: 'passkey', passkey_id: passkeyId } }, ctx);
      return sendLogin(reply, 403, loginForm(csrfToken, 'This account may not use the admin console.'));
    }
    if (!userVerified) {
      // Cannot happen while user verification is required; a presence-only passkey is never a second factor.
      await w.audit.record(w.db, { type: 'login.failed', subjectId: user.id, details: { reason: 'user_not_verified', via: 'console', method: 'passkey', passkey_id: passkeyId } }, ctx);
      return sendLogin(reply, 403, loginForm(csrfToken, 'That passkey could not be used to sign in.'));
    }
    return startSession(request, reply, user.id, true, ['hwk', 'user']);
  });

  app.get(`${BASE}/login/mfa`, { config: { access: PAGE, admin: true, page: true }, schema: HIDDEN }, async (request, reply) => {
    if (!(await sessions.pendingMfa(cookies.read(request, cookies.mfa)))) return reply.redirect(`${BASE}/login`, 303);
    return send(reply, 200, mfaForm(loginCsrf(request, reply)));
  });

  app.post(`${BASE}/login/mfa`, { config: { access: PAGE, admin: true, page: true, rateLimitGroup: 'token' }, schema: HIDDEN }, async (request, reply) => {
    if (!loginCsrfValid(request)) return send(reply, 403, refusedPage('Cross-site or stale form refused. Sign in again.'));
    const token = cookies.read(request, cookies.mfa);
    const pending = await sessions.pendingMfa(token);
    if (!pending) return reply.redirect(`${BASE}/login`, 303);
    const code = str(field(request.body, 'code'))?.slice(0, 64) ?? '';
    // verify audits mfa.failed, counts towards the lockout and refuses replays.
    if (!(await w.mfa.verify(pending.userId, code, requestContext(request), { login: pending.login }))) {
      return send(reply, 401, mfaForm(cookies.read(request, cookies.login)!, 'That code is not valid. Try the next one.'));
    }
    await sessions.endMfa(token);
    cookies.clear(reply, cookies.mfa);
    return startSession(request, reply, pending.userId, true);
  });

  app.post(`${BASE}/logout`, opts('users:list'), async (request, reply) => {
    await sessions.destroy(cookies.read(request, cookies.session));
    cookies.clear(reply, cookies.session);
    return reply.redirect(`${BASE}/login`, 303);
  });

  // --- users -----------------------------------------------------------------------------------

  app.get(`${BASE}/users`, opts('users:list'), async (request, reply) => {
    const q = request.query as Record<string, unknown>;
    const search = str(q.q)?.slice(0, 254);
    try {
      const result = await w.users.list({ q: search, limit: 50, cursor: str(q.cursor) });
      return send(reply, 200, usersPage(viewer(request), search, result.items, result.nextCursor, DONE[String(q.done)]));
    } catch (e) {
      if (e instanceof ProblemError) return send(reply, e.status, usersPage(viewer(request), search, [], null, e.detail));
      throw e;
    }
  });

  async function renderUser(request: FastifyRequest, reply: FastifyReply, id: string, status = 200, error?: string) {
    if (!UUID.test(id)) return send(reply, 404, refusedPage('No such user.'));
    const user = await w.users.get(id).catch(() => undefined);
    if (!user) return send(reply, 404, refusedPage('No such user.'));
    await w.audit.flush();
    const [locked, mfa, events, sessions, keys] = await Promise.all([
      w.lockout.isLocked(user),
      w.mfa.isEnrolled(user.id),
      findAuditEvents(w.db, { subject: user.id, limit: 20 }),
      listSessions(w, user.id),
      passkeys.list(user.id),
    ]);
    const done = DONE[String((request.query as Record<string, unknown>).done)];
    await w.catalog.fresh();
    const roles = w.catalog.roles().map((r) => r.name);
    const names = await auditEventNames(w.db, events.items);
    return send(reply, status, userPage(viewer(request), user, { locked, mfa, events: events.items, names, done, error, roles, sessions, passkeys: keys.map(toPasskeyOut) }));
  }

  app.get(`${BASE}/users/:id`, opts('users:read'), async (request, reply) => renderUser(request, reply, (request.params as { id: string }).id));

  /** Run an action on a user, then back to their page with a message, or the page with the error. */
  function userAction(path: string, permission: Permission, act: (request: FastifyRequest, id: string) => Promise<string>) {
    app.post(`${BASE}/users/:id/${path}`, opts(permission), async (request, reply) => {
      const id = (request.params as { id: string }).id;
      if (!UUID.test(id)) return send(reply, 404, refusedPage('No such user.'));
      try {
        const done = await act(request, id);
        return reply.redirect(`${BASE}/users/${id}?done=${done}`, 303);
      } catch (e) {
        if (e instanceof ProblemError) return renderUser(request, reply, id, e.status, e.detail);
        throw e;
      }
    });
  }

  userAction('disable', 'users:disable', async (request, id) => {
    if (!isConfirmed(request.body)) throw UNCONFIRMED('disable the account');
    await w.users.adminUpdate(request.consoleSession!.user.id, id, { disabled: true }, ctxOf(request));
    return 'disabled';
  });
  userAction('enable', 'users:update', async (request, id) => {
    await w.users.adminUpdate(request.consoleSession!.user.id, id, { disabled: false }, ctxOf(request));
    return 'enabled';
  });
  userAction('roles', 'users:update', async (request, id) => {
    const roles = [...new Set(fields(request.body, 'roles'))];
    await w.catalog.fresh();
    const unknown = w.accessAdmin.unknownRoles(roles);
    if (unknown.length) throw new ProblemError(422, 'unknown_role', `no such role: ${unknown.join(', ')}`);
    await w.users.adminUpdate(request.consoleSession!.user.id, id, { roles }, ctxOf(request));
    return 'roles';
  });
  userAction('logout', 'users:logout', async (request, id) => {
    if (!isConfirmed(request.body)) throw UNCONFIRMED('end every session of this user');
    await w.users.forceLogout(request.consoleSession!.user.id, id, ctxOf(request));
    return 'logout';
  });
  // One session: a sid that is not this user's (or no longer live) answers as an unknown one.
  app.post(`${BASE}/users/:id/sessions/:sid/end`, opts('users:logout'), async (request, reply) => {
    const { id, sid } = request.params as { id: string; sid: string };
    if (!UUID.test(id)) return send(reply, 404, refusedPage('No such user.'));
    try {
      await endUserSession(w, id, sid, { by: 'admin', actorId: request.consoleSession!.user.id }, ctxOf(request));
      return reply.redirect(`${BASE}/users/${id}?done=session_ended`, 303);
    } catch (e) {
      if (e instanceof ProblemError) return renderUser(request, reply, id, e.status, 'No such live session of this user.');
      throw e;
    }
  });
  // One passkey: one that is not this user's answers as an unknown one (docs/passkeys.md).
  app.post(`${BASE}/users/:id/passkeys/:pid/remove`, opts('users:update'), async (request, reply) => {
    const { id, pid } = request.params as { id: string; pid: string };
    if (!UUID.test(id)) return send(reply, 404, refusedPage('No such user.'));
    try {
      await passkeys.remove(id, pid, ctxOf(request));
      return reply.redirect(`${BASE}/users/${id}?done=passkey_removed`, 303);
    } catch (e) {
      if (e instanceof ProblemError) return renderUser(request, reply, id, e.status, 'No such passkey of this user.');
      throw e;
    }
  });
  userAction('unlock', 'users:update', async (request, id) => {
    const user = await w.users.get(id);
    await w.lockout.unlock(user, request.consoleSession!.user.id, ctxOf(request));
    return 'unlocked';
  });

  // --- APIs, roles and a client's per-API grants (src/features/console/access-routes.ts) ------------------

  accessConsoleRoutes(app, { opts, send, viewer, ctxOf, field, fields });
  identityProviderConsoleRoutes(app, { opts, send, viewer, ctxOf, field, fields });

  // --- clients ---------------------------------------------------------------------------------

  async function renderClients(request: FastifyRequest, reply: FastifyReply, status: number, extra: Parameters<typeof clientsPage>[2] = {}) {
    const page = await w.clients.list({ limit: 100 });
    const done = extra.done ?? DONE[String((request.query as Record<string, unknown>).done)];
    return send(reply, status, clientsPage(viewer(request), page.items, { ...extra, done }));
  }

  app.get(`${BASE}/clients`, opts('clients:list'), async (request, reply) => renderClients(request, reply, 200));

  app.post(`${BASE}/clients`, opts('clients:create'), async (request, reply) => {
    const b = request.body;
    const grants = fields(b, 'grant_types').filter((g): g is NonNullable<ClientMetadata['grant_types']>[number] =>
      ['authorization_code', 'refresh_token', 'client_credentials', 'password'].includes(g),
    );
    const method = field(b, 'token_endpoint_auth_method');
    const meta: ClientMetadata = {
      client_name: str(field(b, 'client_name'))?.slice(0, 200) ?? '',
      redirect_uris: (field(b, 'redirect_uris') ?? '').split(/\r?\n/).map((s) => s.trim()).filter(Boolean).slice(0, 20),
      grant_types: grants,
      token_endpoint_auth_method: method === 'client_secret_post' || method === 'none' ? method : 'client_secret_basic',
      first_party: field(b, 'first_party') === 'true',
      ...(str(field(b, 'scope')) ? { scope: str(field(b, 'scope'))!.slice(0, 1000) } : {}),
      post_logout_redirect_uris: (field(b, 'post_logout_redirect_uris') ?? '').split(/\r?\n/).map((s) => s.trim()).filter(Boolean).slice(0, 20),
      ...(str(field(b, 'backchannel_logout_uri')) ? { backchannel_logout_uri: str(field(b, 'backchannel_logout_uri'))!.slice(0, 2000) } : {}),
    };
    if (!meta.client_name) return renderClients(request, reply, 422, { error: 'A client needs a name.' });
    try {
      const { client, secret } = await w.clients.create(meta, ctxOf(request));
      return renderClients(request, reply, 201, {
        done: `Client ${client.client_name} created.`,
        ...(secret ? { secret: { client, secret } } : {}),
      });
    } catch (e) {
      if (e instanceof ProblemError) return renderClients(request, reply, e.status, { error: e.detail });
      throw e;
    }
  });

  app.post(`${BASE}/clients/:id/rotate`, opts('clients:rotate'), async (request, reply) => {
    try {
      if (!isConfirmed(request.body)) throw UNCONFIRMED('rotate the secret');
      const { client, secret } = await w.clients.rotateSecret((request.params as { id: string }).id, ctxOf(request));
      return renderClients(request, reply, 200, { done: 'Secret rotated: the old one no longer works.', secret: { client, secret } });
    } catch (e) {
      if (e instanceof ProblemError) return renderClients(request, reply, e.status, { error: e.detail });
      throw e;
    }
  });

  app.post(`${BASE}/clients/:id/delete`, opts('clients:delete'), async (request, reply) => {
    try {
      if (!isConfirmed(request.body)) throw UNCONFIRMED('delete the client');
      await w.clients.delete((request.params as { id: string }).id, ctxOf(request));
      return reply.redirect(`${BASE}/clients?done=deleted`, 303);
    } catch (e) {
      if (e instanceof ProblemError) return renderClients(request, reply, e.status, { error: e.detail });
      throw e;
    }
  });

  // --- signing keys ----------------------------------------------------------------------------

  const renderKeys = async (request: FastifyRequest, reply: FastifyReply, status = 200, error?: string) =>
    send(
      reply,
      status,
      keysPage(viewer(request), await w.keys.list(), {
        done: DONE[String((request.query as Record<string, unknown>).done)],
        error,
        hs256: w.keys.algorithm === 'HS256',
      }),
    );

  app.get(`${BASE}/keys`, opts('keys:list'), async (request, reply) => renderKeys(request, reply));

  app.post(`${BASE}/keys/rotate`, opts('keys:rotate'), async (request, reply) => {
    if (!isConfirmed(request.body)) return renderKeys(request, reply, 422, 'Tick the confirmation box to rotate the signing key.');
    await rotateSigningKey(w, ctxOf(request), 'manual');
    return reply.redirect(`${BASE}/keys?done=rotated`, 303);
  });

  // --- audit log -------------------------------------------------------------------------------

  app.get(`${BASE}/audit`, opts('audit:read'), async (request, reply) => {
    const q = request.query as Record<string, unknown>;
    const f: AuditFilters = {
      type: str(q.type)?.slice(0, 100),
      actor: str(q.actor)?.slice(0, 200),
      subject: str(q.subject)?.slice(0, 200),
      ip: str(q.ip)?.slice(0, 64),
      from: str(q.from)?.slice(0, 40),
      to: str(q.to)?.slice(0, 40),
      flagged: q.flagged === 'true' ? true : undefined,
    };
    // datetime-local has no zone: read as UTC, as the page says.
    const when = (s: string | undefined) => (s ? new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s}Z`) : undefined);
    const from = when(f.from);
    const to = when(f.to);
    let error: string | undefined;
    if (f.type && !/^[a-z_]+(\.[a-z_]+)*(\.\*)?$/.test(f.type)) error = 'Event type: letters, dots and a final .* only.';
    else if ((from && Number.isNaN(from.getTime())) || (to && Number.isNaN(to.getTime()))) error = 'From and To must be dates.';
    if (error) return send(reply, 422, auditPage(viewer(request), f, [], null, error));
    try {
      await w.audit.flush();
      const result = await findAuditEvents(w.db, { ...f, from, to, limit: 50, cursor: str(q.cursor) });
      return send(reply, 200, auditPage(viewer(request), f, result.items, result.nextCursor, undefined, await auditEventNames(w.db, result.items)));
    } catch (e) {
      if (e instanceof ProblemError) return send(reply, e.status, auditPage(viewer(request), f, [], null, e.detail));
      throw e;
    }
  });
}

export const consolePlugin = fp(adminConsole, { name: 'warden-console', fastify: '5.x', encapsulate: true, decorators: needsWarden(), dependencies: [...ROUTE_PIPELINE, 'warden-audit', '@fastify/formbody', 'warden-jobs'] });
