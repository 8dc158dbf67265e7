import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../kernel/config/load.js';
import { Networks } from './networks.js';
import { stdoutDestination, type LogDestination } from './log-destination.js';
import { sqlState } from '../kernel/storage/errors.js';
import fp from 'fastify-plugin';

/**
 * Never logged: passwords, tokens, codes, secrets, hashes, cookies, Authorization. Paths cover the
 * shapes pino sees (req headers, bodies and objects passed to log calls), at any of the first depths.
 */
const SECRET_KEYS = [
  'authorization',
  'cookie',
  'set-cookie',
  'password',
  'new_password',
  'current_password',
  'passwordHash',
  'password_hash',
  'hashed_password',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'mfa_token',
  'code',
  'code_verifier',
  'client_secret',
  'secret',
  'otp',
  'recovery_codes',
];
const SECRET = new Set(SECRET_KEYS);
const CENSOR = '[redacted]';
/** Serializer output (the req/res serializers run after formatters.log), redacted by pino's static paths. */
export const REDACT_PATHS = ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'];

/**
 * Every secret key, at any depth of what a log call is given (plain objects, arrays and errors),
 * replaced by "[redacted]" (an error's `code` excepted: see isErrorCode); the caller's object is never
 * changed (copy on write). pino's `redact` takes fixed paths, and a secret one level deeper than the
 * paths foresee would be written in clear (docs/decisions/0002-log-redaction-walker.md). A cycle is
 * written as "[circular]", and the walk is bounded: past WORK_BUDGET steps (each object costs its depth,
 * for the cycle check) what is left unseen is written as "[truncated]", never unredacted.
 */
export function redactSecrets(obj: Record<string, unknown>): Record<string, unknown> {
  return scrub(obj, { budget: WORK_BUDGET, ancestors: [] }) as Record<string, unknown>;
}

/** Steps of one log call's walk: a wide or deep object is cut here rather than costing unbounded time. */
const WORK_BUDGET = 20_000;

interface Walk {
  budget: number;
  /** The objects between the root and the one being walked (a cycle returns to one of them). */
  ancestors: object[];
}

/**
 * `code` is a secret (an authorization code in a body or query) except where it names an error: an
 * error's own `code` (a Node, driver or Warden error code, a SQLSTATE) and the `code` of the object
 * logged as `err` (`{ err: { code: 'invalid_grant' } }`), so operators can tell which error happened.
 */
function isErrorCode(key: string, value: unknown, inError: boolean): boolean {
  return inError && key === 'code' && (typeof value === 'string' || typeof value === 'number');
}

function scrub(value: unknown, walk: Walk, inError = false): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (walk.ancestors.includes(value)) return '[circular]';
  walk.budget -= 1 + walk.ancestors.length;
  if (walk.budget < 0) return '[truncated]';
  if (value instanceof Error) return loggableError(value, walk);
  if (Array.isArray(value)) {
    walk.ancestors.push(value);
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = scrub(value[i], walk);
      if (v !== value[i]) (out ??= value.slice())[i] = v;
    }
    walk.ancestors.pop();
    return out ?? value;
  }
  // Class instances (a request, a Date, a Buffer) are left to pino's serializers and their toJSON.
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  walk.ancestors.push(value);
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key];
    const next =
      SECRET.has(key) && !isErrorCode(key, v, inError)
        ? CENSOR
        : key === 'message' && typeof v === 'string'
          ? safeMessage(v)
          : scrub(v, walk, key === 'err');
    if (next !== v) (out ??= { ...(value as Record<string, unknown>) })[key] = next;
  }
  walk.ancestors.pop();
  return out ?? value;
}

/**
 * Drizzle's "Failed query: <sql>\nparams: <values>" carries the values of the statement — a new user's
 * password hash, a typed login — and the driver's own message may quote one ("invalid input syntax for
 * type uuid: \"...\""): a database error is logged as its SQLSTATE only.
 */
function safeMessage(message: string): string {
  return message.startsWith('Failed query') ? 'database query failed' : message;
}

/** The stack's frames without its first lines, which repeat the message. */
function framesOf(stack: string | undefined): string | undefined {
  return stack
    ?.split('\n')
    .filter((line) => /^\s+at /.test(line))
    .join('\n');
}

/**
 * An error as a plain object (what pino's err serializer would write) with its own fields redacted like
 * any other; a database error (a SQLSTATE in its cause chain, or Drizzle's query error) keeps only its
 * code, constraint and frames: never the SQL text, the parameters or the driver's message.
 */
function loggableError(e: Error, walk: Walk): Record<string, unknown> {
  const own = e as unknown as Record<string, unknown>;
  const { code, constraint } = sqlState(e);
  if (code !== undefined || ('query' in own && 'params' in own)) {
    return {
      type: e.name,
      message: code ? `database error (SQLSTATE ${code})` : 'database query failed',
      ...(code ? { code } : {}),
      ...(constraint ? { constraint } : {}),
      stack: framesOf(e.stack),
    };
  }
  walk.ancestors.push(e);
  const out: Record<string, unknown> = { type: e.constructor?.name ?? e.name, message: safeMessage(e.message), stack: e.stack };
  for (const key of Object.keys(e)) out[key] = SECRET.has(key) && !isErrorCode(key, own[key], true) ? CENSOR : scrub(own[key], walk);
  if (e.cause !== undefined) out.cause = scrub(e.cause, walk);
  walk.ancestors.pop();
  return out;
}

/** Errors logged through `log.x({ err })` were made loggable by redactSecrets; one in a child's bindings is made so here. */
function errSerializer(err: unknown) {
  const safe = err instanceof Error ? loggableError(err, { budget: WORK_BUDGET, ancestors: [] }) : err;
  return safe as { type: string; message: string; stack: string; [key: string]: unknown };
}

export function loggerOptions(config: Config, stream?: NodeJS.WritableStream) {
  const base = {
    level: config.LOG_LEVEL,
    redact: { paths: REDACT_PATHS, censor: CENSOR },
    formatters: { log: redactSecrets },
    serializers: { err: errSerializer },
  };
  if (stream) return { ...base, stream };
  if (config.NODE_ENV === 'development' && process.stdout.isTTY && prettyAvailable()) {
    return { ...base, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' } } };
  }
  // One per process: every app of the process writes to the same standard output.
  stdout ??= stdoutDestination(config.LOG_FLUSH_MS);
  return { ...base, stream: stdout };
}

let stdout: LogDestination | undefined;

/** Write what the standard-output log holds now (the server closing). */
export function flushLog() {
  stdout?.flush();
}

/**
 * pino-pretty is a devDependency: a production install (npm ci --omit=dev) lacks it, and naming a
 * missing transport makes pino throw at start. Pretty output only when it actually resolves.
 */
function prettyAvailable(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Request ids: a trusted proxy's X-Request-Id is kept (so one id follows a request across hops), otherwise a new one. */
export function requestIdGenerator(config: Config) {
  const trusted = new Networks(config.trustedProxies);
  return (req: IncomingMessage) => {
    const given = req.headers['x-request-id'];
    if (typeof given === 'string' && REQUEST_ID.test(given) && trusted.has(req.socket.remoteAddress)) return given;
    return randomUUID();
  };
}

/**
 * One JSON line per request: id, method, route, path (no query string: it may carry a token), status,
 * time, user. Written by the root logger with `reqId` first, so the line is the one the request's child
 * logger would write, without making that child.
 */
export function installRequestLogging(app: FastifyInstance) {
  const log = app.log;
  // The X-Request-Id header is set with the security headers (one hook for all per-request headers).
  app.addHook('onResponse', (request, reply, done) => {
    log.info(
      {
        reqId: request.id,
        method: request.method,
        route: request.routeOptions.url ?? null,
        path: pathOf(request.url),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        ip: request.ip,
        user: request.auth?.user?.id ?? request.auth?.clientId ?? null,
      },
      'request',
    );
    done();
  });
}

/** installRequestLogging as a plugin on the root instance, before any route (src/platform/pipeline.ts). */
export const requestLoggingPlugin = fp(
  async (app: FastifyInstance) => {
    installRequestLogging(app);
  },
  { name: 'warden-logging', fastify: '5.x' },
);

/** The path without the query string (which may carry a token). */
function pathOf(url: string) {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
