import { setFlagsFromString } from 'node:v8';
import { v8StartupTuning } from './v8-startup-tuning.js';

/**
 * While the modules load nearly everything V8 allocates survives, so it keeps doubling the young
 * generation to its maximum (2 x 16 MB semi-spaces) and never gives it back. Holding it at its initial
 * size until the server is ready keeps that out of an idle server's memory; afterwards it may grow as
 * request traffic needs. Why and how much: docs/decisions/0003-v8-startup-tuning.md.
 *
 * Imported before the other modules of the CLI, so the flag is set before they evaluate
 * (`--max-semi-space-size` would do it only as a node command-line flag, and for good).
 */
if (v8StartupTuning) setFlagsFromString('--semi-space-growth-factor=1');

export function releaseYoungGeneration() {
  if (v8StartupTuning) setFlagsFromString('--semi-space-growth-factor=2');
}
