import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import { Type, type Static } from 'typebox';
import type { RequestContext } from '../../audit/audit-log.js';
import { requestContext } from '../../audit/request-context.js';
import { SCRIPT_PAGE_CSP } from '../../../kernel/html/html.js';
import { PasskeyError, PasskeyService } from '../../passkeys/service.js';
import { asPage } from '../../../platform/security-headers.js';
import { badRequest } from '../../../kernel/errors.js';
import type { UserRecord } from '../../users/repository.js';
import { findUserById } from '../../users/repository.js';
import { LoginError } from '../../users/service.js';
import type { Warden } from '../../../kernel/warden.js';
import { createSession, joinSession, newSessionId } from '../../sessions/repository.js';
import { createAuthorizationCode } from '../authorization-code.js';
import { browserDeviceKey, signInFromDevice } from '../../sessions/new-device.js';
import type { OAuthClient } from '../clients/service.js';
import { grantedScopes, needsInteractionEveryTime, rememberConsent } from './consent.js';
import { consentKeys, userGrant } from './resource.js';
import { authorizeUrl, consentPage, errorPage, loginPage, mfaPage } from './pages.js';
import { takeSignInNotice } from '../../users/register-page.js';
import {
  AuthorizePageError,
  AuthorizeRedirectError,
  checkAuthorizationParams,
  checkClientAndRedirect,
  redirectTo,
  type Query,
} from './request.js';
import { BrowserCookies, liveSessionUser, type Interaction, type LoginSession } from './session.js';
import type { OAuthErrorCode } from '../../../kernel/error-catalogue.js';
import { confirmLink, federationRoutes, type AuthorizeHooks } from '../../federation/flow.js';

/** What the authorization endpoint needs of the MFA service (src/features/account/mfa.ts). */
interface SecondFactor {
  isEnrolled(userId: string): Promise<boolean>;
  requirement?(user: UserRecord): Promise<'none' | 'totp' | 'enrollment_required'>;
  verify(userId: string, code: string, ctx: RequestContext, opts?: { login?: string }): Promise<boolean>;
}
const secondFactor = (w: Warden) => (w as unknown as { mfa?: SecondFactor }).mfa;

const MAX_MFA_FAILURES = 5;

/** Who a sign-in for Warden's own pages (Interaction.returnTo) is for: named on the login page and in the audit event. */
export const OWN_PAGES_CLIENT_ID = 'warden-account';
const ownPagesClient = { clientId: OWN_PAGES_CLIENT_ID, clientName: 'your Warden account', firstParty: true } as OAuthClient;

const FormBody = Type.Object(
  {
    interaction: Type.Optional(Type.String({ maxLength: 100 })),
    csrf: Type.Optional(Type.String({ maxLength: 100 })),
    action: Type.Optional(Type.String({ maxLength: 20 })),
    username: Type.Optional(Type.String({ maxLength: 254 })),
    password: Type.Optional(Type.String({ maxLength: 1024 })),
    code: Type.Optional(Type.String({ maxLength: 100 })),
    decision: Type.Optional(Type.String({ maxLength: 10 })),
  },
  { additionalProperties: Type.String({ maxLength: 4096 }) },
);
type FormBody = Static<typeof FormBody>;

const PasskeyVerifyBody = Type.Object(
  {
    interaction: Type.Optional(Type.String({ maxLength: 100 })),
    csrf: Type.Optional(Type.String({ maxLength: 100 })),
    response: Type.Optional(Type.String({ maxLength: 16384, description: 'the PublicKeyCredential as JSON text' })),
  },
  { additionalProperties: false },
);
type PasskeyVerifyBody = Static<typeof PasskeyVerifyBody>;

/**
 * The strict page CSP, except that our forms may lead to the client's redirect URI: browsers apply
 * form-action to the redirect that follows a form post (CSP3 §6.3.1).
 */
function pageCsp(redirectUri?: string): string {
  // The sign-in page runs the passkey script (this origin's file, no inline script).
  if (!redirectUri) return SCRIPT_PAGE_CSP;
  const u = new URL(redirectUri);
  const target = u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : u.protocol;
  return SCRIPT_PAGE_CSP.replace("form-action 'self'", `form-action 'self' ${target}`);
}

function sendPage(reply: FastifyReply, status: number, body: string, redirectUri?: string) {
  return asPage(reply.code(status), pageCsp(redirectUri)).send(body);
}

/** GET → 302; after a form post → 303 so the browser follows with a GET. */
function redirect(request: FastifyRequest, reply: FastifyReply, url: string) {
  return reply.header('cache-control', 'no-store').redirect(url, request.method === 'POST' ? 303 : 302);
}

/** How a sign-in was made, in words (mails, the account page). */
export function signInMethod(amr: readonly string[]): string {
  if (amr.includes('hwk')) return 'passkey';
  const first = amr.includes('fed') ? 'upstream sign-in' : 'password';
  return amr.includes('otp') ? `${first} + two-step code` : first;
}

/** The sign-in session cookie and the interaction's CSRF token are checked by the pages themselves. */
const BROWSER = { kind: 'cookie', reason: 'authorization pages: sign-in session cookie and CSRF token, checked by the flow' } as const;

export async function authorizeRoutes(app: FastifyInstance) {
  // Only the browser-facing endpoints need cookies; another capability may have registered the plugin already.
  if (!app.hasDecorator('parseCookie')) await app.register(cookie);
  const w = app.warden;
  const cookies = new BrowserCookies(w);

  /** What every rendering of the sign-in page shows: the client, and "create an account" while registration is open. */
  const loginOpts = async (client: OAuthClient, ix: Interaction) => ({
    ix: ix.id,
    csrf: ix.csrf,
    clientName: client.clientName,
    registerReturn: w.config.REGISTRATION === 'open' ? authorizeUrl(ix.req) : undefined,
    // "Sign in with …" buttons (docs/federation.md).
    providers: (await w.identityProviders.list()).map((p) => ({ id: p.id, name: p.name })),
  });

  const passkeys = new PasskeyService(w);
  /** The second-factor page, with "Use a passkey instead" when the pending user holds a passkey (docs/passkeys.md). */
  const mfaView = async (ix: Interaction, error?: string) =>
    mfaPage({ ix: ix.id, csrf: ix.csrf, ...(error ? { error } : {}), passkey: !!ix.pending && (await passkeys.list(ix.pending.userId)).length > 0 });

  const redirectError = (request: FastifyRequest, reply: FastifyReply, ix: Interaction, error: OAuthErrorCode, description: string) =>
    redirect(request, reply, redirectTo(w, ix.req, { error, error_description: description }));

  /**
   * Is the session still good: not ended (a revoked refresh token of it, reuse, or any user-wide end),
   * the user exists, is enabled, and has not been logged out since?
   */
  const sessionUser = (session: LoginSession | undefined): Promise<UserRecord | undefined> => liveSessionUser(w, session);

  /**
   * OIDC Core §3.1.2.1 max_age: a sign-in older than max_age seconds does not count (the user signs in
   * again), except the one made in this very interaction.
   */
  function freshEnough(ix: Interaction, session: LoginSession | undefined): LoginSession | undefined {
    const maxAge = ix.req.maxAge;
    if (!session || maxAge === undefined || session.sid === ix.signedInSid) return session;
    return w.clock.now() - session.authTime <= maxAge * 1000 ? session : undefined;
  }

  /**
   * Move the interaction to its next step: login, second factor, consent, or — when nothing is left —
   * the code, sent to the redirect URI.
   */
  async function advance(request: FastifyRequest, reply: FastifyReply, client: OAuthClient, ix: Interaction, fresh?: LoginSession) {
    const { req } = ix;
    if (ix.pending) return sendPage(reply, 200, await mfaView(ix), req.redirectUri);
    const session = fresh ?? (ix.forceLogin ? undefined : freshEnough(ix, await cookies.loadSession(request)));
    const user = await sessionUser(session);
    if (!user || !session) {
      if (req.prompt.includes('none')) {
        await cookies.dropInteraction(ix);
        return redirectError(request, reply, ix, 'login_required', 'the user is not signed in');
      }
      return sendPage(reply, 200, loginPage({ ...(await loginOpts(client, ix)), notice: takeSignInNotice(request, reply) }), req.redirectUri);
    }
    // A sign-in for Warden's own account page: back to it, signed in; no client, no code.
    if (ix.returnTo) {
      await cookies.dropInteraction(ix);
      return redirect(request, reply, ix.returnTo);
    }
    const grant = userGrant(w, client, req, user);
    if ('error' in grant) {
      await cookies.dropInteraction(ix);
      return redirectError(request, reply, ix, grant.error, grant.description);
    }
    const { api, scopes } = grant;
    const confirmEachTime = needsInteractionEveryTime(client, req.redirectUri);
    if ((!client.firstParty || confirmEachTime) && !ix.consented) {
      const granted = req.prompt.includes('consent') || confirmEachTime ? [] : await grantedScopes(w.db, user.id, client.clientId);
      if (confirmEachTime || !consentKeys(api, scopes).every((s) => granted.includes(s))) {
        if (req.prompt.includes('none')) {
          await cookies.dropInteraction(ix);
          if (confirmEachTime) {
            // OIDC Core §3.1.2.6: the user must interact (RFC 8252 §8.6), whatever was consented before.
            return redirectError(request, reply, ix, 'interaction_required', 'a private-use redirect URI needs the user to confirm every authorization');
          }
          return redirectError(request, reply, ix, 'consent_required', 'the user has not granted these scopes');
        }
        return sendPage(reply, 200, consentPage({ ix: ix.id, csrf: ix.csrf, clientName: client.clientName, username: user.username, scopes, api, redirectUri: req.redirectUri }), req.redirectUri);
      }
    }
    const now = new Date(w.clock.now());
    // The client joins the sign-in session; one ended meanwhile gives no code.
    if (!(await joinSession(w.db, session.sid, client.clientId, now))) {
      return sendPage(reply, 200, loginPage({ ...(await loginOpts(client, ix)) }), req.redirectUri);
    }
    const code = await createAuthorizationCode(w.db, {
      clientId: client.clientId,
      userId: user.id,
      redirectUri: req.redirectUri,
      scope: scopes.join(' '),
      resource: req.resource,
      codeChallenge: req.codeChallenge,
      nonce: req.nonce,
      authTime: new Date(session.authTime),
      sessionId: session.sid,
      now,
    });
    await cookies.dropInteraction(ix);
    return redirect(request, reply, redirectTo(w, req, { code }));
  }

  async function signedIn(request: FastifyRequest, reply: FastifyReply, client: OAuthClient, ix: Interaction, userId: string, amr: string[], authTime: number) {
    const ctx = requestContext(request);
    const session: LoginSession = { sid: newSessionId(), userId, authTime, amr };
    await createSession(w.db, { sid: session.sid, userId, clientId: null, authTime: new Date(authTime), amr, ip: ctx.ip, userAgent: ctx.userAgent, now: new Date(w.clock.now()) });
    await cookies.startSession(reply, session);
    ix.forceLogin = false;
    ix.signedInSid = session.sid;
    delete ix.pending;
    await cookies.saveInteraction(ix);
    await w.audit.record(w.db, { type: 'login.succeeded', subjectId: userId, details: { via: 'authorize', client_id: client.clientId, amr } }, ctx);
    // A browser the user has not signed in from before: mail them, with a link that ends this session.
    const user = await findUserById(w.db, userId);
    if (user) {
      const how = signInMethod(amr);
      const where = client.clientId === OWN_PAGES_CLIENT_ID ? 'account page' : client.clientName;
      await signInFromDevice(w, { user, sid: session.sid, deviceKey: browserDeviceKey(request, reply, cookies.secure), method: `${how} (browser, ${where})`, ctx }, request.log);
    }
    return advance(request, reply, client, ix, session);
  }

  async function login(request: FastifyRequest, reply: FastifyReply, client: OAuthClient, ix: Interaction, body: FormBody) {
    const page = async (error: string) => sendPage(reply, 400, loginPage({ ...(await loginOpts(client, ix)), error, login: body.username }), ix.req.redirectUri);
    const name = body.username?.trim();
    if (!name || !body.password) return page('Enter your username (or e-mail) and password.');
    let user: UserRecord;
    try {
      // The service applies lockout, disabled accounts and e-mail verification, and audits failures.
      user = await w.users.authenticate(name, body.password, requestContext(request));
    } catch (e) {
      if (!(e instanceof LoginError)) throw e;
      if (e.reason === 'unverified_email') return page('Verify your e-mail address before signing in.');
      // Unknown user, wrong password, locked and disabled look alike (no account enumeration).
      return page('Invalid username or password.');
    }
    const mfa = secondFactor(w);
    const now = w.clock.now();
    if (mfa) {
      const need = mfa.requirement ? await mfa.requirement(user) : (await mfa.isEnrolled(user.id)) ? 'totp' : 'none';
      if (need === 'enrollment_required') return page('Your account must set up two-step verification before signing in here.');
      if (need === 'totp') {
        ix.pending = { userId: user.id, authTime: now, login: name, mfaFailures: 0 };
        await cookies.saveInteraction(ix);
        return sendPage(reply, 200, await mfaView(ix), ix.req.redirectUri);
      }
    }
    return signedIn(request, reply, client, ix, user.id, ['pwd'], now);
  }

  async function verifyMfa(request: FastifyRequest, reply: FastifyReply, client: OAuthClient, ix: Interaction, body: FormBody) {
    const pending = ix.pending;
    const mfa = secondFactor(w);
    if (!pending || !mfa) return advance(request, reply, client, ix);
    if (body.code && (await mfa.verify(pending.userId, body.code, requestContext(request), { login: pending.login }))) {
      // Sessions ended since the password was checked (force logout, password change or reset,
      // disable) void the half-finished sign-in: it starts no session.
      const user = await findUserById(w.db, pending.userId);
      if (!user || user.disabled || pending.authTime <= user.tokensValidAfter.getTime()) {
        delete ix.pending;
        await cookies.saveInteraction(ix);
        return sendPage(reply, 200, loginPage({ ...(await loginOpts(client, ix)) }), ix.req.redirectUri);
      }
      return signedIn(request, reply, client, ix, pending.userId, [...(pending.amr ?? ['pwd']), 'otp'], pending.authTime);
    }
    pending.mfaFailures += 1;
    if (pending.mfaFailures >= MAX_MFA_FAILURES) {
      await cookies.dropInteraction(ix);
      return sendPage(reply, 400, errorPage('Too many attempts', 'Too many wrong codes.'));
    }
    await cookies.saveInteraction(ix);
    return sendPage(reply, 400, await mfaView(ix, 'That code is not valid.'), ix.req.redirectUri);
  }

  async function consent(request: FastifyRequest, reply: FastifyReply, client: OAuthClient, ix: Interaction, body: FormBody) {
    if (body.decision === 'deny') {
      await cookies.dropInteraction(ix);
      return redirectError(request, reply, ix, 'access_denied', 'the user denied the request');
    }
    // Consent is given by the signed-in user of this interaction, never around a pending second factor.
    const user = ix.pending ? undefined : await sessionUser(await cookies.loadSession(request));
    if (body.decision !== 'allow' || !user) return advance(request, reply, client, ix);
    const grant = userGrant(w, client, ix.req, user);
    if ('error' in grant) return advance(request, reply, client, ix);
    await rememberConsent(w.db, user.id, client.clientId, consentKeys(grant.api, grant.scopes), new Date(w.clock.now()));
    ix.consented = true;
    await cookies.saveInteraction(ix);
    return advance(request, reply, client, ix);
  }

  /**
   * "Sign in with a passkey" on the sign-in page (docs/passkeys.md): the page's script got options from
   * POST /passkeys/options and the browser's assertion; posted here as a form with the interaction and
   * its CSRF token, it signs in like the password form (no second factor: the authenticator verified the
   * user), amr ["hwk", "user"].
   */
  /** A posted passkey assertion: its interaction (CSRF-checked), the interaction's client, and the parsed assertion. */
  async function passkeyPost(request: FastifyRequest, reply: FastifyReply): Promise<{ sent: FastifyReply } | { ix: Interaction; client: OAuthClient; response: unknown }> {
    const body = request.body as PasskeyVerifyBody;
    const ix = await cookies.loadInteraction(body.interaction);
    if (!ix || !cookies.csrfValid(request, ix, body.csrf)) {
      return { sent: sendPage(reply, 400, errorPage('Sign-in expired', 'This form has expired or did not come from this site.')) };
    }
    const client = ix.returnTo ? ownPagesClient : await w.clients.find(ix.req.clientId);
    if (!client) return { sent: sendPage(reply, 400, errorPage('Unknown application', 'The application was removed.')) };
    let response: unknown;
    try {
      response = JSON.parse(body.response ?? '');
    } catch {
      response = undefined; // the service refuses it as no assertion
    }
    return { ix, client, response };
  }

  app.post(
    '/passkeys/verify',
    {
      config: { access: { kind: 'public', reason: 'the sign-in page posts a passkey assertion; the interaction and its cookie-bound CSRF token are checked here' }, page: true, rateLimitGroup: 'token' },
      schema: {
        tags: ['oauth'],
        summary: 'Sign in with a passkey: the WebAuthn assertion (JSON text in `response`) for the sign-in page\'s interaction',
        consumes: ['application/x-www-form-urlencoded', 'application/json'],
        body: PasskeyVerifyBody,
      },
    },
    async (request, reply) => {
      const posted = await passkeyPost(request, reply);
      if ('sent' in posted) return posted.sent;
      const { ix, client, response } = posted;
      try {
        const { user, userVerified } = await passkeys.authenticate(response, requestContext(request));
        delete ix.pending;
        return await signedIn(request, reply, client, ix, user.id, userVerified ? ['hwk', 'user'] : ['hwk'], w.clock.now());
      } catch (e) {
        if (!(e instanceof PasskeyError)) throw e;
        return sendPage(reply, 400, loginPage({ ...(await loginOpts(client, ix)), error: 'That passkey could not be used to sign in.' }), ix.req.redirectUri);
      }
    },
  );

  /**
   * A passkey as the second factor instead of TOTP (docs/passkeys.md): after a correct password, the
   * second-factor page's script asks here for options naming the pending user's passkeys only, with a
   * challenge bound to that user; the assertion comes back as a form to POST /passkeys/second-factor.
   */
  app.post(
    '/passkeys/second-factor/options',
    {
      config: { access: { kind: 'public', reason: 'the second-factor page asks for a challenge; the interaction, its pending sign-in and its cookie-bound CSRF token are checked here' }, page: true, rateLimitGroup: 'token' },
      schema: {
        tags: ['oauth'],
        summary: "WebAuthn authentication options for the second-factor page's pending user",
        body: Type.Object({ interaction: Type.String({ maxLength: 100 }), csrf: Type.String({ maxLength: 100 }) }, { additionalProperties: false }),
      },
    },
    async (request, reply) => {
      const body = request.body as { interaction: string; csrf: string };
      const ix = await cookies.loadInteraction(body.interaction);
      if (!ix || !cookies.csrfValid(request, ix, body.csrf) || !ix.pending) {
        throw badRequest('invalid_input', 'no second factor is pending for this sign-in', [{ field: 'interaction', message: 'has no pending second factor' }]);
      }
      reply.header('cache-control', 'no-store');
      return passkeys.authenticationOptionsFor(ix.pending.userId);
    },
  );

  app.post(
    '/passkeys/second-factor',
    {
      config: { access: { kind: 'public', reason: 'the second-factor page posts a passkey assertion; the interaction, its pending sign-in and its cookie-bound CSRF token are checked here' }, page: true, rateLimitGroup: 'token' },
      schema: {
        tags: ['oauth'],
        summary: "A passkey instead of the TOTP code: the WebAuthn assertion (JSON text in `response`) for the pending user's sign-in",
        consumes: ['application/x-www-form-urlencoded', 'application/json'],
        body: PasskeyVerifyBody,
      },
    },
    async (request, reply) => {
      const posted = await passkeyPost(request, reply);
      if ('sent' in posted) return posted.sent;
      const { ix, client, response } = posted;
      const pending = ix.pending;
      if (!pending) return advance(request, reply, client, ix);
      try {
        // Only a passkey of the user whose password was checked, with a challenge issued for them.
        await passkeys.authenticate(response, requestContext(request), pending.userId);
      } catch (e) {
        if (!(e instanceof PasskeyError)) throw e;
        pending.mfaFailures += 1;
        if (pending.mfaFailures >= MAX_MFA_FAILURES) {
          await cookies.dropInteraction(ix);
          return sendPage(reply, 400, errorPage('Too many attempts', 'Too many failed second factors.'));
        }
        await cookies.saveInteraction(ix);
        return sendPage(reply, 400, await mfaView(ix, 'That passkey could not be used.'), ix.req.redirectUri);
      }
      // As after a TOTP code: sessions ended since the password was checked void the half-finished sign-in.
      const user = await findUserById(w.db, pending.userId);
      if (!user || user.disabled || pending.authTime <= user.tokensValidAfter.getTime()) {
        delete ix.pending;
        await cookies.saveInteraction(ix);
        return sendPage(reply, 200, loginPage({ ...(await loginOpts(client, ix)) }), ix.req.redirectUri);
      }
      return signedIn(request, reply, client, ix, pending.userId, [...(pending.amr ?? ['pwd']), 'hwk'], pending.authTime);
    },
  );

  /**
   * A sign-in by an upstream identity provider (src/features/federation/flow.ts): the same second factor as a
   * password sign-in when the account has one, then the session.
   */
  async function federatedSignIn(request: FastifyRequest, reply: FastifyReply, client: OAuthClient, ix: Interaction, user: UserRecord, amr: string[]) {
    const mfa = secondFactor(w);
    const now = w.clock.now();
    if (mfa) {
      const need = mfa.requirement ? await mfa.requirement(user) : (await mfa.isEnrolled(user.id)) ? 'totp' : 'none';
      if (need === 'enrollment_required') return sendPage(reply, 400, errorPage('Two-step verification needed', 'Your account must set up two-step verification before signing in here.'));
      if (need === 'totp') {
        ix.pending = { userId: user.id, authTime: now, login: user.username, mfaFailures: 0, amr };
        await cookies.saveInteraction(ix);
        return sendPage(reply, 200, await mfaView(ix), ix.req.redirectUri);
      }
    }
    return signedIn(request, reply, client, ix, user.id, amr, now);
  }

  const hooks: AuthorizeHooks = {
    cookies,
    clientOf: async (ix) => (ix.returnTo ? ownPagesClient : w.clients.find(ix.req.clientId)),
    signIn: federatedSignIn,
    sendPage,
  };
  await federationRoutes(app, hooks);

  app.get(
    '/authorize',
    {
      config: { access: BROWSER, page: true },
      schema: {
        tags: ['oauth'],
        summary: 'Authorization endpoint (code + PKCE S256); browser pages',
        querystring: Type.Object({}, { additionalProperties: true }),
      },
    },
    async (request, reply) => {
      const q = request.query as Query;
      try {
        const { client, target } = await checkClientAndRedirect(w, q);
        let req;
        try {
          await w.catalog.fresh();
          req = checkAuthorizationParams(client, target, q, w.catalog);
        } catch (e) {
          if (e instanceof AuthorizeRedirectError) {
            return redirect(request, reply, redirectTo(w, target, { error: e.error, error_description: e.description }));
          }
          throw e;
        }
        const csrf = cookies.csrfToken(request, reply);
        const ix = await cookies.newInteraction(csrf, req, req.prompt.includes('login'));
        return await advance(request, reply, client, ix);
      } catch (e) {
        if (e instanceof AuthorizePageError) return sendPage(reply, 400, errorPage(e.title, e.message));
        throw e;
      }
    },
  );

  app.post(
    '/authorize',
    {
      // The login form checks passwords: the stricter limit of the token endpoint applies (lockout applies too).
      config: { access: BROWSER, page: true, rateLimitGroup: 'token' },
      schema: { tags: ['oauth'], summary: 'Login, second-factor and consent forms', consumes: ['application/x-www-form-urlencoded'], body: FormBody },
    },
    async (request, reply) => {
      const body = request.body as FormBody;
      const ix = await cookies.loadInteraction(body.interaction);
      // CSRF: a post must carry the token of an interaction this browser started (cookie-bound).
      if (!ix || !cookies.csrfValid(request, ix, body.csrf)) {
        return sendPage(reply, 400, errorPage('Sign-in expired', 'This form has expired or did not come from this site.'));
      }
      const client = ix.returnTo ? ownPagesClient : await w.clients.find(ix.req.clientId);
      if (!client) return sendPage(reply, 400, errorPage('Unknown application', 'The application was removed.'));
      if (body.action === 'login') return login(request, reply, client, ix, body);
      if (body.action === 'mfa') return verifyMfa(request, reply, client, ix, body);
      if (body.action === 'consent') return consent(request, reply, client, ix, body);
      if (body.action === 'link') return confirmLink(w, hooks, request, reply, client, ix, body);
      return advance(request, reply, client, ix);
    },
  );
}
