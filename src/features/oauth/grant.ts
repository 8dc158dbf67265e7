import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RequestContext } from '../audit/audit-log.js';
import type { Warden } from '../../kernel/warden.js';
import { invalidRequest } from '../../kernel/errors.js';
import type { UserRecord } from '../users/repository.js';
import type { Api } from '../apis/repository.js';
import type { IssuedRefresh } from '../tokens/refresh-token.js';

/** The token endpoint's parameters (RFC 6749 §4), form-encoded. */
export type TokenParams = Record<string, string | undefined>;

/** The client that called the token endpoint, after client authentication (none for an anonymous first-party call). */
export interface TokenClient {
  clientId: string;
  type: 'public' | 'confidential';
  firstParty: boolean;
  grantTypes: readonly string[];
  scope: readonly string[];
  /** What it may ask for at each API (RFC 8707 resources), by identifier. */
  resources: Readonly<Record<string, readonly string[]>>;
  /** Authenticated with a secret (confidential) rather than just named. */
  authenticated: boolean;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token?: string;
  scope?: string;
  id_token?: string;
}

export interface GrantContext {
  params: TokenParams;
  client: TokenClient | undefined;
  ctx: RequestContext;
  request: FastifyRequest;
  warden: Warden;
  /** This app's grants, password-grant steps and token-response extensions. */
  oauth: OAuthRegistry;
}

/** One grant type (RFC 6749 §4): a module in grants/, registered by name. */
export type GrantHandler = (g: GrantContext) => Promise<TokenResponse>;

export interface IssueForUser {
  user: UserRecord;
  clientId: string | null;
  scopes: string[];
  /** The API the token is for (RFC 8707): its `aud` and lifetime; absent: Warden's own. */
  api?: Api | undefined;
  grant: string;
  authTime: Date;
  /** The session the tokens belong to (their `sid`): a rotation's, or the /authorize sign-in's of a code. */
  sessionId?: string | null | undefined;
  /** The session's sign-in methods (the id_token's amr/acr) when the caller has them at hand; else read from the session. */
  amr?: readonly string[] | undefined;
  /** Start a session with these tokens (a password or MFA grant is a sign-in of its own). */
  newSession?: { amr: readonly string[]; ctx: RequestContext } | undefined;
  /** Issue a refresh token (offline_access, or a first-party login). */
  withRefresh: boolean;
  /** The refresh token the caller already wrote (a rotation): answered, not created. */
  issuedRefresh?: IssuedRefresh | undefined;
  nonce?: string | undefined;
  /** The app's hooks that add to the response (its OAuthRegistry's; OpenID Connect adds id_token). */
  responseExtensions: readonly TokenResponseExtension[];
}

/** Hooks that add to a token response, registered per app (OAuthRegistry.addTokenResponseExtension). */
export type TokenResponseExtension = (w: Warden, req: IssueForUser, res: TokenResponse) => Promise<void>;

/** Hooks that may interrupt a successful password check (MFA answers mfa_required); per app, in OAuthRegistry. */
export type PasswordGrantStep = (g: GrantContext, user: UserRecord, scopes: string[]) => Promise<void>;

/** Client authentication for the token endpoint (client_secret_basic / client_secret_post / none). */
export type ClientAuthenticator = (request: FastifyRequest, params: TokenParams, w: Warden) => Promise<TokenClient | undefined>;

/** Without the OAuth client registry only anonymous first-party calls exist. */
const anonymousOnly: ClientAuthenticator = async (request, params) => {
  if (params.client_id || params.client_secret || request.headers.authorization) {
    throw invalidRequest('client authentication is not available');
  }
  return undefined;
};

declare module 'fastify' {
  interface FastifyInstance {
    /** This app's grant types, client authentication, password-grant steps and token-response hooks. */
    oauth: OAuthRegistry;
  }
}

/**
 * The token endpoint's extension points, one set per app (decorated as `app.oauth`): the features an
 * app is built with register into it (as node-oidc-provider's registerGrantType), so two apps in one
 * process (tests, a CLI beside a server) never see each other's grants, steps or hooks.
 */
export class OAuthRegistry {
  readonly #grants = new Map<string, GrantHandler>();
  #authenticate: ClientAuthenticator = anonymousOnly;
  readonly #responseExtensions: TokenResponseExtension[] = [];
  readonly #passwordSteps: PasswordGrantStep[] = [];

  /** A grant type (RFC 6749 §4) by its `grant_type` value; registering one twice is a wiring mistake. */
  registerGrantType(name: string, handler: GrantHandler): void {
    if (this.#grants.has(name)) throw new Error(`grant type ${name} is registered twice`);
    this.#grants.set(name, handler);
  }

  grantType(name: string): GrantHandler | undefined {
    return this.#grants.get(name);
  }

  /** The registered grant types, in registration order (discovery's grant_types_supported). */
  grantTypes(): string[] {
    return [...this.#grants.keys()];
  }

  /** The OAuth client registry replaces the anonymous-only default. */
  useClientAuthentication(authenticate: ClientAuthenticator): void {
    this.#authenticate = authenticate;
  }

  authenticateClient(request: FastifyRequest, params: TokenParams, w: Warden): Promise<TokenClient | undefined> {
    return this.#authenticate(request, params, w);
  }

  /** A hook that adds to every user token response of this app (OpenID Connect adds id_token). */
  addTokenResponseExtension(extension: TokenResponseExtension): void {
    if (!this.#responseExtensions.includes(extension)) this.#responseExtensions.push(extension);
  }

  get tokenResponseExtensions(): readonly TokenResponseExtension[] {
    return this.#responseExtensions;
  }

  /** A step after a correct password that may interrupt the password grant (MFA answers mfa_required). */
  addPasswordGrantStep(step: PasswordGrantStep): void {
    if (!this.#passwordSteps.includes(step)) this.#passwordSteps.push(step);
  }

  get passwordGrantSteps(): readonly PasswordGrantStep[] {
    return this.#passwordSteps;
  }
}

/** `app.oauth`, a fresh registry per app: the token endpoint, the OAuth server and the MFA grant register into it. */
export const oauthRegistryPlugin = fp(
  async (app: FastifyInstance) => {
    app.decorate('oauth', new OAuthRegistry());
  },
  { name: 'warden-oauth-registry', fastify: '5.x' },
);
