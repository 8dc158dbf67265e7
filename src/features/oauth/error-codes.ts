import type { CatalogueEntry } from '../../kernel/error-catalogue.js';

/**
 * The error codes only the OAuth feature (client registration and the authorization endpoint) answers
 * with. Codes the kernel or platform raise, or several features share, are in
 * src/kernel/error-catalogue.ts; src/app/error-catalogue.ts makes the one catalogue clients read (GET
 * /docs/errors, docs/errors.md) from the kernel's and every feature's.
 */
export const OAUTH_ERROR_CODES = {
  invalid_client_metadata: {
    family: ['problem'],
    status: [422],
    title: 'Invalid client metadata',
    text: 'A field of the client registration (RFC 7591) is not acceptable: the authorization code grant without a redirect URI, client_credentials for a public client, the password grant for a third-party client, a response type without its grant, an unknown scope, or an API or scope that does not exist. `errors` names each field.',
  },
  invalid_redirect_uri: {
    family: ['problem'],
    status: [422],
    title: 'Invalid redirect URI',
    text: 'A redirect URI of the client is not acceptable: not absolute, with a fragment or user information, plain http:// to a host other than loopback, or a dangerous scheme (such as javascript:). Register exact https:// URIs, http://127.0.0.1 for native apps, or a private-use scheme (RFC 8252).',
  },
  public_client: {
    family: ['problem'],
    status: [422],
    title: 'Public client',
    text: 'The operation needs a client secret and this client is public (it has none, by design: a mobile app or SPA cannot keep one). Nothing to rotate; register a confidential client for server-side use.',
  },
  reserved_client: {
    family: ['problem'],
    status: [409],
    title: 'Reserved client',
    text: 'The client `warden` is Warden\'s own first-party client (the password grant without a client uses it) and cannot be deleted.',
  },
  unsupported_response_type: {
    family: ['oauth'],
    status: [],
    title: 'Unsupported response type',
    text: 'Sent to the client\'s redirect URI: only `response_type=code` (the authorization code flow with PKCE) is supported. Implicit and hybrid flows are not.',
  },
  request_not_supported: {
    family: ['oauth'],
    status: [],
    title: 'Request objects not supported',
    text: 'Sent to the client\'s redirect URI: the `request` parameter (a signed request object) is not supported. Send the parameters in the query string.',
  },
  request_uri_not_supported: {
    family: ['oauth'],
    status: [],
    title: 'request_uri not supported',
    text: 'Sent to the client\'s redirect URI: the `request_uri` parameter is not supported. Send the parameters in the query string.',
  },
  login_required: {
    family: ['oauth'],
    status: [],
    title: 'Login required',
    text: 'Sent to the client\'s redirect URI: the request asked for `prompt=none` and the user is not signed in. Send the user through the authorization request without `prompt=none`.',
  },
  consent_required: {
    family: ['oauth'],
    status: [],
    title: 'Consent required',
    text: 'Sent to the client\'s redirect URI: the request asked for `prompt=none` and the user has not yet granted these scopes to the client. Send the user through the authorization request without `prompt=none`.',
  },
  interaction_required: {
    family: ['oauth'],
    status: [],
    title: 'Interaction required',
    text: 'Sent to the client\'s redirect URI: the request asked for `prompt=none`, but this client (a private-use redirect URI, which another app could claim) needs the user to confirm every authorization. Send the user through the authorization request without `prompt=none`.',
  },
  account_selection_required: {
    family: ['oauth'],
    status: [],
    title: 'Account selection required',
    text: 'Sent to the client\'s redirect URI: the request asked for `prompt=select_account`, which Warden does not offer (one browser signs in one account; discovery\'s `prompt_values_supported` lists what is honoured). Send the request without `select_account`, or with `prompt=login` to let the user sign in as someone else.',
  },
  access_denied: {
    family: ['oauth'],
    status: [],
    title: 'Access denied',
    text: 'Sent to the client\'s redirect URI: the user declined the request on the consent page. Nothing is wrong with the request; tell the user.',
  },
} as const satisfies Record<string, CatalogueEntry>;

// Adds these codes to ErrorCodes, so ProblemError and OAuthError accept them (ProblemCode, OAuthErrorCode).
declare module '../../kernel/error-catalogue.js' {
  interface ErrorCodes {
    readonly oauth: typeof OAUTH_ERROR_CODES;
  }
}
