import type { FastifyRequest } from 'fastify';
import type { RequestContext } from '../audit/audit-log.js';
import type { Warden } from '../warden.js';
import type { OAuthRegistry } from './registry.js';

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
