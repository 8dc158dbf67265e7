import { insufficientScope, missingRole } from './errors.js';
import type { Principal } from './verifier.js';

/** Every scope named must be granted; the error names them all (RFC 6750 §3.1 `scope`: what to ask for). */
export function checkScopes(principal: Principal, scopes: readonly string[]): void {
  if (!scopes.every((s) => principal.scopes.includes(s))) throw insufficientScope(scopes.join(' '));
}

export function checkRole(principal: Principal, role: string): void {
  if (!principal.roles.includes(role)) throw missingRole(role);
}
