import { readFileSync } from 'node:fs';

/** The package's version (package.json sits two levels up from src/config and from the bundle's dist/cli). */
export function wardenVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
