// One test process for many test files (scripts/test.mjs starts a few of these instead of one process a
// file). Each file still runs as a whole, in a suite of its own named by its path, one after another,
// with its own before/after hooks; what the files share is the process: the imports (about 1.3 s of CPU),
// the test database (a PGlite start, about 0.9 s), reset between files as between apps.
//
// The processes take files from one list, longest first, each claiming the next unclaimed one with
// mkdir (atomic: exactly one process creates a directory), so a process that drew short files takes more.
import { describe, after } from 'node:test';
import { AsyncResource } from 'node:async_hooks';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runBetweenFiles, runProcessTeardown } from './teardown.js';
import { recordFileTime, startFileTime } from './file-times.mjs';

interface Plan {
  /** The transpiled test files, in the order they are claimed. */
  files: string[];
  /** Where the claims are made (one directory per claimed file index). */
  claims: string;
  /** The transpiled tree's root, so that suites are named as the repository's files are. */
  jsRoot: string;
}

const plan = JSON.parse(readFileSync(process.env.WARDEN_TEST_PLAN!, 'utf8')) as Plan;

function claim(i: number): boolean {
  try {
    mkdirSync(join(plan.claims, String(i)));
    return true;
  } catch {
    return false;
  }
}

let next = 0;
let first = true;

/**
 * Declare the next claimed file's suite, or, when none is left, end the process's shared resources.
 * Called at the top level and from each file's last `after` hook, so the next suite exists before the
 * previous one ends: the root test is never left without one (with --test-force-exit the process ends
 * when it is). Bound to the top level's async context, so the suite is the root's child, not the hook's.
 */
const declareNext = AsyncResource.bind(async (): Promise<void> => {
  while (next < plan.files.length && !claim(next)) next++;
  if (next >= plan.files.length) {
    await runProcessTeardown();
    return;
  }
  const file = plan.files[next++]!;
  const name = relative(plan.jsRoot, file).replace(/\.js$/, '.ts');
  const firstFile = first;
  first = false;
  // A file that hangs fails by name after 10 minutes; the process goes on with the next one.
  describe(name, { timeout: 600_000 }, async () => {
    const started = startFileTime();
    try {
      if (!firstFile) await runBetweenFiles();
      await import(pathToFileURL(file).href);
    } finally {
      // Registered last, so it runs after the file's own after hooks (and also when the import failed).
      after(async () => {
        recordFileTime(name, started);
        await declareNext();
      });
    }
  });
});

await declareNext();
