import type { CatalogueEntry } from '../../kernel/error-catalogue.js';

/**
 * The error codes only the APIs feature (APIs, scopes and roles) answers with. Codes the kernel or
 * platform raise, or several features share, are in src/kernel/error-catalogue.ts;
 * src/app/error-catalogue.ts makes the one catalogue clients read (GET /docs/errors, docs/errors.md)
 * from the kernel's and every feature's.
 */
export const APIS_ERROR_CODES = {
  api_exists: {
    family: ['problem'],
    status: [409],
    title: 'API exists',
    text: 'An API with this identifier is already registered. Identifiers are unique (they become the tokens\' audience); use the existing API or another identifier.',
  },
  built_in_api: {
    family: ['problem'],
    status: [409],
    title: 'Built-in API',
    text: 'Warden\'s own API (its account, items and admin scopes) cannot be deleted.',
  },
  scope_exists: {
    family: ['problem'],
    status: [409],
    title: 'Scope exists',
    text: 'The API already has a scope with this name. Choose another name, or change the existing scope.',
  },
  built_in_scope: {
    family: ['problem'],
    status: [409],
    title: 'Built-in scope',
    text: 'The scope belongs to Warden\'s own API and cannot be removed.',
  },
  role_exists: {
    family: ['problem'],
    status: [409],
    title: 'Role exists',
    text: 'A role with this name is already defined. Use it, or choose another name.',
  },
  built_in_role: {
    family: ['problem'],
    status: [409],
    title: 'Built-in role',
    text: 'admin, user and guest are built into Warden and cannot be deleted.',
  },
  role_in_use: {
    family: ['problem'],
    status: [409],
    title: 'Role in use',
    text: 'Users still hold the role, so deleting it would change their access silently. Take it from them first, or confirm: `?force=true` on the admin API, `--force` on the command line.',
  },
} as const satisfies Record<string, CatalogueEntry>;

// Adds these codes to ErrorCodes, so ProblemError and OAuthError accept them (ProblemCode, OAuthErrorCode).
declare module '../../kernel/error-catalogue.js' {
  interface ErrorCodes {
    readonly apis: typeof APIS_ERROR_CODES;
  }
}
