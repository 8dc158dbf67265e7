import type { CatalogueEntry } from '../../kernel/error-catalogue.js';

/**
 * The error codes only the users feature answers with. Codes the kernel or platform raise, or several
 * features share, are in src/kernel/error-catalogue.ts; src/app/error-catalogue.ts makes the one
 * catalogue clients read (GET /docs/errors, docs/errors.md) from the kernel's and every feature's.
 */
export const USERS_ERROR_CODES = {
  username_taken: {
    family: ['problem'],
    status: [409],
    title: 'Username taken',
    text: 'Another account already has this username (usernames are compared without regard to case). Choose another.',
  },
  weak_password: {
    family: ['problem'],
    status: [422],
    title: 'Password too weak',
    text: 'The password does not meet the policy: shorter than PASSWORD_MIN_LENGTH, too common (it is in a list of breached passwords), containing the username or the e-mail address, or, with PASSWORD_POLICY=classic, without a digit or an uppercase letter. `errors` says which; a long passphrase passes.',
  },
  same_password: {
    family: ['problem'],
    status: [422],
    title: 'Same password',
    text: 'The new password equals the current one. Choose a different password.',
  },
  self_lockout: {
    family: ['problem'],
    status: [409],
    title: 'Would lock yourself out',
    text: 'An administrator cannot disable their own account or remove their own admin role, which could leave no administrator. Have another administrator make the change.',
  },
} as const satisfies Record<string, CatalogueEntry>;

// Adds these codes to ErrorCodes, so ProblemError and OAuthError accept them (ProblemCode, OAuthErrorCode).
declare module '../../kernel/error-catalogue.js' {
  interface ErrorCodes {
    readonly users: typeof USERS_ERROR_CODES;
  }
}
