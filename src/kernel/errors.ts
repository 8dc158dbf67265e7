import { problemType, type OAuthErrorCode, type ProblemCode } from './error-catalogue.js';

/**
 * Two error families, as in GoTrue: OAuthError for RFC 6749 endpoints, ProblemError (RFC 9457) for the rest.
 * Both carry a stable `code` from the error catalogue (error-catalogue.ts); `internal` is logged and never sent.
 */

export interface FieldError {
  field: string;
  message: string;
}

export class ProblemError extends Error {
  readonly status: number;
  readonly code: ProblemCode;
  readonly title: string;
  readonly detail: string;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string>;
  readonly internal: string | undefined;
  constructor(
    status: number,
    code: ProblemCode,
    detail: string,
    opts: { title?: string; errors?: FieldError[]; headers?: Record<string, string>; internal?: string } = {},
  ) {
    super(opts.internal ?? detail);
    this.name = 'ProblemError';
    this.status = status;
    this.code = code;
    this.title = opts.title ?? STATUS_TITLES[status] ?? 'Error';
    this.detail = detail;
    this.errors = opts.errors;
    this.headers = opts.headers ?? {};
    this.internal = opts.internal;
  }

  /** The RFC 9457 body; `type` is the code's anchor on this server's catalogue page (GET /docs/errors). */
  body(publicUrl: string, instance?: string) {
    return {
      type: problemType(publicUrl, this.code),
      title: this.title,
      status: this.status,
      detail: this.detail,
      code: this.code,
      ...(instance ? { instance } : {}),
      ...(this.errors ? { errors: this.errors } : {}),
    };
  }
}

export const STATUS_TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export const badRequest = (code: ProblemCode, detail: string, errors?: FieldError[]) => new ProblemError(400, code, detail, { errors });
export const notFound = (detail = 'not found') => new ProblemError(404, 'not_found', detail);
export const conflict = (code: ProblemCode, detail: string, field?: string) =>
  new ProblemError(409, code, detail, field ? { errors: [{ field, message: detail }] } : {});
export const forbidden = (code: ProblemCode, detail: string) => new ProblemError(403, code, detail);
export const unprocessable = (code: ProblemCode, detail: string, errors: FieldError[]) => new ProblemError(422, code, detail, { errors });

/** RFC 6750 §3: a bearer failure says why in WWW-Authenticate. */
export function invalidToken(detail = 'the access token is missing, invalid, expired or revoked') {
  return new ProblemError(401, 'invalid_token', detail, {
    headers: { 'www-authenticate': `Bearer error="invalid_token", error_description="${detail.replace(/"/g, "'")}"` },
  });
}
export function missingToken() {
  return new ProblemError(401, 'missing_token', 'authentication required: send Authorization: Bearer <token>', {
    headers: { 'www-authenticate': 'Bearer' },
  });
}
export function insufficientScope(scope: string) {
  return new ProblemError(403, 'insufficient_scope', `the token lacks the scope "${scope}"`, {
    headers: { 'www-authenticate': `Bearer error="insufficient_scope", scope="${scope}"` },
  });
}
export function overloaded(retryAfterSeconds: number) {
  return new ProblemError(503, 'overloaded', 'the server is busy hashing passwords; retry shortly', {
    headers: { 'retry-after': String(retryAfterSeconds) },
  });
}

export function auditUnavailable() {
  return new ProblemError(503, 'audit_unavailable', 'the access could not be recorded, so the data is withheld; retry shortly', {
    headers: { 'retry-after': '1' },
  });
}

/** RFC 6749 §5.2 error. */
export class OAuthError extends Error {
  readonly status: number;
  readonly error: OAuthErrorCode;
  readonly description: string;
  readonly headers: Record<string, string>;
  readonly extra: Record<string, unknown>;
  constructor(
    error: OAuthErrorCode,
    description: string,
    opts: { status?: number; headers?: Record<string, string>; extra?: Record<string, unknown>; internal?: string } = {},
  ) {
    super(opts.internal ?? description);
    this.name = 'OAuthError';
    this.error = error;
    this.description = description;
    this.status = opts.status ?? 400;
    this.headers = opts.headers ?? {};
    this.extra = opts.extra ?? {};
  }
  body() {
    return { error: this.error, error_description: this.description, ...this.extra };
  }
}

export const invalidRequest = (d: string) => new OAuthError('invalid_request', d);
export const invalidGrant = (d: string) => new OAuthError('invalid_grant', d);
export const invalidScope = (d: string) => new OAuthError('invalid_scope', d);
export const unauthorizedClient = (d: string) => new OAuthError('unauthorized_client', d);
export const unsupportedGrantType = (d: string) => new OAuthError('unsupported_grant_type', d);
/** RFC 6749 §5.2: 401 with WWW-Authenticate when the client tried HTTP Basic. */
export const invalidClient = (d = 'client authentication failed', basic = true) =>
  new OAuthError('invalid_client', d, { status: 401, headers: basic ? { 'www-authenticate': 'Basic realm="warden", charset="UTF-8"' } : {} });

/** The password hashing queue is full: the request is shed with 503 and Retry-After (never queued without bound). */
export class HasherOverloadedError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('password hashing queue is full');
    this.name = 'HasherOverloadedError';
  }
}
