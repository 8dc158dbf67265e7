import { KERNEL_ERROR_CODES, type CatalogueEntry, type ErrorCatalogue, type ErrorCode, type ErrorCodes } from '../kernel/error-catalogue.js';
import { composeInOrder } from './compose.js';
import { ACCESS_ERROR_CODES } from '../features/access/error-codes.js';
import { ACCOUNT_ERROR_CODES } from '../features/account/error-codes.js';
import { APIS_ERROR_CODES } from '../features/apis/error-codes.js';
import { AUDIT_ERROR_CODES } from '../features/audit/error-codes.js';
import { CONSOLE_ERROR_CODES } from '../features/console/error-codes.js';
import { OAUTH_ERROR_CODES } from '../features/oauth/error-codes.js';
import { PASSKEYS_ERROR_CODES } from '../features/passkeys/error-codes.js';
import { USERS_ERROR_CODES } from '../features/users/error-codes.js';

/**
 * The one error catalogue clients read (GET /docs/errors, docs/errors.md, the anchors of problem
 * `type` URIs), composed from the kernel's codes and every feature's own (src/features/<name>/error-codes.ts).
 */

/**
 * Every owner's codes. Typed as the merged `ErrorCodes`, so a feature whose error-codes.ts adds codes
 * but is left out here does not compile.
 */
export const ERROR_CODES: ErrorCodes = {
  kernel: KERNEL_ERROR_CODES,
  access: ACCESS_ERROR_CODES,
  account: ACCOUNT_ERROR_CODES,
  apis: APIS_ERROR_CODES,
  audit: AUDIT_ERROR_CODES,
  console: CONSOLE_ERROR_CODES,
  oauth: OAUTH_ERROR_CODES,
  passkeys: PASSKEYS_ERROR_CODES,
  users: USERS_ERROR_CODES,
};

/**
 * The order of the page and of docs/errors.md: by subject, which cuts across owners (the console's
 * confirmation_required sits among the HTTP layer's codes, the users feature's among the shared account
 * codes). The page splits it into problem codes and OAuth-only codes, each in this order. A new code
 * is placed here too: one left out does not compile (`_EveryCodePlaced`).
 */
const PAGE_ORDER = [
  // The HTTP layer.
  'not_found', 'confirmation_required', 'validation_failed', 'invalid_input', 'invalid_cursor',
  'malformed_json', 'empty_body', 'missing_content_type', 'bad_content_type', 'bad_content_length',
  'unsupported_media_type', 'body_too_large', 'uri_too_long', 'method_not_allowed', 'request_refused',
  'rate_limited', 'internal_error', 'overloaded', 'temporarily_unavailable', 'audit_unavailable',
  // Authentication and authorization of API routes.
  'missing_token', 'invalid_token', 'insufficient_scope', 'missing_role', 'missing_permission', 'user_required',
  'network_not_allowed',
  // Users and accounts.
  'registration_closed', 'username_taken', 'email_taken', 'weak_password', 'wrong_password',
  'current_password_required', 'invalid_passkey', 'same_password', 'self_lockout', 'unknown_role',
  'invalid_verification_token', 'already_verified', 'invalid_reset_token',
  // Two-factor authentication.
  'mfa_already_enabled', 'mfa_not_started', 'mfa_enrolment_changed', 'mfa_not_enabled', 'invalid_code',
  'proof_required', 'mfa_required', 'mfa_enrollment_required',
  // OAuth clients, APIs and roles.
  'invalid_client_metadata', 'invalid_redirect_uri', 'public_client', 'reserved_client', 'api_exists',
  'built_in_api', 'scope_exists', 'built_in_scope', 'role_exists', 'built_in_role', 'role_in_use',
  // RFC 6749: the OAuth endpoints and the authorization redirects.
  'invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type',
  'invalid_scope', 'invalid_target', 'slow_down', 'server_error', 'unsupported_response_type',
  'request_not_supported', 'request_uri_not_supported', 'login_required', 'consent_required',
  'interaction_required', 'account_selection_required', 'access_denied',
] as const satisfies readonly ErrorCode[];

type AssertNever<T extends never> = T;
type _EveryCodePlaced = AssertNever<Exclude<ErrorCode, (typeof PAGE_ORDER)[number]>>;

/** Each code once, whoever owns it, in PAGE_ORDER; a code defined twice or placed twice stops the start. */
export function composeCatalogue(byOwner: ErrorCodes, order: readonly ErrorCode[]): ErrorCatalogue {
  return composeInOrder('error code', byOwner as unknown as Record<string, Record<string, CatalogueEntry>>, order) as ErrorCatalogue;
}

export const ERROR_CATALOGUE: ErrorCatalogue = composeCatalogue(ERROR_CODES, PAGE_ORDER);
