/**
 * Every error code Warden answers with, in one place: the problem codes of RFC 9457 answers (whose
 * `type` is `{PUBLIC_URL}/docs/errors#<code>`) and the RFC 6749 error codes of the OAuth endpoints and
 * of the authorization endpoint's redirects. GET /docs/errors and docs/errors.md are made from it, and
 * ProblemError / OAuthError accept only codes listed here (ProblemCode, OAuthErrorCode): a new code
 * does not compile until it is explained.
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

export const ERROR_CATALOGUE = {
  // Requests the HTTP layer refuses before any route runs.
  not_found: {
    family: P,
    status: [404],
    title: 'Not found',
    text: 'No route answers this method and path, or the object named in the path (a user, client, item, API, role or scope) does not exist — or, for per-user objects such as items, belongs to someone else (answered the same, so that its existence is not revealed). Check the path against /docs and the id you sent.',
  },
  confirmation_required: {
    family: P,
    status: [422],
    title: 'Confirmation required',
    text: 'A destructive action in the admin console (disabling a user, ending sessions, deleting a client, rotating a secret or a key, removing a scope, deleting an API or a role) was posted without its confirmation box ticked, so nothing changed. Tick the box beside the button and send it again.',
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
  missing_role: {
    family: P,
    status: [403],
    title: 'Role required',
    text: 'The route needs a role the user does not hold (for example `admin`). An administrator grants roles (PATCH /admin/users/{id}, `warden user set-roles`); the change applies on the next request.',
  },
  missing_permission: {
    family: P,
    status: [403],
    title: 'Permission required',
    text: 'None of the user\'s roles gives the permission this route needs, or the roles no longer give a scope the token carries. An administrator grants a role with that permission; see docs/apis-and-roles.md.',
  },
  user_required: {
    family: P,
    status: [403],
    title: 'User token required',
    text: 'The route acts for a user, and the token was issued to a client acting for itself (client_credentials). Use a token obtained for a user (password or authorization code grant).',
  },
  network_not_allowed: {
    family: P,
    status: [403],
    title: 'Network not allowed',
    text: 'Admin routes are reachable only from ADMIN_ALLOWED_NETWORKS, and this request came from elsewhere (the refusal is audited). Connect from an allowed network; behind a proxy, set TRUSTED_PROXIES so the client\'s real address is seen.',
  },

  // Users and accounts.
  registration_closed: {
    family: P,
    status: [403],
    title: 'Registration closed',
    text: 'This server does not let the public register (REGISTRATION=closed). An administrator creates accounts instead (POST /admin/users, `warden user create`).',
  },
  username_taken: {
    family: P,
    status: [409],
    title: 'Username taken',
    text: 'Another account already has this username (usernames are compared without regard to case). Choose another.',
  },
  email_taken: {
    family: P,
    status: [409],
    title: 'E-mail address taken',
    text: 'Another account already uses this e-mail address. Sign in to that account, or reset its password with POST /password/forgot.',
  },
  weak_password: {
    family: P,
    status: [422],
    title: 'Password too weak',
    text: 'The password does not meet the policy: shorter than PASSWORD_MIN_LENGTH, too common (it is in a list of breached passwords), containing the username or the e-mail address, or, with PASSWORD_POLICY=classic, without a digit or an uppercase letter. `errors` says which; a long passphrase passes.',
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
  invalid_passkey: {
    family: P,
    status: [400, 422],
    title: 'Passkey not accepted',
    text: 'The WebAuthn response did not verify: its challenge is unknown, expired or already used, it comes from another origin or relying party, the user was not verified, the credential is unknown or removed, or its signature counter went backwards (a possible cloned authenticator; audited as passkey.counter_regressed). Ask for new options and try again (docs/passkeys.md). 422: the user holds the most passkeys allowed (20) already; remove one first.',
  },
  same_password: {
    family: P,
    status: [422],
    title: 'Same password',
    text: 'The new password equals the current one. Choose a different password.',
  },
  self_lockout: {
    family: P,
    status: [409],
    title: 'Would lock yourself out',
    text: 'An administrator cannot disable their own account or remove their own admin role, which could leave no administrator. Have another administrator make the change.',
  },
  unknown_role: {
    family: P,
    status: [422],
    title: 'Unknown role',
    text: 'A role named in the request is not defined on this server. Use a built-in role (admin, user, guest) or create the role first (POST /admin/roles, `warden role create`).',
  },
  invalid_verification_token: {
    family: P,
    status: [400],
    title: 'Invalid verification link',
    text: 'The e-mail verification token is unknown, already used or expired (EMAIL_VERIFY_TOKEN_HOURS). Ask for a new link with POST /email/verify/resend.',
  },
  already_verified: {
    family: P,
    status: [409],
    title: 'Already verified',
    text: 'The e-mail address is already verified and no change of address is pending, so there is nothing to send. Nothing to fix.',
  },
  invalid_reset_token: {
    family: P,
    status: [400],
    title: 'Invalid reset link',
    text: 'The password reset token is unknown, already used or expired (PASSWORD_RESET_TOKEN_MINUTES). Ask for a new link with POST /password/forgot.',
  },

  // Two-factor authentication (TOTP).
  mfa_already_enabled: {
    family: P,
    status: [409],
    title: 'MFA already enabled',
    text: 'TOTP is already enabled on this account. To move to another device, remove it first (DELETE /users/me/mfa/totp with a code or the password), then enrol again.',
  },
  mfa_not_started: {
    family: P,
    status: [409],
    title: 'MFA enrolment not started',
    text: 'A confirmation code was sent but no TOTP enrolment is pending. Start with POST /users/me/mfa/totp, add the secret to the authenticator app, then confirm with a code.',
  },
  mfa_enrolment_changed: {
    family: P,
    status: [409],
    title: 'MFA enrolment changed',
    text: 'The pending enrolment was replaced or confirmed by another request while this one ran. Start the enrolment again.',
  },
  mfa_not_enabled: {
    family: P,
    status: [409],
    title: 'MFA not enabled',
    text: 'The account has no TOTP to remove. Nothing to fix.',
  },
  invalid_code: {
    family: P,
    status: [422],
    title: 'Invalid code',
    text: 'The TOTP or recovery code is not valid: mistyped, expired (codes change every 30 seconds; check the device\'s clock), already used, or for another account.',
  },
  proof_required: {
    family: P,
    status: [422],
    title: 'Proof required',
    text: 'Removing two-factor authentication needs proof: send `{"code": …}` (a TOTP or recovery code) or `{"password": …}`.',
  },
  mfa_required: {
    family: O,
    status: [400],
    title: 'Second factor required',
    text: 'The password was right and the account has two-factor authentication. Complete the sign-in: POST /token with `grant_type=urn:warden:mfa`, the `mfa_token` of this answer and `code` (a TOTP or recovery code).',
  },
  mfa_enrollment_required: {
    family: O,
    status: [400],
    title: 'Second factor must be enrolled',
    text: 'This server requires administrators to use two-factor authentication (REQUIRE_ADMIN_MFA) and this administrator has none. Enrol TOTP while signed in through a session that still works, or have another administrator help.',
  },

  // OAuth clients, APIs and roles (admin API and CLI).
  invalid_client_metadata: {
    family: P,
    status: [422],
    title: 'Invalid client metadata',
    text: 'A field of the client registration (RFC 7591) is not acceptable: the authorization code grant without a redirect URI, client_credentials for a public client, the password grant for a third-party client, a response type without its grant, an unknown scope, or an API or scope that does not exist. `errors` names each field.',
  },
  invalid_redirect_uri: {
    family: P,
    status: [422],
    title: 'Invalid redirect URI',
    text: 'A redirect URI of the client is not acceptable: not absolute, with a fragment or user information, plain http:// to a host other than loopback, or a dangerous scheme (such as javascript:). Register exact https:// URIs, http://127.0.0.1 for native apps, or a private-use scheme (RFC 8252).',
  },
  public_client: {
    family: P,
    status: [422],
    title: 'Public client',
    text: 'The operation needs a client secret and this client is public (it has none, by design: a mobile app or SPA cannot keep one). Nothing to rotate; register a confidential client for server-side use.',
  },
  reserved_client: {
    family: P,
    status: [409],
    title: 'Reserved client',
    text: 'The client `warden` is Warden\'s own first-party client (the password grant without a client uses it) and cannot be deleted.',
  },
  api_exists: {
    family: P,
    status: [409],
    title: 'API exists',
    text: 'An API with this identifier is already registered. Identifiers are unique (they become the tokens\' audience); use the existing API or another identifier.',
  },
  built_in_api: {
    family: P,
    status: [409],
    title: 'Built-in API',
    text: 'Warden\'s own API (its account, items and admin scopes) cannot be deleted.',
  },
  scope_exists: {
    family: P,
    status: [409],
    title: 'Scope exists',
    text: 'The API already has a scope with this name. Choose another name, or change the existing scope.',
  },
  built_in_scope: {
    family: P,
    status: [409],
    title: 'Built-in scope',
    text: 'The scope belongs to Warden\'s own API and cannot be removed.',
  },
  role_exists: {
    family: P,
    status: [409],
    title: 'Role exists',
    text: 'A role with this name is already defined. Use it, or choose another name.',
  },
  built_in_role: {
    family: P,
    status: [409],
    title: 'Built-in role',
    text: 'admin, user and guest are built into Warden and cannot be deleted.',
  },
  role_in_use: {
    family: P,
    status: [409],
    title: 'Role in use',
    text: 'Users still hold the role, so deleting it would change their access silently. Take it from them first, or confirm: `?force=true` on the admin API, `--force` on the command line.',
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
  unsupported_response_type: {
    family: O,
    status: [],
    title: 'Unsupported response type',
    text: 'Sent to the client\'s redirect URI: only `response_type=code` (the authorization code flow with PKCE) is supported. Implicit and hybrid flows are not.',
  },
  request_not_supported: {
    family: O,
    status: [],
    title: 'Request objects not supported',
    text: 'Sent to the client\'s redirect URI: the `request` parameter (a signed request object) is not supported. Send the parameters in the query string.',
  },
  request_uri_not_supported: {
    family: O,
    status: [],
    title: 'request_uri not supported',
    text: 'Sent to the client\'s redirect URI: the `request_uri` parameter is not supported. Send the parameters in the query string.',
  },
  login_required: {
    family: O,
    status: [],
    title: 'Login required',
    text: 'Sent to the client\'s redirect URI: the request asked for `prompt=none` and the user is not signed in. Send the user through the authorization request without `prompt=none`.',
  },
  consent_required: {
    family: O,
    status: [],
    title: 'Consent required',
    text: 'Sent to the client\'s redirect URI: the request asked for `prompt=none` and the user has not yet granted these scopes to the client. Send the user through the authorization request without `prompt=none`.',
  },
  interaction_required: {
    family: O,
    status: [],
    title: 'Interaction required',
    text: 'Sent to the client\'s redirect URI: the request asked for `prompt=none`, but this client (a private-use redirect URI, which another app could claim) needs the user to confirm every authorization. Send the user through the authorization request without `prompt=none`.',
  },
  account_selection_required: {
    family: O,
    status: [],
    title: 'Account selection required',
    text: 'Sent to the client\'s redirect URI: the request asked for `prompt=select_account`, which Warden does not offer (one browser signs in one account; discovery\'s `prompt_values_supported` lists what is honoured). Send the request without `select_account`, or with `prompt=login` to let the user sign in as someone else.',
  },
  access_denied: {
    family: O,
    status: [],
    title: 'Access denied',
    text: 'Sent to the client\'s redirect URI: the user declined the request on the consent page. Nothing is wrong with the request; tell the user.',
  },
} as const satisfies Record<string, CatalogueEntry>;

type Catalogue = typeof ERROR_CATALOGUE;
type CodesOf<F extends ErrorFamily> = { [K in keyof Catalogue]: F extends Catalogue[K]['family'][number] ? K : never }[keyof Catalogue];

/** A code an RFC 9457 problem may carry. */
export type ProblemCode = CodesOf<'problem'>;
/** A code an RFC 6749 error (JSON or redirect) may carry. */
export type OAuthErrorCode = CodesOf<'oauth'>;
export type ErrorCode = keyof Catalogue;

/** The problem `type` of a code: an anchor of this server's own catalogue page. */
export function problemType(publicUrl: string, code: ProblemCode): string {
  return `${publicUrl}/docs/errors#${code}`;
}
