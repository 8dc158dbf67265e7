export { createVerifier, type Principal, type Verifier, type VerifierOptions } from './verifier.js';
export type { IntrospectionOptions } from './introspection.js';
export { WardenAuthError, type BearerErrorCode } from './errors.js';
export { checkRole, checkScopes } from './guards.js';
export { authenticate, requireRole, requireScope, sendAuthErrorHttp, type AuthRequest, type Middleware, type Next } from './express.js';
