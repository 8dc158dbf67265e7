import type { OAuthClient } from '../clients/service.js';
import { OAuthError } from '../../../kernel/errors.js';
import type { Warden } from '../../../kernel/warden.js';
import { FIRST_PARTY_SCOPES } from '../scopes.js';
import type { AccessCatalog } from '../../apis/catalog.js';
import { decideScopes, selectApi, storedResource } from '../../apis/resources.js';
import type { AuthorizationRequest } from './session.js';
import type { OAuthErrorCode } from '../../../kernel/error-catalogue.js';

/** A problem that must not be sent to the redirect URI (it is not trusted yet): shown as a page. */
export class AuthorizePageError extends Error {
  constructor(
    readonly title: string,
    message: string,
  ) {
    super(message);
    this.name = 'AuthorizePageError';
  }
}

/** A problem reported to the client at its (verified) redirect URI, RFC 6749 §4.1.2.1. */
export class AuthorizeRedirectError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
  ) {
    super(description);
    this.name = 'AuthorizeRedirectError';
  }
}

export type Query = Record<string, string | string[] | undefined>;

/** §3.1: a parameter must not repeat; an empty one counts as absent. */
function single(q: Query, name: string, onRepeat: () => Error): string | undefined {
  const v = q[name];
  if (Array.isArray(v)) throw onRepeat();
  return v === '' ? undefined : v;
}

const redirectError = (error: OAuthErrorCode, description: string) => new AuthorizeRedirectError(error, description);

/** The client must exist. */
export async function checkClient(w: Warden, q: Query): Promise<OAuthClient> {
  const clientId = single(q, 'client_id', () => new AuthorizePageError('Invalid request', 'client_id is repeated'));
  if (!clientId) throw new AuthorizePageError('Invalid request', 'The request names no client (client_id is missing).');
  const client = await w.clients.find(clientId);
  if (!client) throw new AuthorizePageError('Unknown application', 'No application is registered with this client_id.');
  return client;
}

/**
 * Exact string match against a registered URI (Security BCP §4.1.3: no prefix or pattern matching —
 * those are how codes get sent to an attacker). Failure never redirects.
 */
export function checkRedirectUri(client: OAuthClient, q: Query): string {
  const uri = single(q, 'redirect_uri', () => new AuthorizePageError('Invalid request', 'redirect_uri is repeated'));
  if (!uri) throw new AuthorizePageError('Invalid request', 'redirect_uri is missing.');
  if (!client.redirectUris.includes(uri)) throw new AuthorizePageError('Invalid redirect URI', 'This redirect_uri is not registered for the application.');
  return uri;
}

export function checkResponseType(client: OAuthClient, q: Query) {
  const rt = single(q, 'response_type', () => redirectError('invalid_request', 'response_type is repeated'));
  if (!rt) throw redirectError('invalid_request', 'response_type is required');
  if (rt !== 'code') throw redirectError('unsupported_response_type', 'only response_type=code is supported');
  if (!client.grantTypes.includes('authorization_code')) throw redirectError('unauthorized_client', 'this client may not use the authorization code flow');
  const mode = single(q, 'response_mode', () => redirectError('invalid_request', 'response_mode is repeated'));
  if (mode !== undefined && mode !== 'query') throw redirectError('invalid_request', 'only response_mode=query is supported');
  if (q.request !== undefined) throw redirectError('request_not_supported', 'request objects are not supported');
  if (q.request_uri !== undefined) throw redirectError('request_uri_not_supported', 'request_uri is not supported');
}

/**
 * PKCE (RFC 7636) is required of every client, S256 only: a missing method means "plain" (§4.3), so it
 * is refused too. The challenge is stored with the code; the token request cannot change it.
 */
export function checkPkce(q: Query): string {
  const challenge = single(q, 'code_challenge', () => redirectError('invalid_request', 'code_challenge is repeated'));
  const method = single(q, 'code_challenge_method', () => redirectError('invalid_request', 'code_challenge_method is repeated'));
  if (!challenge) throw redirectError('invalid_request', 'code_challenge is required (PKCE with S256)');
  if (method !== 'S256') throw redirectError('invalid_request', 'code_challenge_method must be S256 (plain is not accepted)');
  if (!/^[A-Za-z0-9_-]{43}$/.test(challenge)) throw redirectError('invalid_request', 'code_challenge is not a base64url SHA-256 value');
  return challenge;
}

/**
 * A third-party client asking for `account` or `admin` is refused (invalid_scope), whatever it was
 * registered with; a first-party client that asks for nothing also gets `account` (and `admin`, which
 * is dropped at issuance unless the user holds the admin role: issueUserTokens).
 */
export function checkScope(client: OAuthClient, q: Query, catalog: AccessCatalog): { scopes: string[]; resource: string | undefined } {
  const scope = single(q, 'scope', () => redirectError('invalid_request', 'scope is repeated'));
  try {
    // RFC 8707 §2: `resource` (or Auth0's `audience`) names the API; unknown → invalid_target.
    const api = selectApi(catalog, { resource: q.resource, audience: q.audience });
    const fallback = api.builtIn ? (client.firstParty ? ['openid', ...FIRST_PARTY_SCOPES] : ['openid']) : ['openid', ...api.scopes.map((s) => s.name)];
    // The user's roles narrow this further once they have signed in (routes.ts, before consent).
    const scopes = decideScopes(catalog, { api, requested: scope, fallback, client, subject: { kind: 'user', roles: undefined }, refuseEmpty: true });
    return { scopes, resource: storedResource(api) ?? undefined };
  } catch (e) {
    if (e instanceof OAuthError) throw redirectError(e.error, e.description);
    throw e;
  }
}

const PROMPTS = new Set(['none', 'login', 'consent', 'select_account']);
export function checkPrompt(q: Query): string[] {
  const prompt = (single(q, 'prompt', () => redirectError('invalid_request', 'prompt is repeated')) ?? '').split(' ').filter(Boolean);
  if (prompt.some((p) => !PROMPTS.has(p))) throw redirectError('invalid_request', 'unknown prompt value');
  if (prompt.includes('none') && prompt.length > 1) throw redirectError('invalid_request', 'prompt=none cannot be combined with other values');
  // OIDC Core §3.1.2.1: an OP that cannot obtain an account choice MUST answer with an error. A browser
  // holds one sign-in here, so there is nothing to choose from (prompt=login signs in as someone else).
  if (prompt.includes('select_account')) throw redirectError('account_selection_required', 'this server keeps one sign-in per browser; use prompt=login to sign in with another account');
  return prompt;
}

/**
 * OIDC Core §3.1.2.1 max_age: the most seconds since the user's sign-in; an older sign-in means a fresh
 * one (the login page, or login_required with prompt=none). A non-negative integer, or invalid_request.
 */
export function checkMaxAge(q: Query): number | undefined {
  const raw = single(q, 'max_age', () => redirectError('invalid_request', 'max_age is repeated'));
  if (raw === undefined) return undefined;
  if (!/^\d{1,10}$/.test(raw)) throw redirectError('invalid_request', 'max_age must be a non-negative integer (seconds)');
  return Number(raw);
}

/**
 * OIDC Core §5.5 `claims`: a JSON object whose `userinfo` and `id_token` members are objects. Checked,
 * then not acted on (discovery says claims_parameter_supported: false; §5.5 lets an OP ignore it): the
 * scopes decide the claims, and auth_time, which it can ask for, is in every id_token. Malformed:
 * invalid_request. `ui_locales` (§3.1.2.1, a preference) is accepted: the pages are in English.
 */
export function checkClaimsAndLocales(q: Query) {
  const claims = single(q, 'claims', () => redirectError('invalid_request', 'claims is repeated'));
  if (claims !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(claims);
    } catch {
      throw redirectError('invalid_request', 'claims is not valid JSON');
    }
    const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
    if (!isObject(parsed)) throw redirectError('invalid_request', 'claims must be a JSON object');
    for (const member of ['userinfo', 'id_token'] as const) {
      const m = (parsed as Record<string, unknown>)[member];
      if (m !== undefined && !isObject(m)) throw redirectError('invalid_request', `claims.${member} must be a JSON object`);
    }
  }
  const locales = single(q, 'ui_locales', () => redirectError('invalid_request', 'ui_locales is repeated'));
  if (locales !== undefined && locales.length > 200) throw redirectError('invalid_request', 'ui_locales is too long');
}

/**
 * Step one: what decides whether errors may be redirected at all. Anything wrong here is a page
 * (an open redirector otherwise). Returns the target for every later error.
 */
export async function checkClientAndRedirect(w: Warden, q: Query): Promise<{ client: OAuthClient; target: Pick<AuthorizationRequest, 'redirectUri' | 'state'> }> {
  const client = await checkClient(w, q);
  const redirectUri = checkRedirectUri(client, q);
  const state = single(q, 'state', () => new AuthorizePageError('Invalid request', 'state is repeated'));
  if (state !== undefined && state.length > 1000) throw new AuthorizePageError('Invalid request', 'state is too long');
  return { client, target: { redirectUri, state } };
}

/** Step two, each check named after what it stops; failures go back to the redirect URI. */
export function checkAuthorizationParams(
  client: OAuthClient,
  target: Pick<AuthorizationRequest, 'redirectUri' | 'state'>,
  q: Query,
  catalog: AccessCatalog,
): AuthorizationRequest {
  checkResponseType(client, q);
  const codeChallenge = checkPkce(q);
  const { scopes, resource } = checkScope(client, q, catalog);
  const prompt = checkPrompt(q);
  const maxAge = checkMaxAge(q);
  checkClaimsAndLocales(q);
  const nonce = single(q, 'nonce', () => redirectError('invalid_request', 'nonce is repeated'));
  if (nonce !== undefined && nonce.length > 500) throw redirectError('invalid_request', 'nonce is too long');
  return { clientId: client.clientId, redirectUri: target.redirectUri, state: target.state, scopes, resource, nonce, codeChallenge, prompt, maxAge };
}

/** RFC 6749 §4.1.2 / §4.1.2.1 response at the redirect URI, with `iss` (RFC 9207). */
export function redirectTo(w: Warden, req: Pick<AuthorizationRequest, 'redirectUri' | 'state'>, params: Record<string, string>): string {
  const u = new URL(req.redirectUri);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  if (req.state !== undefined) u.searchParams.set('state', req.state);
  u.searchParams.set('iss', w.config.issuer);
  return u.toString();
}
