/**
 * RFC 6750 §3.1 errors. Each carries the HTTP status, the error code for `WWW-Authenticate`, and a
 * description that is safe to send (it never echoes the token).
 */

export type BearerErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

export class WardenAuthError extends Error {
  constructor(
    /** RFC 6750 error code, or undefined when the request carried no credentials at all (§3.1: no code then). */
    readonly code: BearerErrorCode | 'forbidden' | undefined,
    readonly status: 400 | 401 | 403,
    readonly description: string,
    /** The scope the resource needs (insufficient_scope only). */
    readonly scope?: string,
  ) {
    super(description);
    this.name = 'WardenAuthError';
  }

  /** The `WWW-Authenticate` challenge to send with this error, or undefined (a role failure has none to offer). */
  get wwwAuthenticate(): string | undefined {
    if (this.code === 'forbidden') return undefined;
    if (this.code === undefined) return 'Bearer';
    const params = [`error="${this.code}"`];
    if (this.code !== 'insufficient_scope') params.push(`error_description="${quote(this.description)}"`);
    if (this.scope) params.push(`scope="${quote(this.scope)}"`);
    return `Bearer ${params.join(', ')}`;
  }

  /** A JSON body mirroring the challenge (RFC 6750 defines none; this is what OAuth clients parse). */
  body(): { error: string; error_description: string } {
    return { error: this.code ?? 'missing_token', error_description: this.description };
  }
}

/** RFC 7235 quoted-string: no `"` or `\` inside, and nothing outside printable ASCII. */
function quote(s: string): string {
  return s.replace(/[^\x20-\x7e]|["\\]/g, "'");
}

export const missingToken = () => new WardenAuthError(undefined, 401, 'authentication required: send Authorization: Bearer <token>');
export const invalidRequest = (d: string) => new WardenAuthError('invalid_request', 400, d);
export const invalidToken = (d = 'the access token is invalid, expired or revoked') => new WardenAuthError('invalid_token', 401, d);
export const insufficientScope = (scope: string) => new WardenAuthError('insufficient_scope', 403, `the token lacks the scope "${scope}"`, scope);
export const missingRole = (role: string) => new WardenAuthError('forbidden', 403, `this needs the role "${role}"`);
