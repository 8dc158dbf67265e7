#!/usr/bin/env node
// `npm install` / `npm ci` run this (the `prepare` script): build dist/ when the build tool is there.
// A production install (`npm ci --omit=dev`, or NODE_ENV=production) has no esbuild: it installs the
// runtime dependencies beside a dist/ built earlier (deploy/Dockerfile's build stage, or
// `npm run build` on a machine with the dev dependencies) and must not fail for want of a build tool.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
let hasEsbuild = true;
try {
  createRequire(import.meta.url).resolve('esbuild');
} catch {
  hasEsbuild = false;
}

if (!hasEsbuild) {
  const built = existsSync(new URL('../dist/cli/main.js', import.meta.url));
  console.log(
    built
      ? 'prepare: esbuild is not installed (production install): not building; the existing dist/ is used'
      : 'prepare: esbuild is not installed (production install) and dist/ is missing: build it where the dev dependencies are (npm run build) and copy dist/ here (docs/deployment.md)',
  );
  process.exit(0);
}
const run = spawnSync(process.execPath, ['scripts/bundle.mjs'], { cwd: root, stdio: 'inherit' });
process.exit(run.status ?? 1);
