import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import { Type } from 'typebox';
import { requestContext } from '../audit/request-context.js';
import { PAGE_CSP } from '../../kernel/html/html.js';
import { asPage } from '../../platform/security-headers.js';
import { endSession } from '../sessions/end-session.js';
import { findSession } from '../sessions/repository.js';
import { findUserById } from '../users/repository.js';
import { errorPage, logoutConfirmPage, signedOutPage } from './authorize/pages.js';
import { BrowserCookies, type LoginSession } from './authorize/session.js';
import type { OAuthClient } from './clients/service.js';
import { verifyIdTokenHint, type IdTokenHint } from './id-token.js';

/** A sign-out the user is asked to confirm, kept server-side; the form carries its id and the CSRF token. */
interface LogoutInteraction {
  id: string;
  csrf: string;
  /** The browser's sign-in when the page was shown: the one the confirmation ends, and no other (none seen: the current one). */
  sid: string | undefined;
  clientId: string | undefined;
  redirectUri: string | undefined;
  state: string | undefined;
}

const INTERACTION_TTL_MS = 10 * 60_000;

type Params = Record<string, string | string[] | undefined>;

/** A problem shown to the user, never sent to a redirect URI (none is trusted yet). */
class LogoutPageError extends Error {}

/** §2: each parameter once; an empty one counts as absent. */
function single(p: Params, name: string, max = 4096): string | undefined {
  const v = p[name];
  if (Array.isArray(v)) throw new LogoutPageError(`${name} is repeated.`);
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw new LogoutPageError(`${name} must be a string.`);
  if (v.length > max) throw new LogoutPageError(`${name} is too long.`);
  return v;
}

/** The page CSP; the confirmation form may lead to the client's post-logout URI (CSP3 form-action applies to the redirect). */
function pageCsp(redirectUri?: string): string {
  if (!redirectUri) return PAGE_CSP;
  const u = new URL(redirectUri);
  const target = u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : u.protocol;
  return PAGE_CSP.replace("form-action 'self'", `form-action 'self' ${target}`);
}

const BROWSER = { kind: 'cookie', reason: 'OIDC RP-Initiated Logout: the sign-in session cookie, an id_token_hint, and the confirmation form\'s CSRF token, checked by the flow' } as const;

/**
 * OpenID Connect RP-Initiated Logout 1.0 (`end_session_endpoint`). A relying party sends the browser
 * here with `id_token_hint` (an id_token Warden issued, expired or not), `client_id`,
 * `post_logout_redirect_uri` (one the client registered, compared exactly), `state` and `ui_locales`.
 * The browser's sign-in ends — its cookie and its session, so the session's refresh and access tokens
 * die on every instance and its other clients hear of it by back-channel logout — at once when the hint
 * names that very session, otherwise after the user confirms on a CSRF-bound form (§2: a logout request
 * anyone can link to must not end a session by itself). Then the browser returns to the registered URI
 * with `state`, or sees a "signed out" page. A URI that is not registered is never followed.
 */
export async function logoutRoutes(app: FastifyInstance) {
  if (!app.hasDecorator('parseCookie')) await app.register(cookie);
  const w = app.warden;
  const cookies = new BrowserCookies(w);

  const sendPage = (reply: FastifyReply, status: number, body: string, redirectUri?: string) => asPage(reply.code(status), pageCsp(redirectUri)).send(body);

  /** The browser's live sign-in (not ended, user still allowed in), or undefined. */
  async function browserSession(request: FastifyRequest): Promise<LoginSession | undefined> {
    const s = await cookies.loadSession(request);
    if (!s) return undefined;
    const row = await findSession(w.db, s.sid);
    return row && !row.endedAt && row.userId === s.userId ? s : undefined;
  }

  /** Where the browser goes back to: after a form post 303, so it follows with a GET. */
  function finish(request: FastifyRequest, reply: FastifyReply, target: { redirectUri: string | undefined; state: string | undefined }, stillSignedIn = false) {
    if (!target.redirectUri) return sendPage(reply, 200, signedOutPage(stillSignedIn));
    const u = new URL(target.redirectUri);
    if (target.state !== undefined) u.searchParams.set('state', target.state);
    return reply.header('cache-control', 'no-store').redirect(u.toString(), request.method === 'POST' ? 303 : 302);
  }

  async function signOut(request: FastifyRequest, reply: FastifyReply, session: LoginSession | undefined, clientId: string | undefined, via: string) {
    await cookies.endSession(request, reply);
    if (!session) return;
    await endSession(
      w,
      { sid: session.sid },
      'logout',
      () => ({ type: 'session.logout', actorId: session.userId, subjectId: session.userId, details: { sid: session.sid, client_id: clientId ?? null, via } }),
      requestContext(request),
    );
  }

  /** A logout request from a relying party (GET query or POST form). */
  async function requested(request: FastifyRequest, reply: FastifyReply, p: Params) {
    const hintToken = single(p, 'id_token_hint', 8192);
    const clientIdParam = single(p, 'client_id', 200);
    const redirectParam = single(p, 'post_logout_redirect_uri', 2000);
    const state = single(p, 'state', 1000);
    // Accepted and not acted on: the pages are in one language (§2 makes it a preference).
    single(p, 'ui_locales', 200);
    single(p, 'logout_hint', 1000);

    let hint: IdTokenHint | undefined;
    if (hintToken) {
      hint = await verifyIdTokenHint(w, hintToken);
      if (!hint) throw new LogoutPageError('The id_token_hint was not issued by this server, or is not an id_token.');
    }
    // §2: client_id and the hint's audience must agree.
    if (clientIdParam && hint && hint.clientId !== clientIdParam) throw new LogoutPageError('client_id does not match the id_token_hint.');
    const clientId = clientIdParam ?? hint?.clientId;
    let client: OAuthClient | undefined;
    if (clientId) {
      client = await w.clients.find(clientId);
      if (!client) throw new LogoutPageError('No application is registered with this client_id.');
    }
    // §3.1 / §2: only a URI the client registered, compared exactly; without a known client, none.
    if (redirectParam !== undefined) {
      if (!client) throw new LogoutPageError('post_logout_redirect_uri needs client_id or id_token_hint to name the application.');
      if (!client.postLogoutRedirectUris.includes(redirectParam)) throw new LogoutPageError('This post_logout_redirect_uri is not registered for the application.');
    }
    const target = { redirectUri: redirectParam, state };
    const session = await browserSession(request);
    if (!session && request.method === 'GET') {
      // Nothing is signed in here (a top-level GET carries the SameSite=Lax sign-in cookie): the cookie
      // (if any) goes, and the client gets its answer.
      await cookies.endSession(request, reply);
      return finish(request, reply, target);
    }
    // A relying party's form POST comes from its own site, so the browser leaves the SameSite=Lax sign-in
    // cookie out: the confirmation page below (our origin) posts back with it.
    if (session && hint?.sid && hint.sid === session.sid) {
      await signOut(request, reply, session, client?.clientId, 'id_token_hint');
      return finish(request, reply, target);
    }
    // No hint, or one of another sign-in: the user decides (a link anyone can send must not sign them out).
    const ix: LogoutInteraction = { id: randomBytes(32).toString('base64url'), csrf: cookies.csrfToken(request, reply), sid: session?.sid, clientId: client?.clientId, ...target };
    await w.state.set(`authz:logout:${ix.id}`, JSON.stringify(ix), INTERACTION_TTL_MS);
    const user = session ? await findUserById(w.db, session.userId) : undefined;
    return sendPage(reply, 200, logoutConfirmPage({ ix: ix.id, csrf: ix.csrf, clientName: client?.clientName, username: user?.username }), target.redirectUri);
  }

  /** The confirmation form posted back. */
  async function confirmed(request: FastifyRequest, reply: FastifyReply, p: Params) {
    const id = single(p, 'interaction', 100);
    const raw = id && /^[A-Za-z0-9_-]{43}$/.test(id) ? await w.state.get(`authz:logout:${id}`) : undefined;
    const ix = raw ? (JSON.parse(raw) as LogoutInteraction) : undefined;
    // CSRF: the form's token, this browser's SameSite=Strict cookie and the interaction must all agree.
    if (!ix || !cookies.csrfValid(request, ix, single(p, 'csrf', 100))) {
      return sendPage(reply, 400, errorPage('Sign-out expired', 'This form has expired or did not come from this site.'));
    }
    await w.state.delete(`authz:logout:${ix.id}`);
    const target = { redirectUri: ix.redirectUri, state: ix.state };
    if (single(p, 'decision', 10) !== 'logout') return finish(request, reply, target, true);
    const session = await browserSession(request);
    // Only the sign-in the page was shown for (when it saw one): a browser signed in again meanwhile keeps that new one.
    await signOut(request, reply, session && (ix.sid === undefined || session.sid === ix.sid) ? session : undefined, ix.clientId, 'confirmed');
    return finish(request, reply, target);
  }

  async function handle(request: FastifyRequest, reply: FastifyReply, p: Params) {
    try {
      if (request.method === 'POST' && p.interaction !== undefined) return await confirmed(request, reply, p);
      return await requested(request, reply, p);
    } catch (e) {
      if (e instanceof LogoutPageError) return sendPage(reply, 400, errorPage('Sign-out failed', e.message));
      throw e;
    }
  }

  const Anything = Type.Object({}, { additionalProperties: true });
  app.get(
    '/logout',
    { config: { access: BROWSER }, schema: { tags: ['oauth'], summary: 'OIDC RP-Initiated Logout (end_session_endpoint)', querystring: Anything } },
    async (request, reply) => handle(request, reply, request.query as Params),
  );
  app.post(
    '/logout',
    {
      config: { access: BROWSER },
      schema: { tags: ['oauth'], summary: 'OIDC RP-Initiated Logout (form post) and its confirmation form', consumes: ['application/x-www-form-urlencoded'], body: Anything },
    },
    async (request, reply) => handle(request, reply, (request.body ?? {}) as Params),
  );
}
