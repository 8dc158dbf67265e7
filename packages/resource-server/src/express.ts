import type { IncomingMessage, ServerResponse } from 'node:http';
import { missingToken, WardenAuthError } from './errors.js';
import { checkRole, checkScopes } from './guards.js';
import { createVerifier, type Principal, type Verifier, type VerifierOptions } from './verifier.js';

/** Express, Connect, or a bare node:http handler: anything with `(req, res, next)`. */
export type AuthRequest = IncomingMessage & { principal?: Principal };
export type Next = (err?: unknown) => void;
export type Middleware = (req: AuthRequest, res: ServerResponse, next: Next) => void;

/** Answer an auth failure (RFC 6750 §3): status, challenge, JSON body. */
export function sendAuthErrorHttp(res: ServerResponse, e: WardenAuthError): void {
  const challenge = e.wwwAuthenticate;
  if (challenge) res.setHeader('www-authenticate', challenge);
  res.setHeader('cache-control', 'no-store');
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.statusCode = e.status;
  res.end(JSON.stringify(e.body()));
}

function fail(res: ServerResponse, next: Next, e: unknown) {
  if (e instanceof WardenAuthError) sendAuthErrorHttp(res, e);
  else next(e);
}

/** `app.use(authenticate({ issuer, audience }))`: a valid access token, its principal on `req.principal`. */
export function authenticate(options: VerifierOptions | Verifier): Middleware {
  const verifier = 'verify' in options ? options : createVerifier(options);
  return (req, res, next) => {
    verifier.authenticate(req.headers.authorization).then(
      (principal) => {
        req.principal = principal;
        next();
      },
      (e: unknown) => fail(res, next, e),
    );
  };
}

function guard(check: (p: Principal) => void): Middleware {
  return (req, res, next) => {
    try {
      // Placed without `authenticate` before it, a guard refuses rather than lets the request through.
      if (!req.principal) throw missingToken();
      check(req.principal);
    } catch (e) {
      return fail(res, next, e);
    }
    next();
  };
}

/** After `authenticate`: every one of these scopes, else 403 `insufficient_scope`. */
export const requireScope = (...scopes: string[]): Middleware => guard((p) => checkScopes(p, scopes));
/** After `authenticate`: this role in the token's `roles`, else 403. */
export const requireRole = (role: string): Middleware => guard((p) => checkRole(p, role));
