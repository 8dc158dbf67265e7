import { readFileSync } from 'node:fs';
import { packageFile } from '../paths.js';

/** The package's version. */
export function wardenVersion(): string {
  try {
    return (JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
