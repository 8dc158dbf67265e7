#!/usr/bin/env node
// The `prepare` script: compile dist/ when TypeScript is installed. A production install of the
// workspace (`npm ci --omit=dev` at the repository root) has no TypeScript and needs no kit build
// (the server does not import the kit), so it says so and succeeds instead of failing on `tsc`.
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  console.log('prepare: typescript is not installed (production install): @warden/resource-server is not built');
  process.exit(0);
}
const run = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: new URL('..', import.meta.url).pathname, stdio: 'inherit' });
process.exit(run.status ?? 1);
