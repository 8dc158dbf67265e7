import { randomBytes } from 'node:crypto';
import { hashToken, newOpaqueToken, sameSecret } from '../../kernel/secrets.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { and, eq } from 'drizzle-orm';
import * as oidc from 'openid-client';
import { Type, type Static } from 'typebox';
import { requestContext } from '../audit/request-context.js';
import { html } from '../../kernel/html/html.js';
import { alert, page } from '../../kernel/html/layout.js';
import type { OAuthClient } from '../oauth/clients/service.js';
import type { BrowserCookies, Interaction } from '../oauth/authorize/session.js';
import { errorPage } from '../oauth/authorize/pages.js';
import { userIdentities } from './tables.js';
import { emailKey, findUserByEmailKey, findUserById, findUserByUsername, type UserRecord } from '../users/repository.js';
import { LoginError } from '../users/service.js';
import type { Warden } from '../../kernel/warden.js';
import { GITHUB, type IdentityProvider } from './providers.js';

/** What the federation leg needs of the /authorize flow (src/features/oauth/authorize/routes.ts). */
export interface AuthorizeHooks {
  cookies: BrowserCookies;
  clientOf(ix: Interaction): Promise<OAuthClient | undefined>;
  /** The user is who they say: the second factor when due, then the session, consent and the code. */
  signIn(request: FastifyRequest, reply: FastifyReply, client: OAuthClient, ix: Interaction, user: UserRecord, amr: string[]): Promise<unknown>;
  sendPage(reply: FastifyReply, status: number, body: string, redirectUri?: string): unknown;
}

/** A pending link, kept in the interaction until the user confirms with the local password. */
export interface PendingLink {
  providerId: string;
  providerName: string;
  subject: string;
  email: string;
  userId: string;
  amr: string[];
}

/** Why a federated sign-in failed: the audit's `reason` (docs/federation.md lists them). */
export type FederationFailure =
  | 'unknown_provider'
  | 'interaction_invalid'
  | 'no_pending_sign_in'
  | 'replayed_callback'
  | 'upstream_error'
  | 'state_mismatch'
  | 'nonce_mismatch'
  | 'issuer_mismatch'
  | 'audience_mismatch'
  | 'token_invalid'
  | 'provider_unreachable'
  | 'no_subject'
  | 'no_email'
  | 'unverified_email_matches_account'
  | 'registration_closed'
  | 'account_disabled'
  | 'link_password_wrong';

const TX_TTL_MS = 10 * 60_000;

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const StartQuery = Type.Object({ interaction: Type.Optional(Type.String({ maxLength: 100 })) }, { additionalProperties: false });
const CallbackQuery = Type.Object({}, { additionalProperties: Type.String({ maxLength: 4096 }) });

/** The upstream leg as stored server-side, bound to the browser by the federation cookie (only its hash is a key). */
interface UpstreamTx {
  providerId: string;
  ix: string;
  state: string;
  nonce: string;
  verifier: string;
}

/** Who the upstream says signed in. */
interface UpstreamIdentity {
  subject: string;
  email: string | undefined;
  emailVerified: boolean;
  username: string | undefined;
  fullName: string | undefined;
  amr: string[];
  /** The upstream id_token's amr, for the audit only. */
  upstreamAmr?: string[] | undefined;
}

class FederationError extends Error {
  constructor(
    readonly reason: FederationFailure,
    readonly userMessage: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(reason);
  }
}

/** openid-client's refusal, as the reason the audit gives (oauth4webapi's claim comparison names the claim). */
function classify(e: unknown): FederationError {
  type Failure = Error & { code?: string; cause?: Failure & { claim?: string }; error?: string };
  const err = e as Failure;
  // openid-client wraps oauth4webapi's error (same code) around the original, whose cause names the claim.
  const inner = err.cause && err.cause.code === err.code ? err.cause : err;
  const message = String(inner.message);
  if (err.code === 'OAUTH_JWT_CLAIM_COMPARISON_FAILED') {
    const claim = inner.cause?.claim;
    if (claim === 'nonce') return new FederationError('nonce_mismatch', 'The identity provider\'s answer does not belong to this sign-in.');
    if (claim === 'iss') return new FederationError('issuer_mismatch', 'The identity provider\'s token was issued by someone else.');
    if (claim === 'aud' || claim === 'azp') return new FederationError('audience_mismatch', 'The identity provider\'s token was meant for another application.');
    return new FederationError('token_invalid', 'The identity provider\'s token could not be verified.', { claim });
  }
  if (err.code === 'OAUTH_INVALID_RESPONSE' && /"iss"/.test(message)) {
    return new FederationError('issuer_mismatch', 'The identity provider\'s answer came from another issuer.');
  }
  if (err.code === 'OAUTH_INVALID_RESPONSE' && /"state"/.test(message)) {
    return new FederationError('state_mismatch', 'The identity provider\'s answer does not belong to this sign-in.');
  }
  if (typeof err.error === 'string') return new FederationError('token_invalid', 'The identity provider refused the sign-in.', { error: err.error.slice(0, 64) });
  return new FederationError('token_invalid', 'The identity provider\'s token could not be verified.', { code: typeof err.code === 'string' ? err.code : 'unknown' });
}

/** A username from what the upstream offers, fitted to Warden's rule (3–32 of [A-Za-z0-9_.-], letter or digit first). */
function usernameBase(id: UpstreamIdentity): string {
  const raw = id.username ?? id.email?.split('@')[0] ?? 'user';
  let s = raw.replace(/[^A-Za-z0-9_.-]/g, '').replace(/^[^A-Za-z0-9]+/, '').slice(0, 24);
  if (s.length < 3) s = `user${s}`;
  return s;
}

export function linkPage(o: { ix: string; csrf: string; providerName: string; username: string; error?: string | undefined }): string {
  return page({
    title: 'Link your account?',
    body: html`<p>Your <strong>${o.providerName}</strong> account uses the e-mail address of the Warden account <strong>${o.username}</strong>.</p>
<p>To sign in with ${o.providerName} from now on, confirm that this account is yours with its password.</p>
${alert(o.error)}
<form method="post" action="/authorize">
<input type="hidden" name="interaction" value="${o.ix}"><input type="hidden" name="csrf" value="${o.csrf}"><input type="hidden" name="action" value="link">
<p><label for="password">Password of ${o.username}</label><input id="password" name="password" type="password" autocomplete="current-password" required></p>
<div class="actions"><button type="submit" name="decision" value="link">Link and sign in</button>
<button type="submit" name="decision" value="cancel" class="secondary">Cancel</button></div>
</form>`,
  });
}

/**
 * GET /federation/{id}/start and /federation/{id}/callback (docs/federation.md), registered by the
 * /authorize routes with their hooks. The upstream leg: PKCE (S256), `state` and `nonce`, kept
 * server-side under the hash of a random handle in an HttpOnly SameSite=Lax cookie (it must ride along
 * on the IdP's cross-site redirect back), bound to the /authorize interaction and used once.
 */
export async function federationRoutes(app: FastifyInstance, hooks: AuthorizeHooks) {
  const w = app.warden;
  const providers = w.identityProviders;
  const cookieName = `${hooks.cookies.secure ? '__Host-' : ''}warden_fed`;
  const cookieOpts = { path: '/', httpOnly: true, secure: hooks.cookies.secure, sameSite: 'lax' as const };
  const BROWSER = { kind: 'cookie', reason: 'upstream sign-in: bound to the /authorize interaction by its CSRF cookie, then by the federation cookie' } as const;
  const callbackUrl = (id: string) => `${w.config.issuer}/federation/${id}/callback`;

  async function fail(request: FastifyRequest, reply: FastifyReply, providerId: string | undefined, e: FederationError, subjectId?: string) {
    await w.audit.record(
      w.db,
      { type: 'federation.failed', subjectId: subjectId ?? null, flagged: ['state_mismatch', 'nonce_mismatch', 'issuer_mismatch', 'audience_mismatch', 'replayed_callback'].includes(e.reason), details: { provider_id: providerId, reason: e.reason, ...e.details } },
      requestContext(request),
    );
    return hooks.sendPage(reply.header('cache-control', 'no-store'), 400, errorPage('Sign-in failed', e.userMessage));
  }

  app.get(
    '/federation/:id/start',
    { config: { access: BROWSER, page: true }, schema: { tags: ['oauth'], summary: 'Start signing in with an upstream identity provider (from the /authorize sign-in page)', params: IdParams, querystring: StartQuery } },
    async (request, reply) => {
      const { id } = request.params as Static<typeof IdParams>;
      const { interaction } = request.query as Static<typeof StartQuery>;
      const provider = await providers.find(id);
      if (!provider) return fail(request, reply, undefined, new FederationError('unknown_provider', 'That sign-in option does not exist.'));
      const ix = await hooks.cookies.loadInteraction(interaction);
      // Bound to this browser: the interaction's CSRF secret is the browser's CSRF cookie (SameSite=Strict).
      if (!ix || !hooks.cookies.csrfValid(request, ix, ix.csrf)) {
        return fail(request, reply, id, new FederationError('interaction_invalid', 'This sign-in has expired or did not start in this browser.'));
      }
      let config: oidc.Configuration;
      try {
        config = await providers.clientConfig(provider);
      } catch {
        return fail(request, reply, id, new FederationError('provider_unreachable', `${provider.name} cannot be reached right now.`));
      }
      const tx: UpstreamTx = { providerId: id, ix: ix.id, state: oidc.randomState(), nonce: oidc.randomNonce(), verifier: oidc.randomPKCECodeVerifier() };
      const handle = newOpaqueToken();
      await w.state.set(`fed:tx:${hashToken(handle)}`, JSON.stringify(tx), TX_TTL_MS);
      reply.setCookie(cookieName, handle, { ...cookieOpts, maxAge: TX_TTL_MS / 1000 });
      const params: Record<string, string> = {
        redirect_uri: callbackUrl(id),
        scope: provider.scopes,
        state: tx.state,
        code_challenge: await oidc.calculatePKCECodeChallenge(tx.verifier),
        code_challenge_method: 'S256',
      };
      if (provider.kind === 'oidc') params.nonce = tx.nonce;
      return reply.header('cache-control', 'no-store').redirect(oidc.buildAuthorizationUrl(config, params).href, 302);
    },
  );

  async function upstreamIdentity(provider: IdentityProvider, config: oidc.Configuration, currentUrl: URL, tx: UpstreamTx): Promise<UpstreamIdentity> {
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      // Checks the response's state (and RFC 9207 iss), PKCE at the token endpoint; for OIDC the
      // id_token's signature (the issuer's JWKS), iss, aud, exp, iat and nonce.
      tokens = await oidc.authorizationCodeGrant(config, currentUrl, {
        pkceCodeVerifier: tx.verifier,
        expectedState: tx.state,
        ...(provider.kind === 'oidc' ? { expectedNonce: tx.nonce, idTokenExpected: true } : {}),
      });
    } catch (e) {
      throw classify(e);
    }
    if (provider.kind === 'github') return githubIdentity(config, tokens.access_token);
    const claims = tokens.claims();
    if (!claims?.sub) throw new FederationError('no_subject', 'The identity provider did not say who signed in.');
    let email = typeof claims.email === 'string' ? claims.email : undefined;
    let verified = claims.email_verified === true;
    let info: Record<string, unknown> = claims;
    if (email === undefined) {
      // Many providers put the e-mail address in userinfo only; its sub must be the id_token's.
      try {
        info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
        email = typeof info.email === 'string' ? info.email : undefined;
        verified = info.email_verified === true;
      } catch {
        // No userinfo: no e-mail address.
      }
    }
    const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
    return {
      subject: claims.sub,
      email,
      emailVerified: verified,
      username: str(info.preferred_username) ?? str(claims.preferred_username),
      fullName: str(info.name) ?? str(claims.name),
      // Only `fed`: the upstream's own amr values (e.g. "otp") are its claims, not checks Warden made.
      amr: ['fed'],
      upstreamAmr: Array.isArray(claims.amr) ? claims.amr.filter((a): a is string => typeof a === 'string').slice(0, 10) : undefined,
    };
  }

  /** GitHub: the user API says who; the e-mails API which address is primary and verified. */
  async function githubIdentity(config: oidc.Configuration, accessToken: string): Promise<UpstreamIdentity> {
    const headers = new Headers({ accept: 'application/vnd.github+json' });
    const user = (await (await oidc.fetchProtectedResource(config, accessToken, new URL(GITHUB.userEndpoint), 'GET', undefined, headers)).json()) as {
      id?: number;
      login?: string;
      name?: string | null;
    };
    if (typeof user.id !== 'number') throw new FederationError('no_subject', 'GitHub did not say who signed in.');
    const emails = (await (await oidc.fetchProtectedResource(config, accessToken, new URL(GITHUB.emailsEndpoint), 'GET', undefined, headers)).json()) as Array<{
      email: string;
      primary: boolean;
      verified: boolean;
    }>;
    const primary = Array.isArray(emails) ? (emails.find((e) => e.primary && e.verified) ?? emails.find((e) => e.primary)) : undefined;
    return { subject: String(user.id), email: primary?.email, emailVerified: primary?.verified === true, username: user.login, fullName: user.name ?? undefined, amr: ['fed'] };
  }

  async function uniqueUsername(base: string): Promise<string> {
    for (let i = 0; i < 20; i++) {
      const name = i === 0 ? base : `${base.slice(0, 24)}-${i < 10 ? i + 1 : randomBytes(3).toString('hex')}`;
      if (!(await findUserByUsername(w.db, name))) return name;
    }
    return `${base.slice(0, 20)}-${randomBytes(5).toString('hex')}`;
  }

  app.get(
    '/federation/:id/callback',
    { config: { access: BROWSER, page: true }, schema: { tags: ['oauth'], summary: "The upstream identity provider's redirect back (code, state)", params: IdParams, querystring: CallbackQuery } },
    async (request, reply) => {
      const { id } = request.params as Static<typeof IdParams>;
      const query = request.query as Record<string, string>;
      const handle = request.cookies[cookieName];
      reply.clearCookie(cookieName, { path: '/', secure: hooks.cookies.secure });
      const key = handle && handle.length <= 100 ? hashToken(handle) : undefined;
      const raw = key ? await w.state.get(`fed:tx:${key}`) : null;
      if (!key || !raw) return fail(request, reply, id, new FederationError('no_pending_sign_in', 'This sign-in has expired or did not start in this browser.'));
      // Single use: the first callback takes it, a replay (or a race) finds it taken.
      if (!(await w.state.setIfAbsent(`fed:used:${key}`, '1', TX_TTL_MS))) {
        return fail(request, reply, id, new FederationError('replayed_callback', 'This sign-in was already used.'));
      }
      await w.state.delete(`fed:tx:${key}`);
      const tx = JSON.parse(raw) as UpstreamTx;
      if (tx.providerId !== id) return fail(request, reply, id, new FederationError('no_pending_sign_in', 'This sign-in did not start with this provider.'));
      const provider = await providers.find(id);
      if (!provider) return fail(request, reply, id, new FederationError('unknown_provider', 'That sign-in option does not exist.'));
      if (typeof query.error === 'string') {
        return fail(request, reply, id, new FederationError('upstream_error', `${provider.name} did not sign you in.`, { error: query.error.replace(/[^a-z_]/g, '').slice(0, 64) }));
      }
      if (typeof query.state !== 'string' || !sameSecret(query.state, tx.state)) {
        return fail(request, reply, id, new FederationError('state_mismatch', 'The identity provider\'s answer does not belong to this sign-in.'));
      }
      const ix = await hooks.cookies.loadInteraction(tx.ix);
      const client = ix && (await hooks.clientOf(ix));
      if (!ix || !client) return fail(request, reply, id, new FederationError('interaction_invalid', 'This sign-in has expired; start again from the application.'));
      let identity: UpstreamIdentity;
      try {
        const config = await providers.clientConfig(provider);
        const search = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
        identity = await upstreamIdentity(provider, config, new URL(`${callbackUrl(id)}${search}`), tx);
      } catch (e) {
        if (e instanceof FederationError) return fail(request, reply, id, e);
        return fail(request, reply, id, new FederationError('provider_unreachable', `${provider.name} cannot be reached right now.`));
      }
      const ctx = requestContext(request);
      const now = new Date(w.clock.now());

      // 1. A known link signs its user in.
      const [link] = await w.db
        .select()
        .from(userIdentities)
        .where(and(eq(userIdentities.providerId, id), eq(userIdentities.subject, identity.subject)));
      if (link) {
        const user = await findUserById(w.db, link.userId);
        if (!user || user.disabled) return fail(request, reply, id, new FederationError('account_disabled', 'This account cannot sign in.'), link.userId);
        await w.db.update(userIdentities).set({ lastUsedAt: now }).where(eq(userIdentities.id, link.id));
        await w.audit.record(w.db, { type: 'federation.signed_in', subjectId: user.id, details: { provider_id: id, ...(identity.upstreamAmr ? { upstream_amr: identity.upstreamAmr } : {}) } }, ctx);
        return hooks.signIn(request, reply, client, ix, user, identity.amr);
      }

      // 2. A local account holds the address: linked only on a verified address and the user's password.
      const local = identity.email ? await findUserByEmailKey(w.db, await emailKey(w.db, identity.email)) : undefined;
      if (local) {
        if (!identity.emailVerified) {
          return fail(request, reply, id, new FederationError('unverified_email_matches_account', `${provider.name} has not verified your e-mail address, and a Warden account already uses it: sign in with your password.`), local.id);
        }
        if (local.disabled) return fail(request, reply, id, new FederationError('account_disabled', 'This account cannot sign in.'), local.id);
        (ix as Interaction & { link?: PendingLink }).link = {
          providerId: id,
          providerName: provider.name,
          subject: identity.subject,
          email: identity.email!,
          userId: local.id,
          amr: identity.amr,
        };
        await hooks.cookies.saveInteraction(ix);
        await w.audit.record(w.db, { type: 'federation.link_proposed', subjectId: local.id, details: { provider_id: id } }, ctx);
        return hooks.sendPage(reply.header('cache-control', 'no-store'), 200, linkPage({ ix: ix.id, csrf: ix.csrf, providerName: provider.name, username: local.username }));
      }

      // 3. Nobody: a new account while registration is open.
      if (w.config.REGISTRATION !== 'open') {
        return fail(request, reply, id, new FederationError('registration_closed', 'No account is linked to this sign-in, and new accounts cannot be created here.'));
      }
      if (!identity.email) return fail(request, reply, id, new FederationError('no_email', `${provider.name} did not share an e-mail address, which a new account needs.`));
      const user = await w.users.create(
        {
          username: await uniqueUsername(usernameBase(identity)),
          email: identity.email,
          // Nobody knows it: the account signs in through the provider (or after a password reset).
          password: randomBytes(32).toString('base64url'),
          fullName: identity.fullName?.slice(0, 200) ?? null,
          emailVerified: identity.emailVerified,
        },
        ctx,
      );
      await w.db.insert(userIdentities).values({ providerId: id, subject: identity.subject, userId: user.id, email: identity.email, createdAt: now, lastUsedAt: now });
      await w.audit.record(w.db, { type: 'federation.linked', subjectId: user.id, details: { provider_id: id, how: 'new_account', email_verified: identity.emailVerified } }, ctx);
      return hooks.signIn(request, reply, client, ix, user, identity.amr);
    },
  );
}

/**
 * POST /authorize action=link: the local password confirms a proposed link (the upstream address was
 * verified; the user proves they hold the local account). Then the user is signed in as that account.
 */
export async function confirmLink(
  w: Warden,
  hooks: AuthorizeHooks,
  request: FastifyRequest,
  reply: FastifyReply,
  client: OAuthClient,
  ix: Interaction,
  body: { password?: string | undefined; decision?: string | undefined },
) {
  const pending = (ix as Interaction & { link?: PendingLink }).link;
  if (!pending) return hooks.sendPage(reply, 400, errorPage('Sign-in expired', 'There is no account link to confirm.'));
  const ctx = requestContext(request);
  const drop = async () => {
    delete (ix as Interaction & { link?: PendingLink }).link;
    await hooks.cookies.saveInteraction(ix);
  };
  if (body.decision === 'cancel') {
    await drop();
    return hooks.sendPage(reply, 200, errorPage('Not linked', 'Nothing was linked. Return to the application to sign in with your password.'));
  }
  const user = await findUserById(w.db, pending.userId);
  if (!user) {
    await drop();
    return hooks.sendPage(reply, 400, errorPage('Sign-in expired', 'The account was removed.'));
  }
  const again = (error: string) => hooks.sendPage(reply, 400, linkPage({ ix: ix.id, csrf: ix.csrf, providerName: pending.providerName, username: user.username, error }));
  if (!body.password) return again('Enter the password of this account.');
  try {
    // Lockout, disabled accounts and failure audits as for any password sign-in.
    const checked = await w.users.authenticate(user.username, body.password, ctx);
    if (checked.id !== user.id) throw new LoginError('bad_password', user);
  } catch (e) {
    if (!(e instanceof LoginError)) throw e;
    await w.audit.record(w.db, { type: 'federation.failed', subjectId: user.id, details: { provider_id: pending.providerId, reason: 'link_password_wrong' } }, ctx);
    return again('That password is not right.');
  }
  await drop();
  const now = new Date(w.clock.now());
  await w.db
    .insert(userIdentities)
    .values({ providerId: pending.providerId, subject: pending.subject, userId: user.id, email: pending.email, createdAt: now, lastUsedAt: now })
    .onConflictDoNothing();
  await w.audit.record(w.db, { type: 'federation.linked', subjectId: user.id, details: { provider_id: pending.providerId, how: 'confirmed_with_password' } }, ctx);
  return hooks.signIn(request, reply, client, ix, user, [...pending.amr, 'pwd']);
}
