#!/usr/bin/env node
// Builds what `npm start` and the `warden` bin run: src/cli/main.ts and the libraries it imports as one
// ES module file (plus chunks for what is loaded only on demand), so a start reads a handful of files
// instead of ~1,400 (typebox alone is ~680 small modules: ~280 ms of a start on this machine).
//
// Usage: node scripts/bundle.mjs [outdir]   (default: dist; the entry lands in <outdir>/cli/main.js)
//
// The code finds assets/, drizzle/ and package.json by walking up from its own file to the package root
// (src/kernel/paths.ts); the outdir must therefore sit under the repository root.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const outdir = resolve(root, process.argv[2] ?? 'dist');
if (resolve(outdir, '..') !== resolve(root)) {
  console.error(`bundle: the outdir must sit directly under ${root} (the code's import.meta.url paths depend on it)`);
  process.exit(1);
}

// Left to node_modules: packages that read files beside themselves at run time (PGlite's WebAssembly
// and data files, swagger-ui's static assets, pino's worker threads),
// native addons, and the optional native PostgreSQL driver that pg only tries to require.
const external = [
  '@electric-sql/pglite',
  '@node-rs/argon2',
  '@node-rs/bcrypt',
  '@fastify/swagger-ui',
  'pino',
  'pino-pretty',
  'thread-stream',
  'pg-native',
];

/**
 * @fastify/cookie loads the CommonJS `cookie` package with `await import('cookie')`. Bundled, that
 * becomes a chunk whose only export is `default` (esbuild's interop for a module marked __esModule), so
 * `cookieModule.stringifySetCookie` is undefined and every page that sets a cookie (the console, the
 * /authorize and /account pages) answered 500 under `npm start`. A plain require() keeps the package's
 * own exports object.
 */
const fastifyCookieInterop = {
  name: 'fastify-cookie-interop',
  setup(b) {
    b.onLoad({ filter: /[\\/]@fastify[\\/]cookie[\\/]index\.js$/ }, async (args) => {
      const source = readFileSync(args.path, 'utf8');
      const patched = source.replace(/await import\((['"])cookie\1\)/g, "require('cookie')");
      if (patched === source) throw new Error(`bundle: ${args.path} no longer loads 'cookie' with await import(); check the interop workaround`);
      return { contents: patched, loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

rmSync(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { 'cli/main': 'src/cli/main.ts' },
  outdir,
  bundle: true,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'bundle',
  external,
  plugins: [fastifyCookieInterop],
  sourcemap: true,
  legalComments: 'linked',
  logLevel: 'warning',
  // CommonJS libraries inside an ES module bundle still call require() for node's own modules, and a
  // few name __dirname on error paths.
  banner: {
    js: [
      "import { createRequire as __wardenCreateRequire } from 'node:module';",
      "import { fileURLToPath as __wardenFileURLToPath } from 'node:url';",
      'const require = __wardenCreateRequire(import.meta.url);',
      'const __filename = __wardenFileURLToPath(import.meta.url);',
      "const __dirname = __wardenFileURLToPath(new URL('.', import.meta.url));",
    ].join('\n'),
  },
});
console.log(`bundle: ${join(outdir, 'cli/main.js')}`);
