import { Ajv, type Options } from 'ajv';
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

export function validatorCompiler(): FastifySchemaCompiler<unknown> {
  const body = ajv({ coerceTypes: false, useDefaults: true });
  const text = ajv({ coerceTypes: 'array', useDefaults: true });
  return ({ schema, httpPart }) => (httpPart === 'body' ? body : text).compile(schema as object) as ReturnType<FastifySchemaCompiler<unknown>>;
}
