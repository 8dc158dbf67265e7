import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import type { FastifyServerOptions } from 'fastify';

type Factory = ReturnType<typeof SerializerSelector>;
type Compiler = ReturnType<Factory>;
type Serializer = ReturnType<Compiler>;

/**
 * Fastify's own response serializers (fast-json-stringify), each compiled on its route's first answer
 * with that status instead of at start: compiling every response schema was ~0.07 s of each start and
 * kept their code in memory for routes never called. The validators are lazy too (validation.ts).
 */
export function lazySerializers(): NonNullable<FastifyServerOptions['schemaController']> {
  const eager = SerializerSelector();
  const buildSerializer: Factory = (externalSchemas, options) => {
    const compile = eager(externalSchemas, options);
    return (route) => {
      let compiled: Serializer | undefined;
      return (doc) => (compiled ??= compile(route))(doc);
    };
  };
  return { compilersFactory: { buildSerializer } };
}
