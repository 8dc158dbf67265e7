import { join } from 'node:path';
import { ROOT } from '../support/process.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../support/app.js';

/**
 * docs/endpoints.md lists every route the app serves, except the HTML pages' own form posts and static
 * assets (which it says it leaves out): a route added without its row fails here.
 */
const UNLISTED = [/^\/admin\/console(\/|$)/, /^\/account\//, /^\/static\//, /^\/docs\/static\//, /\/form$/];

describe('docs/endpoints.md', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  it('has a row for every route the app serves', () => {
    const doc = readFileSync(join(ROOT, 'docs/endpoints.md'), 'utf8');
    const rows = doc.split('\n').filter((line) => line.startsWith('| `'));
    const paths = new Set(t.app.accessTable.filter((e) => e.method !== 'HEAD').map((e) => e.url.replace(/:(\w+)/g, '{$1}')));
    assert.ok(paths.size > 60, `walked ${paths.size} paths`);
    const missing = [...paths].filter((path) => !UNLISTED.some((re) => re.test(path)) && !rows.some((row) => new RegExp(`[\\s\`]${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[\`,\\s]`).test(row)));
    assert.deepEqual(missing, []);
  });
});
