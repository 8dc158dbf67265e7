import type { CatalogueEntry } from '../../kernel/error-catalogue.js';

/**
 * The error codes only the admin console answers with. Codes the kernel or platform raise, or several
 * features share, are in src/kernel/error-catalogue.ts; src/app/error-catalogue.ts makes the one
 * catalogue clients read (GET /docs/errors, docs/errors.md) from the kernel's and every feature's.
 */
export const CONSOLE_ERROR_CODES = {
  confirmation_required: {
    family: ['problem'],
    status: [422],
    title: 'Confirmation required',
    text: 'A destructive action in the admin console (disabling a user, ending sessions, deleting a client, rotating a secret or a key, removing a scope, deleting an API or a role) was posted without its confirmation box ticked, so nothing changed. Tick the box beside the button and send it again.',
  },
} as const satisfies Record<string, CatalogueEntry>;

// Adds these codes to ErrorCodes, so ProblemError and OAuthError accept them (ProblemCode, OAuthErrorCode).
declare module '../../kernel/error-catalogue.js' {
  interface ErrorCodes {
    readonly console: typeof CONSOLE_ERROR_CODES;
  }
}
