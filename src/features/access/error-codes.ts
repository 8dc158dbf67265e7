import type { CatalogueEntry } from '../../kernel/error-catalogue.js';

/**
 * The error codes only the access feature (its guards) answers with. Codes the kernel or platform raise,
 * or several features share, are in src/kernel/error-catalogue.ts; src/app/error-catalogue.ts makes the
 * one catalogue clients read (GET /docs/errors, docs/errors.md) from the kernel's and every feature's.
 */
export const ACCESS_ERROR_CODES = {
  missing_role: {
    family: ['problem'],
    status: [403],
    title: 'Role required',
    text: 'The route needs a role the user does not hold (for example `admin`). An administrator grants roles (PATCH /admin/users/{id}, `warden user set-roles`); the change applies on the next request.',
  },
  missing_permission: {
    family: ['problem'],
    status: [403],
    title: 'Permission required',
    text: 'None of the user\'s roles gives the permission this route needs, or the roles no longer give a scope the token carries. An administrator grants a role with that permission; see docs/apis-and-roles.md.',
  },
  user_required: {
    family: ['problem'],
    status: [403],
    title: 'User token required',
    text: 'The route acts for a user, and the token was issued to a client acting for itself (client_credentials). Use a token obtained for a user (password or authorization code grant).',
  },
} as const satisfies Record<string, CatalogueEntry>;

// Adds these codes to ErrorCodes, so ProblemError and OAuthError accept them (ProblemCode, OAuthErrorCode).
declare module '../../kernel/error-catalogue.js' {
  interface ErrorCodes {
    readonly access: typeof ACCESS_ERROR_CODES;
  }
}
