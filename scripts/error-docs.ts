// Writes docs/errors.md from the error catalogue (src/kernel/error-catalogue.ts): npx tsx scripts/error-docs.ts
// test/http/error-catalogue.test.ts fails while the file differs from what this writes.
import { writeFileSync } from 'node:fs';
import { catalogueMarkdown } from '../src/platform/error-page.js';

const file = new URL('../docs/errors.md', import.meta.url);
writeFileSync(file, catalogueMarkdown());
console.log(`error-docs: ${file.pathname}`);
