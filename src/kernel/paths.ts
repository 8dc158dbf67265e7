import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package's root directory (where package.json, assets/ and drizzle/ are), found by walking up from
 * this module: it is src/kernel/ when run from the sources and dist/cli/ (or a chunk beside it) when run
 * from the bundle, so a fixed '../..' cannot serve both.
 */
export const PACKAGE_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'drizzle'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package root above ${from}`);
  }
}

/** A file shipped with the package (assets/, drizzle/, package.json). */
export function packageFile(...parts: string[]): string {
  return join(PACKAGE_ROOT, ...parts);
}
