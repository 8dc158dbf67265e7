import { hashToken, newOpaqueToken, sameSecret } from '../../../kernel/secrets.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { findSession } from '../../sessions/repository.js';
import { findUserById, type UserRecord } from '../../users/repository.js';
import type { Warden } from '../../../kernel/warden.js';

/**
 * A browser sign-in at the authorization server; lets the next authorization request skip the login
 * page. It is a session (`sid`, a sessions row) shared by every client that gets a code through it: once
 * that row is ended, the cookie signs nobody in.
 */
export interface LoginSession {
  sid: string;
  userId: string;
  /** Epoch ms of the password (and MFA) check: the id_token's auth_time. */
  authTime: number;
  amr: string[];
}

/** A validated authorization request, kept server-side while the user signs in and consents. */
export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  /** The API identifier asked for with `resource` (RFC 8707); absent: Warden's own API. */
  resource?: string | undefined;
  state: string | undefined;
  nonce: string | undefined;
  codeChallenge: string;
  prompt: string[];
  /** OIDC max_age (seconds): a sign-in older than this is not enough. */
  maxAge?: number | undefined;
}

export interface Interaction {
  id: string;
  /** Bound to the browser's CSRF cookie: every form post must carry it. */
  csrf: string;
  req: AuthorizationRequest;
  /** prompt=login: the existing session is not enough. Cleared once the user signs in here. */
  forceLogin: boolean;
  /** The sign-in made during this interaction: fresh enough for max_age, however long consent takes. */
  signedInSid?: string;
  /** Password checked, second factor still due. */
  pending?: { userId: string; authTime: number; login: string; mfaFailures: number; amr?: string[] };
  consented?: boolean;
  /**
   * A sign-in for one of Warden's own pages (the account page, src/features/account/account-page.ts) rather than
   * for a client: once signed in, the browser goes back to this path (set by the server, never taken
   * from the request) and no code is issued.
   */
  returnTo?: string;
}

/** How long a browser sign-in lasts (its cookie and state entry). */
export const SESSION_TTL_MS = 8 * 3600_000;
const INTERACTION_TTL_MS = 10 * 60_000;
const CSRF_TTL_S = 3600;


/**
 * Cookie names and attributes. Over https the `__Host-` prefix pins the cookie to this host and path /
 * with Secure (no subdomain can plant one). The login session is SameSite=Lax so it rides along on the
 * top-level redirect from the client to /authorize; the CSRF cookie is only needed by our own forms.
 */
export class BrowserCookies {
  readonly secure: boolean;
  readonly sessionName: string;
  readonly csrfName: string;

  constructor(private readonly w: Warden) {
    this.secure = w.config.issuer.startsWith('https://');
    const prefix = this.secure ? '__Host-' : '';
    this.sessionName = `${prefix}warden_session`;
    this.csrfName = `${prefix}warden_csrf`;
  }

  private opts(maxAgeS: number, sameSite: 'lax' | 'strict') {
    return { path: '/', httpOnly: true, secure: this.secure, sameSite, maxAge: maxAgeS } as const;
  }

  /** The browser's CSRF secret, created when absent (one per browser, so two tabs do not fight). */
  csrfToken(request: FastifyRequest, reply: FastifyReply): string {
    const existing = request.cookies[this.csrfName];
    const token = existing && /^[A-Za-z0-9_-]{43}$/.test(existing) ? existing : newOpaqueToken();
    reply.setCookie(this.csrfName, token, this.opts(CSRF_TTL_S, 'strict'));
    return token;
  }

  /** Form token, cookie and interaction must all agree (synchroniser token bound to a cookie). */
  csrfValid(request: FastifyRequest, ix: Pick<Interaction, 'csrf'>, formToken: string | undefined): boolean {
    const cookie = request.cookies[this.csrfName];
    if (!cookie || !formToken) return false;
    return sameSecret(formToken, ix.csrf) && sameSecret(cookie, ix.csrf);
  }

  async loadSession(request: FastifyRequest): Promise<LoginSession | undefined> {
    const id = request.cookies[this.sessionName];
    if (!id || id.length > 100) return undefined;
    const raw = await this.w.state.get(`authz:session:${hashToken(id)}`);
    if (!raw) return undefined;
    const s = JSON.parse(raw) as LoginSession;
    // A cookie session from before sessions had ids is not a session that can be ended: sign in again.
    if (typeof s.sid !== 'string') return undefined;
    return this.w.clock.now() - s.authTime < SESSION_TTL_MS ? s : undefined;
  }

  /** A new id on every sign-in (no session fixation); only its hash is stored. */
  async startSession(reply: FastifyReply, s: LoginSession): Promise<void> {
    const id = newOpaqueToken();
    await this.w.state.set(`authz:session:${hashToken(id)}`, JSON.stringify(s), SESSION_TTL_MS);
    reply.setCookie(this.sessionName, id, this.opts(SESSION_TTL_MS / 1000, 'lax'));
  }

  async endSession(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const id = request.cookies[this.sessionName];
    if (id) await this.w.state.delete(`authz:session:${hashToken(id)}`);
    reply.clearCookie(this.sessionName, { path: '/', secure: this.secure });
  }

  async newInteraction(csrf: string, req: AuthorizationRequest, forceLogin: boolean, returnTo?: string): Promise<Interaction> {
    const ix: Interaction = { id: newOpaqueToken(), csrf, req, forceLogin, ...(returnTo ? { returnTo } : {}) };
    await this.saveInteraction(ix);
    return ix;
  }

  async saveInteraction(ix: Interaction): Promise<void> {
    await this.w.state.set(`authz:ix:${ix.id}`, JSON.stringify(ix), INTERACTION_TTL_MS);
  }

  async loadInteraction(id: string | undefined): Promise<Interaction | undefined> {
    if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
    const raw = await this.w.state.get(`authz:ix:${id}`);
    return raw ? (JSON.parse(raw) as Interaction) : undefined;
  }

  async dropInteraction(ix: Interaction): Promise<void> {
    await this.w.state.delete(`authz:ix:${ix.id}`);
  }
}

/**
 * Is a browser sign-in still good: its session not ended (a revoked refresh token of it, reuse, the user
 * or an admin ending it, any user-wide end), the user exists, is enabled, and has not been logged out
 * since? The one rule for /authorize and the account page.
 */
export async function liveSessionUser(w: Warden, session: LoginSession | undefined): Promise<UserRecord | undefined> {
  if (!session) return undefined;
  const row = await findSession(w.db, session.sid);
  if (!row || row.endedAt || row.userId !== session.userId) return undefined;
  const user = await findUserById(w.db, session.userId);
  if (!user || user.disabled || session.authTime < user.tokensValidAfter.getTime()) return undefined;
  return user;
}
