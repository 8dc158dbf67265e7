// Writes docs/errors.md from the error catalogue (src/app/error-catalogue.ts): npx tsx scripts/error-docs.ts
// test/http/error-catalogue.test.ts fails while the file differs from what this writes.
import { writeFileSync } from 'node:fs';
import { catalogueMarkdown } from '../src/platform/error-page.js';
import { ERROR_CATALOGUE } from '../src/app/error-catalogue.js';

const file = new URL('../docs/errors.md', import.meta.url);
writeFileSync(file, catalogueMarkdown(ERROR_CATALOGUE));
console.log(`error-docs: ${file.pathname}`);
