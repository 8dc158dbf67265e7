import type { CatalogueEntry } from '../../kernel/error-catalogue.js';

/**
 * The error codes only the audit feature (its admin-network check) answers with. Codes the kernel or
 * platform raise, or several features share, are in src/kernel/error-catalogue.ts;
 * src/app/error-catalogue.ts makes the one catalogue clients read (GET /docs/errors, docs/errors.md)
 * from the kernel's and every feature's.
 */
export const AUDIT_ERROR_CODES = {
  network_not_allowed: {
    family: ['problem'],
    status: [403],
    title: 'Network not allowed',
    text: 'Admin routes are reachable only from ADMIN_ALLOWED_NETWORKS, and this request came from elsewhere (the refusal is audited). Connect from an allowed network; behind a proxy, set TRUSTED_PROXIES so the client\'s real address is seen.',
  },
} as const satisfies Record<string, CatalogueEntry>;

// Adds these codes to ErrorCodes, so ProblemError and OAuthError accept them (ProblemCode, OAuthErrorCode).
declare module '../../kernel/error-catalogue.js' {
  interface ErrorCodes {
    readonly audit: typeof AUDIT_ERROR_CODES;
  }
}
