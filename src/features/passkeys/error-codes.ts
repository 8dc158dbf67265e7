import type { CatalogueEntry } from '../../kernel/error-catalogue.js';

/**
 * The error codes only the passkeys feature answers with. Codes the kernel or platform raise, or several
 * features share, are in src/kernel/error-catalogue.ts; src/app/error-catalogue.ts makes the one
 * catalogue clients read (GET /docs/errors, docs/errors.md) from the kernel's and every feature's.
 */
export const PASSKEYS_ERROR_CODES = {
  invalid_passkey: {
    family: ['problem'],
    status: [400, 422],
    title: 'Passkey not accepted',
    text: 'The WebAuthn response did not verify: its challenge is unknown, expired or already used, it comes from another origin or relying party, the user was not verified, the credential is unknown or removed, or its signature counter went backwards (a possible cloned authenticator; audited as passkey.counter_regressed). Ask for new options and try again (docs/passkeys.md). 422: the user holds the most passkeys allowed (20) already; remove one first.',
  },
} as const satisfies Record<string, CatalogueEntry>;

// Adds these codes to ErrorCodes, so ProblemError and OAuthError accept them (ProblemCode, OAuthErrorCode).
declare module '../../kernel/error-catalogue.js' {
  interface ErrorCodes {
    readonly passkeys: typeof PASSKEYS_ERROR_CODES;
  }
}
