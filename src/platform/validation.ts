import { Ajv, type Options, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifySchemaCompiler } from 'fastify';
import { ProblemError } from '../kernel/errors.js';
import { unstorableText } from '../kernel/storage/errors.js';
import type { DeferredCompiles } from './serialization.js';

/**
 * Two validators. Bodies are checked as sent — no type coercion (`5` is not a title, `null` is not
 * ""), no defaults invented, unknown fields refused (mass assignment must be visible, never dropped).
 * Query strings, params and headers arrive as text, so there numbers and booleans are coerced.
 */
function ajv(options: Options) {
  const a = new Ajv({ allErrors: false, strict: false, removeAdditional: false, ...options });
  (addFormats as unknown as (a: Ajv) => void)(a);
  return a;
}

/** Each route's validator is compiled on the route's first request (DeferredCompiles, serialization.ts). */
export function validatorCompiler(deferred: DeferredCompiles): FastifySchemaCompiler<unknown> {
  const body = ajv({ coerceTypes: false, useDefaults: true });
  const text = ajv({ coerceTypes: 'array', useDefaults: true });
  return ({ schema, httpPart }) => {
    const validator = deferred.defer(() => (httpPart === 'body' ? body : text).compile(schema as object));
    const validate = (data: unknown) => {
      const compiled = validator();
      const ok = compiled(data);
      validate.errors = compiled.errors;
      return ok;
    };
    validate.errors = null as ValidateFunction['errors'];
    return validate as ReturnType<FastifySchemaCompiler<unknown>>;
  };
}

type Part = 'body' | 'querystring' | 'params';

/** The first unstorable string (value or key) under `root`, with its JSON path; iterative, so deep JSON cannot overflow the stack. */
function findUnstorable(root: unknown): { path: string; message: string } | undefined {
  const stack: Array<[unknown, string]> = [[root, '']];
  while (stack.length) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string') {
      const message = unstorableText(value);
      if (message) return { path, message };
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push([value[i], `${path}/${i}`]);
    } else if (typeof value === 'object' && value !== null && !Buffer.isBuffer(value)) {
      for (const key of Object.keys(value)) {
        const message = unstorableText(key);
        if (message) return { path, message: `has a key that ${message.replace(/^must/, 'does not')}` };
        stack.push([(value as Record<string, unknown>)[key], `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`]);
      }
    }
  }
  return undefined;
}

/** Shaped as Fastify's own validation error, so the error handler answers it as any other (422 naming the field; 400 invalid_request on OAuth endpoints). */
function validationError(part: Part, path: string, message: string) {
  return Object.assign(new Error(`${part}${path}: ${message}`), {
    statusCode: 400,
    code: 'FST_ERR_VALIDATION',
    validation: [{ instancePath: path, keyword: 'storable', schemaPath: '#', params: {}, message }],
    validationContext: part,
  });
}

/**
 * One rule for every route, schema or none, before its validator runs: no text PostgreSQL cannot store
 * reaches a handler — from a JSON or form body, the query string or the path — and an empty path
 * segment (`/items/`) names no resource, so it is a 404 and not a lookup of "".
 */
export function installInputGuard(app: FastifyInstance) {
  app.addHook('preValidation', (request, _reply, done) => {
    const params = request.params as Record<string, string> | undefined;
    if (params) {
      for (const key in params) {
        // `*` is a wildcard route's rest of the path (static files), which may be empty.
        if (params[key] === '' && key !== '*') {
          return done(new ProblemError(404, 'not_found', `no route ${request.method} ${request.url.split('?')[0]}`));
        }
      }
    }
    const parts: Array<[Part, unknown]> = [
      ['params', params],
      ['querystring', request.query],
      ['body', request.body],
    ];
    for (const [part, value] of parts) {
      if (value === undefined || value === null) continue;
      const bad = findUnstorable(value);
      if (bad) return done(validationError(part, bad.path, bad.message) as unknown as Error);
    }
    done();
  });
}

/** The validators and the input guard, on the root instance before any route (src/platform/pipeline.ts). */
export const validationPlugin = fp(
  async (app: FastifyInstance, opts: { deferred: DeferredCompiles }) => {
    app.setValidatorCompiler(validatorCompiler(opts.deferred));
    installInputGuard(app);
  },
  { name: 'warden-validation', fastify: '5.x' },
);
