import { Ajv, type Options, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

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

/**
 * Each route's validator is compiled on the route's first request, not at start: compiling the ~100
 * route schemas took ~0.1 s of every start and their code stayed in memory on routes never called.
 */
export function validatorCompiler(): FastifySchemaCompiler<unknown> {
  const body = ajv({ coerceTypes: false, useDefaults: true });
  const text = ajv({ coerceTypes: 'array', useDefaults: true });
  return ({ schema, httpPart }) => {
    let compiled: ValidateFunction | undefined;
    const validate = (data: unknown) => {
      compiled ??= (httpPart === 'body' ? body : text).compile(schema as object);
      const ok = compiled(data);
      validate.errors = compiled.errors;
      return ok;
    };
    validate.errors = null as ValidateFunction['errors'];
    return validate as ReturnType<FastifySchemaCompiler<unknown>>;
  };
}
