import { setFlagsFromString } from 'node:v8';

/**
 * Idle memory: while the modules load, nearly everything V8 allocates survives, so it keeps doubling
 * the young generation up to its maximum (2 x 16 MB semi-spaces) and never gives it back: ~12 MB of an
 * idle server's RSS (docs/benchmarks.md). Holding the young generation at its initial size until the
 * server is ready keeps that out; afterwards it may grow again as request traffic needs.
 *
 * This module is the first import of the CLI, so the flag is set before the other modules evaluate.
 * (`--max-semi-space-size` would do the same only as a node command-line flag.)
 */
setFlagsFromString('--semi-space-growth-factor=1');

export function releaseYoungGeneration() {
  setFlagsFromString('--semi-space-growth-factor=2');
}
