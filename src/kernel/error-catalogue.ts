/**
 * The error codes: the problem codes of RFC 9457 answers (whose `type` is
 * `{PUBLIC_URL}/docs/errors#<code>`) and the RFC 6749 error codes of the OAuth endpoints and of the
 * authorization endpoint's redirects, each with its statuses, title and explanation.
 *
 * This module holds the codes the kernel and the platform raise themselves and the codes several
 * features share; a code only one feature answers with is in that feature's `error-codes.ts`, which
 * adds it to `ErrorCodes` by declaration merging. ProblemError / OAuthError accept only codes of
 * `ErrorCodes` (ProblemCode, OAuthErrorCode): a new code does not compile until it is explained.
 * src/app/error-catalogue.ts composes the one catalogue clients read (GET /docs/errors, docs/errors.md).
 */

/** `problem`: an application/problem+json answer; `oauth`: `{"error", "error_description"}` or an authorization redirect. */
export type ErrorFamily = 'problem' | 'oauth';

export interface CatalogueEntry {
  readonly family: readonly ErrorFamily[];
  /** The HTTP statuses it comes with; empty when it only travels in a redirect to the client. */
  readonly status: readonly number[];
  readonly title: string;
  /** What causes it and what fixes it: one paragraph. */
  readonly text: string;
}

const P = ['problem'] as const;
const O = ['oauth'] as const;
const PO = ['problem', 'oauth'] as const;

export const KERNEL_ERROR_CODES = {
  // Requests the HTTP layer refuses before any route runs.
  not_found: {
    family: P,
    status: [404],
    title: 'Not found',
    text: 'No route answers this method and path, or the object named in the path (a user, client, item, API, role or scope) does not exist — or, for per-user objects such as items, belongs to someone else (answered the same, so that its existence is not revealed). Check the path against /docs and the id you sent.',
  },
  validation_failed: {
    family: P,
    status: [422],
    title: 'Validation failed',
    text: 'The body, query string or path does not match the route\'s schema: a field is missing, has the wrong type or length, or is not an allowed field at all (unknown fields are refused, never ignored). `errors` lists each failing field and why; fix those fields and send again.',
  },
  invalid_input: {
    family: P,
    status: [400],
    title: 'Value cannot be stored',
    text: 'A value in the request passed validation but the database cannot store or compare it (for example a NUL character or a lone UTF-16 surrogate that slipped past the input guard). Remove the character; if a normal value gets this answer, report it: the route lacks a validation rule.',
  },
  invalid_cursor: {
    family: P,
    status: [400],
    title: 'Invalid cursor',
    text: 'The `cursor` query parameter of a list is not one this server handed out (it was changed, truncated, or comes from another list). Start again without `cursor` and pass back the `next_cursor` of the previous page unchanged.',
  },
  malformed_json: {
    family: P,
    status: [400],
    title: 'Malformed JSON',
    text: 'The body was sent as `application/json` but is not valid JSON. Check quoting and commas, and that the client serialises the body instead of sending an object\'s string form.',
  },
  empty_body: {
    family: P,
    status: [400],
    title: 'Empty JSON body',
    text: 'The request says `Content-Type: application/json` but has no body. Send a JSON object, or drop the Content-Type header on a request that needs no body.',
  },
  missing_content_type: {
    family: P,
    status: [400],
    title: 'Content-Type missing',
    text: 'The request has a body but no Content-Type header. Send `Content-Type: application/json` (or `application/x-www-form-urlencoded` on the OAuth endpoints).',
  },
  bad_content_type: {
    family: P,
    status: [400],
    title: 'Content-Type not valid',
    text: 'The Content-Type header cannot be parsed. Send a plain media type such as `application/json`.',
  },
  bad_content_length: {
    family: P,
    status: [400],
    title: 'Content-Length mismatch',
    text: 'The Content-Length header does not match the body that arrived, usually a client or proxy bug. Let the HTTP client compute the header.',
  },
  unsupported_media_type: {
    family: P,
    status: [415],
    title: 'Unsupported media type',
    text: 'This route does not accept the body\'s Content-Type. Warden\'s API takes `application/json`; /token, /revoke and /introspect take `application/x-www-form-urlencoded`.',
  },
  body_too_large: {
    family: P,
    status: [413],
    title: 'Body too large',
    text: 'The body is larger than BODY_LIMIT (64 KiB by default). Send less; an operator can raise BODY_LIMIT (and the proxy\'s limit in front of Warden).',
  },
  uri_too_long: {
    family: P,
    status: [414],
    title: 'URI too long',
    text: 'The request target (path and query string) is longer than Warden accepts. Send large values in a body instead of the query string.',
  },
  method_not_allowed: {
    family: P,
    status: [405],
    title: 'Method not allowed',
    text: 'The route exists but not with this HTTP method. Check the method in /docs.',
  },
  request_refused: {
    family: P,
    status: [400],
    title: 'Request refused',
    text: 'The HTTP layer refused the request for a reason with no more specific code (for example a path that is not valid URL syntax); the status and `detail` say which. Fix the request as they say.',
  },
  rate_limited: {
    family: P,
    status: [429],
    title: 'Too many requests',
    text: 'This address (or, for the account endpoints, this account or e-mail address) sent more requests than the rate limit allows within the window (RATE_LIMIT_* settings). Wait the seconds `Retry-After` gives. Behind a proxy, a limit reached by everyone at once means TRUSTED_PROXIES is not set, so every client looks like the proxy.',
  },
  internal_error: {
    family: P,
    status: [500],
    title: 'Internal error',
    text: 'Something unexpected failed inside Warden; the answer says nothing more on purpose. The server log has the details under the same `x-request-id` the answer carries: give that id to the operator.',
  },
  overloaded: {
    family: P,
    status: [503],
    title: 'Busy hashing passwords',
    text: 'More password hashes are waiting than HASH_QUEUE allows, so Warden sheds the request instead of letting every login slow down. Retry after `Retry-After` seconds; sustained, add cores or instances, or lower ARGON2_* costs.',
  },
  temporarily_unavailable: {
    family: PO,
    status: [503],
    title: 'Temporarily unavailable',
    text: 'Warden cannot reach its shared state store (Redis) or is busy, and refuses what it cannot do safely — a password login without a working lockout counter, for instance — rather than guess. Retry after `Retry-After` seconds; operators: /readyz says what is unreachable.',
  },
  audit_unavailable: {
    family: P,
    status: [503],
    title: 'Audit log unavailable',
    text: 'The route\'s data is sensitive and every access to it is recorded; the record could not be written, so the data is withheld. Retry shortly; operators: check the database.',
  },

  // Authentication and authorization of API routes.
  missing_token: {
    family: P,
    status: [401],
    title: 'Authentication required',
    text: 'The route needs an access token and the request has none. Send `Authorization: Bearer <access_token>` with a token from POST /token.',
  },
  invalid_token: {
    family: P,
    status: [401],
    title: 'Invalid token',
    text: 'The bearer token is malformed, expired, revoked, signed by an unknown key, for another audience, not an access token (an id_token), or its user is disabled or was logged out. Get a new one (refresh or sign in again); `WWW-Authenticate` carries the reason.',
  },
  insufficient_scope: {
    family: P,
    status: [403],
    title: 'Insufficient scope',
    text: 'The token is valid but was not granted the scope this route needs (named in `detail` and in `WWW-Authenticate`). Ask for that scope when getting the token (`scope=…`); the user\'s roles must allow it.',
  },

  // Users and accounts (raised by several features).
  registration_closed: {
    family: P,
    status: [403],
    title: 'Registration closed',
    text: 'This server does not let the public register (REGISTRATION=closed). An administrator creates accounts instead (POST /admin/users, `warden user create`).',
  },
  email_taken: {
    family: P,
    status: [409],
    title: 'E-mail address taken',
    text: 'Another account already uses this e-mail address. Sign in to that account, or reset its password with POST /password/forgot.',
  },
  wrong_password: {
    family: P,
    status: [422],
    title: 'Wrong password',
    text: 'The current password sent to confirm a sensitive change (a password or e-mail change, removing MFA) is not correct. Send the account\'s current password.',
  },
  current_password_required: {
    family: P,
    status: [422],
    title: 'Current password required',
    text: 'Changing the e-mail address or adding a passkey needs `current_password` as well (or a sign-in within the last 5 minutes), so that a stolen access token alone cannot take the account over. Send it with the change.',
  },
  unknown_role: {
    family: P,
    status: [422],
    title: 'Unknown role',
    text: 'A role named in the request is not defined on this server. Use a built-in role (admin, user, guest) or create the role first (POST /admin/roles, `warden role create`).',
  },

  // RFC 6749 and its extensions: /token, /revoke, /introspect, and the authorization endpoint's redirects.
  invalid_request: {
    family: O,
    status: [400],
    title: 'Invalid request',
    text: 'A required parameter is missing, repeated or malformed (for example no `grant_type`, a JSON body where a form is required, a `code_verifier` of the wrong length, PKCE without S256). `error_description` names the parameter.',
  },
  invalid_client: {
    family: O,
    status: [401],
    title: 'Client authentication failed',
    text: 'The client is unknown, its secret is wrong, or it authenticated in a way it may not (a secret for a public client, two methods at once). Check client_id and client_secret (HTTP Basic or form fields, not both); a rotated secret replaces the old one at once.',
  },
  invalid_grant: {
    family: O,
    status: [400],
    title: 'Invalid grant',
    text: 'The credentials of the grant are not good: a wrong username or password (deliberately not saying which), a locked or disabled account, an unverified e-mail when one is required, an authorization code or refresh token that is unknown, expired, already used or issued to another client or redirect URI. Sign in again; a reused refresh token ends its whole session.',
  },
  unauthorized_client: {
    family: O,
    status: [400],
    title: 'Client not allowed this grant',
    text: 'The client is known but not registered for this grant type or flow (for example the password grant for a third-party client, client_credentials for a public client). Register the grant type on the client, or use the flow it was registered for.',
  },
  unsupported_grant_type: {
    family: O,
    status: [400],
    title: 'Unsupported grant type',
    text: 'The `grant_type` is not one Warden supports, or the password grant is turned off (PASSWORD_GRANT=disabled). Supported: password, refresh_token, authorization_code, client_credentials, urn:warden:mfa.',
  },
  invalid_scope: {
    family: O,
    status: [400],
    title: 'Invalid scope',
    text: 'A requested scope is unknown, not allowed for this client or user, wider than the original grant (on refresh), or reserved (user scopes for a client acting for itself, first-party scopes for a third party). Ask only for scopes the API defines and the client and user may have.',
  },
  invalid_target: {
    family: O,
    status: [400],
    title: 'Invalid resource',
    text: 'The `resource` parameter (RFC 8707) names no registered API, differs from the one of the authorization request, or names an API that has since been deleted. Use the API\'s exact identifier.',
  },
  slow_down: {
    family: O,
    status: [429],
    title: 'Too many requests',
    text: 'The OAuth endpoints\' rate limit (RATE_LIMIT_TOKEN per window per address) was reached. Wait `Retry-After` seconds; a client should reuse its tokens instead of asking for new ones on every call.',
  },
  server_error: {
    family: O,
    status: [500],
    title: 'Server error',
    text: 'Something unexpected failed while answering an OAuth request; the answer says nothing more on purpose. The server log has the details under the answer\'s `x-request-id`.',
  },
} as const satisfies Record<string, CatalogueEntry>;

/**
 * Every catalogued code, by owner: `kernel` here, and one property per feature, added by its
 * `src/features/<name>/error-codes.ts` (`declare module '…/kernel/error-catalogue.js'`), as the features
 * add their services to `Warden`. The codes are complete only in a program that includes the features,
 * which is what the app, the CLI and the typecheck are.
 */
export interface ErrorCodes {
  readonly kernel: typeof KERNEL_ERROR_CODES;
}

type Owner = keyof ErrorCodes;
type CodesOf<F extends ErrorFamily> = {
  [N in Owner]: {
    [K in keyof ErrorCodes[N]]: ErrorCodes[N][K] extends { readonly family: readonly (infer G)[] } ? (F extends G ? K : never) : never;
  }[keyof ErrorCodes[N]];
}[Owner] &
  string;

/** A code an RFC 9457 problem may carry. */
export type ProblemCode = CodesOf<'problem'>;
/** A code an RFC 6749 error (JSON or redirect) may carry. */
export type OAuthErrorCode = CodesOf<'oauth'>;
export type ErrorCode = { [N in Owner]: keyof ErrorCodes[N] }[Owner] & string;

/** The one catalogue clients read, every owner's codes in the order of the page (src/app/error-catalogue.ts). */
export type ErrorCatalogue = { readonly [K in ErrorCode]: CatalogueEntry };

/** The problem `type` of a code: an anchor of this server's own catalogue page. */
export function problemType(publicUrl: string, code: ProblemCode): string {
  return `${publicUrl}/docs/errors#${code}`;
}
