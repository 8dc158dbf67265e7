const SOURCES = {
  '@warden/resource-server': new URL('../../packages/resource-server/src/index.ts', import.meta.url).href,
  '@warden/resource-server/fastify': new URL('../../packages/resource-server/src/fastify.ts', import.meta.url).href,
};

export async function resolve(specifier, context, next) {
  const url = SOURCES[specifier];
  // Handed on to the next resolver (tsx), which knows how to load TypeScript.
  return next(url ?? specifier, context);
}
