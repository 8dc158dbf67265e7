import { after } from 'node:test';

// Process-wide test resources (the shared test database) and their ends. A test process runs many test
// files (test/support/group.ts): a resource shared by them is emptied between files and closed when the
// process is done, not by the first file's `after`. A file run on its own (node --test <file>) closes it
// in its root `after`, as before.
const grouped = Boolean(process.env.WARDEN_TEST_PLAN);
const atEnd: Array<() => Promise<void>> = [];
const between: Array<() => Promise<void>> = [];

/** Run `fn` when the process's last test file is done. */
export function atProcessEnd(fn: () => Promise<void>): void {
  if (grouped) atEnd.push(fn);
  else after(fn);
}

/** Run `fn` before each test file but the first of the process: it leaves the next file a clean state. */
export function betweenFiles(fn: () => Promise<void>): void {
  between.push(fn);
}

export async function runBetweenFiles(): Promise<void> {
  for (const fn of between) await fn();
}

export async function runProcessTeardown(): Promise<void> {
  for (const fn of atEnd.splice(0)) await fn();
}
