import type { FastifyRequest } from 'fastify';
import { invalidRequest } from '../http/errors.js';
import type { Warden } from '../warden.js';
import type { GrantHandler, TokenClient, TokenParams } from './grant.js';
import type { PasswordGrantStep } from './grants/password.js';
import type { TokenResponseExtension } from './issue.js';

/** Client authentication for the token endpoint (client_secret_basic / client_secret_post / none). */
export type ClientAuthenticator = (request: FastifyRequest, params: TokenParams, w: Warden) => Promise<TokenClient | undefined>;

/** Without the OAuth client registry only anonymous first-party calls exist. */
const anonymousOnly: ClientAuthenticator = async (request, params) => {
  if (params.client_id || params.client_secret || request.headers.authorization) {
    throw invalidRequest('client authentication is not available');
  }
  return undefined;
};

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
