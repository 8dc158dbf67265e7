import type { CatalogueEntry } from '../../kernel/error-catalogue.js';

/**
 * The error codes only the account feature (verification, password reset, two-factor) answers with.
 * Codes the kernel or platform raise, or several features share, are in src/kernel/error-catalogue.ts;
 * src/app/error-catalogue.ts makes the one catalogue clients read (GET /docs/errors, docs/errors.md)
 * from the kernel's and every feature's.
 */
export const ACCOUNT_ERROR_CODES = {
  invalid_verification_token: {
    family: ['problem'],
    status: [400],
    title: 'Invalid verification link',
    text: 'The e-mail verification token is unknown, already used or expired (EMAIL_VERIFY_TOKEN_HOURS). Ask for a new link with POST /email/verify/resend.',
  },
  already_verified: {
    family: ['problem'],
    status: [409],
    title: 'Already verified',
    text: 'The e-mail address is already verified and no change of address is pending, so there is nothing to send. Nothing to fix.',
  },
  invalid_reset_token: {
    family: ['problem'],
    status: [400],
    title: 'Invalid reset link',
    text: 'The password reset token is unknown, already used or expired (PASSWORD_RESET_TOKEN_MINUTES). Ask for a new link with POST /password/forgot.',
  },
  mfa_already_enabled: {
    family: ['problem'],
    status: [409],
    title: 'MFA already enabled',
    text: 'TOTP is already enabled on this account. To move to another device, remove it first (DELETE /users/me/mfa/totp with a code or the password), then enrol again.',
  },
  mfa_not_started: {
    family: ['problem'],
    status: [409],
    title: 'MFA enrolment not started',
    text: 'A confirmation code was sent but no TOTP enrolment is pending. Start with POST /users/me/mfa/totp, add the secret to the authenticator app, then confirm with a code.',
  },
  mfa_enrolment_changed: {
    family: ['problem'],
    status: [409],
    title: 'MFA enrolment changed',
    text: 'The pending enrolment was replaced or confirmed by another request while this one ran. Start the enrolment again.',
  },
  mfa_not_enabled: {
    family: ['problem'],
    status: [409],
    title: 'MFA not enabled',
    text: 'The account has no TOTP to remove. Nothing to fix.',
  },
  invalid_code: {
    family: ['problem'],
    status: [422],
    title: 'Invalid code',
    text: 'The TOTP or recovery code is not valid: mistyped, expired (codes change every 30 seconds; check the device\'s clock), already used, or for another account.',
  },
  proof_required: {
    family: ['problem'],
    status: [422],
    title: 'Proof required',
    text: 'Removing two-factor authentication needs proof: send `{"code": …}` (a TOTP or recovery code) or `{"password": …}`.',
  },
  mfa_required: {
    family: ['oauth'],
    status: [400],
    title: 'Second factor required',
    text: 'The password was right and the account has two-factor authentication. Complete the sign-in: POST /token with `grant_type=urn:warden:mfa`, the `mfa_token` of this answer and `code` (a TOTP or recovery code).',
  },
  mfa_enrollment_required: {
    family: ['oauth'],
    status: [400],
    title: 'Second factor must be enrolled',
    text: 'This server requires administrators to use two-factor authentication (REQUIRE_ADMIN_MFA) and this administrator has none. Enrol TOTP while signed in through a session that still works, or have another administrator help.',
  },
} as const satisfies Record<string, CatalogueEntry>;

// Adds these codes to ErrorCodes, so ProblemError and OAuthError accept them (ProblemCode, OAuthErrorCode).
declare module '../../kernel/error-catalogue.js' {
  interface ErrorCodes {
    readonly account: typeof ACCOUNT_ERROR_CODES;
  }
}
