import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import type { FastifyServerOptions } from 'fastify';

type Factory = ReturnType<typeof SerializerSelector>;
type Compiler = ReturnType<Factory>;
type Serializer = ReturnType<Compiler>;

/**
 * Route schemas compiled on first use (see docs/decisions/0001-lazy-schema-compilation.md), each one
 * also listed here so `compileAll` can compile every one at once: the test that keeps a broken schema
 * from waiting for its first request in production.
 */
export class DeferredCompiles {
  readonly #pending = new Set<() => unknown>();

  /** A getter that runs `compile` once, on its first call or at `compileAll`, whichever comes first. */
  defer<T>(compile: () => T): () => T {
    let compiled: { value: T } | undefined;
    const get = () => {
      if (!compiled) {
        compiled = { value: compile() };
        this.#pending.delete(get);
      }
      return compiled.value;
    };
    this.#pending.add(get);
    return get;
  }

  /** Compile everything not compiled yet (throws on the first schema that does not compile); how many were. */
  compileAll(): number {
    const pending = [...this.#pending];
    for (const get of pending) get();
    return pending.length;
  }
}

/** Fastify's own response serializers (fast-json-stringify), each compiled on its route's first answer with that status. */
export function lazySerializers(deferred: DeferredCompiles): NonNullable<FastifyServerOptions['schemaController']> {
  const eager = SerializerSelector();
  const buildSerializer: Factory = (externalSchemas, options) => {
    const compile = eager(externalSchemas, options);
    return (route) => {
      const serializer = deferred.defer<Serializer>(() => compile(route));
      return (doc) => serializer()(doc);
    };
  };
  return { compilersFactory: { buildSerializer } };
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The route schemas not compiled yet (see DeferredCompiles). */
    deferredCompiles: DeferredCompiles;
  }
}
