import fp from 'fastify-plugin';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StateUnavailableError } from '../kernel/storage/state/store.js';
import { isRefusedInput } from '../kernel/storage/errors.js';
import { HasherOverloadedError, OAuthError, ProblemError, STATUS_TITLES, type FieldError } from '../kernel/errors.js';
import { retryLaterPage } from '../kernel/html/layout.js';
import { asPage } from './security-headers.js';
import type { OAuthErrorCode, ProblemCode } from '../kernel/error-catalogue.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** RFC 6749 endpoint: errors answer {"error","error_description"} instead of problem+json. */
    oauth?: boolean;
  }
}

const PROBLEM = 'application/problem+json; charset=utf-8';

/** Validation errors name the failing field: "/password" → "password", missing → the property. */
function fieldErrors(error: FastifyError): FieldError[] {
  return (error.validation ?? []).map((v) => {
    const params = v.params as Record<string, unknown>;
    let field = (v.instancePath || '').replace(/^\//, '').replace(/\//g, '.');
    if (typeof params.missingProperty === 'string') field = field ? `${field}.${params.missingProperty}` : params.missingProperty;
    if (typeof params.additionalProperty === 'string') {
      field = field ? `${field}.${params.additionalProperty}` : params.additionalProperty;
      return { field, message: 'is not an allowed field' };
    }
    const where = error.validationContext && error.validationContext !== 'body' ? `${error.validationContext}` : '';
    return { field: field || where || 'body', message: v.message ?? 'is invalid' };
  });
}

function oauthBody(error: OAuthErrorCode, description: string) {
  return { error, error_description: description };
}

/** The code of a refusal by Fastify itself that has no more specific one (every code is catalogued). */
const BY_STATUS: Record<number, ProblemCode> = {
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'body_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

/**
 * One error handler. Known errors keep their status and code; anything unexpected is logged with its
 * stack and answered as a bare 500 (or `server_error`) — never a stack trace, SQL text or a path.
 */
export function installErrorHandler(app: FastifyInstance) {
  // Problem `type` URIs point at this server's own catalogue page (GET /docs/errors).
  const base = app.warden.config.publicUrl;
  app.setErrorHandler(async (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const oauth = request.routeOptions.config?.oauth === true;
    const page = request.routeOptions.config?.page === true;
    reply.header('cache-control', 'no-store');

    if (error instanceof OAuthError) {
      request.log.info({ err: { code: error.error, message: error.message } }, 'oauth error');
      return reply.code(error.status).headers(error.headers).type('application/json; charset=utf-8').send(error.body());
    }
    if (error instanceof HasherOverloadedError) {
      reply.header('retry-after', String(error.retryAfterSeconds));
      if (page) return asPage(reply.code(503)).send(retryLaterPage('Temporarily unavailable', 'The server is busy.', error.retryAfterSeconds));
      if (oauth) return reply.code(503).send(oauthBody('temporarily_unavailable', 'the server is busy; retry shortly'));
      error = new ProblemError(503, 'overloaded', 'the server is busy; retry shortly') as unknown as FastifyError;
    }
    if (error instanceof StateUnavailableError) {
      // The outage itself is logged once, at error, by the store; not once per refused request.
      request.log.debug({ err: { code: error.code } }, 'state store unavailable');
      reply.header('retry-after', String(error.retryAfterSeconds));
      const detail = 'the server cannot reach its shared state store; retry shortly';
      // A browser page gets a page saying so, not JSON it would show raw (issue 17).
      if (page) return asPage(reply.code(503)).send(retryLaterPage('Temporarily unavailable', 'The server cannot reach its state store at the moment.', error.retryAfterSeconds));
      if (oauth) return reply.code(503).send(oauthBody('temporarily_unavailable', detail));
      return reply.code(503).type(PROBLEM).send(new ProblemError(503, 'temporarily_unavailable', detail).body(base));
    }
    if (page && error instanceof ProblemError && error.status === 429) {
      const retryAfter = Number(reply.getHeader('retry-after'));
      return asPage(reply.code(429)).send(retryLaterPage('Too many requests', 'Too many requests came from your address.', Number.isFinite(retryAfter) ? retryAfter : undefined));
    }
    if (error instanceof ProblemError) {
      if (error.status >= 500) request.log.error({ err: error }, error.internal ?? error.detail);
      return reply.code(error.status).headers(error.headers).type(PROBLEM).send(error.body(base));
    }

    // Fastify's own errors: validation, content type, body size, JSON syntax, rate limit.
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
    if (error.validation) {
      const errors = fieldErrors(error);
      const detail = errors.map((e) => `${e.field}: ${e.message}`).join('; ');
      if (oauth) return reply.code(400).send(oauthBody('invalid_request', detail));
      return reply.code(422).type(PROBLEM).send(new ProblemError(422, 'validation_failed', detail, { errors }).body(base));
    }
    if (status >= 500 && isRefusedInput(error)) {
      // A safety net behind the input guard (validation.ts): logged (as its SQLSTATE only, see
      // logging.ts) so the missing validation gets found, answered without a word of SQL.
      request.log.warn({ err: error }, 'the database refused a value of the request');
      const detail = 'a value in the request cannot be stored or compared';
      if (oauth) return reply.code(400).send(oauthBody('invalid_request', detail));
      return reply.code(400).type(PROBLEM).send(new ProblemError(400, 'invalid_input', detail).body(base));
    }
    if (status >= 500) {
      request.log.error({ err: error }, 'unhandled error');
      if (oauth) return reply.code(500).send(oauthBody('server_error', 'the server could not complete the request'));
      return reply.code(500).type(PROBLEM).send(new ProblemError(500, 'internal_error', 'the server could not complete the request').body(base));
    }
    const known: Record<string, [ProblemCode, string]> = {
      FST_ERR_CTP_INVALID_MEDIA_TYPE: ['unsupported_media_type', 'unsupported Content-Type for this route'],
      FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['bad_content_length', 'Content-Length does not match the body'],
      FST_ERR_CTP_BODY_TOO_LARGE: ['body_too_large', 'the request body is too large'],
      FST_ERR_CTP_EMPTY_JSON_BODY: ['empty_body', 'the JSON body is empty'],
      FST_ERR_CTP_INVALID_JSON_BODY: ['malformed_json', 'the body is not valid JSON'],
      FST_ERR_CTP_EMPTY_TYPE: ['missing_content_type', 'Content-Type is required'],
      FST_ERR_CTP_INVALID_TYPE: ['bad_content_type', 'Content-Type is not valid'],
    };
    let [code, detail] = known[error.code] ?? [
      BY_STATUS[status] ?? 'request_refused',
      status === 429 ? 'too many requests; retry later' : (STATUS_TITLES[status] ?? 'request refused'),
    ];
    if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') [code, detail] = ['malformed_json', 'the body is not valid JSON'];
    request.log.info({ err: { code: error.code, message: error.message }, status }, 'request refused');
    if (oauth) {
      const oauthCode = status === 429 ? 'slow_down' : 'invalid_request';
      return reply.code(status).send(oauthBody(oauthCode, detail));
    }
    return reply.code(status).type(PROBLEM).send(new ProblemError(status, code, detail).body(base));
  });

  app.setNotFoundHandler(async (request, reply) => {
    reply.code(404).type(PROBLEM).send(new ProblemError(404, 'not_found', `no route ${request.method} ${request.url.split('?')[0]}`).body(base));
  });
}

/** The error and not-found handlers, on the root instance before any route (src/platform/pipeline.ts). */
export const errorHandlerPlugin = fp(
  async (app: FastifyInstance) => {
    installErrorHandler(app);
  },
  { name: 'warden-error-handler', fastify: '5.x' },
);

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Admin route: ADMIN_ALLOWED_NETWORKS applies and refusals are audited. */
    admin?: boolean;
    /** Access is audited (security monitoring of sensitive data). */
    sensitive?: boolean;
    /** Which stricter rate limit applies: token, register, account. */
    rateLimitGroup?: 'token' | 'register' | 'account';
  }
}
