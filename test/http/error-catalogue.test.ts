import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { composeCatalogue, ERROR_CATALOGUE, ERROR_CODES } from '../../src/app/error-catalogue.js';
import { KERNEL_ERROR_CODES, type CatalogueEntry, type ErrorCode, type ErrorCodes } from '../../src/kernel/error-catalogue.js';
import { catalogueMarkdown } from '../../src/platform/error-page.js';
import { OAuthError, ProblemError } from '../../src/kernel/errors.js';
import { PAGE_CSP } from '../../src/kernel/html/html.js';
import { createTestApp, STRONG_PASSWORD, type TestApp } from '../support/app.js';
import { freePort, ROOT } from '../support/process.js';

/**
 * Problem `type` URIs point at this server's own error catalogue (GET /docs/errors, anchored by code),
 * not at a domain the project does not hold; docs/errors.md is the same catalogue, and the catalogue is
 * the only source of codes.
 */
/** Every source file of src/ but the catalogue's own (the kernel's, the features' error-codes.ts, the app's composition), by path. */
function sourceFiles(): Map<string, string> {
  const sources = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith('error-catalogue.ts') && !p.endsWith('error-codes.ts')) sources.set(relative(ROOT, p).split(sep).join('/'), readFileSync(p, 'utf8'));
    }
  };
  walk(join(ROOT, 'src'));
  return sources;
}
function all(): string {
  return [...sourceFiles().values()].join('\n');
}

/** Every src/features/<name>/error-codes.ts, found on disk (not through the app's list), with its entries. */
async function featureCodeFiles(): Promise<Array<{ feature: string; codes: Record<string, CatalogueEntry> }>> {
  const dir = join(ROOT, 'src/features');
  const files: Array<{ feature: string; codes: Record<string, CatalogueEntry> }> = [];
  for (const feature of readdirSync(dir).sort()) {
    if (!existsSync(join(dir, feature, 'error-codes.ts'))) continue;
    const mod = (await import(new URL(`../../src/features/${feature}/error-codes.js`, import.meta.url).href)) as Record<string, Record<string, CatalogueEntry>>;
    const exported = Object.values(mod);
    assert.equal(exported.length, 1, `src/features/${feature}/error-codes.ts exports one object of entries`);
    files.push({ feature, codes: exported[0]! });
  }
  return files;
}

describe('the error catalogue', () => {
  let t: TestApp;
  let url: string;
  before(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    t = await createTestApp({ env: { PUBLIC_URL: `${url}/` } });
    await t.app.listen({ port, host: '127.0.0.1' });
  });
  after(() => t?.close());

  const post = (path: string, body: unknown) =>
    fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it("gives a 404, a 422 and a 409 a type that resolves to that code's anchor on GET /docs/errors", async () => {
    await post('/users', { username: 'alice', email: 'alice@example.com', password: STRONG_PASSWORD });
    const answers = [
      { res: await fetch(`${url}/no/such/route`), status: 404, code: 'not_found' },
      { res: await post('/users', { username: 'bob' }), status: 422, code: 'validation_failed' },
      { res: await post('/users', { username: 'alice', email: 'other@example.com', password: STRONG_PASSWORD }), status: 409, code: 'username_taken' },
    ];
    for (const { res, status, code } of answers) {
      assert.equal(res.status, status);
      assert.match(String(res.headers.get('content-type')), /^application\/problem\+json/);
      const body = (await res.json()) as { type: string; code: string };
      assert.equal(body.code, code);
      assert.equal(body.type, `${url}/docs/errors#${code}`, 'PUBLIC_URL (its trailing slash dropped), the page, the code');
      const [pageUrl, anchor] = body.type.split('#');
      const page = await fetch(pageUrl!);
      assert.equal(page.status, 200);
      assert.match(String(page.headers.get('content-type')), /^text\/html/);
      const text = await page.text();
      assert.ok(text.includes(`id="${anchor}"`), `the page has the anchor #${anchor}`);
      assert.ok(text.includes(ERROR_CATALOGUE[code as ErrorCode].title));
    }
  });

  it('serves the page publicly, declared so, with the strict page CSP and no script', async () => {
    const res = await fetch(`${url}/docs/errors`);
    assert.equal(res.headers.get('content-security-policy'), PAGE_CSP);
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    const text = await res.text();
    assert.ok(!/<script|\sstyle=|\son\w+=/i.test(text), 'nothing inline for the CSP to forbid');
    for (const code of Object.keys(ERROR_CATALOGUE)) assert.ok(text.includes(`id="${code}"`), `#${code} is on the page`);
    const entry = t.app.accessTable.find((e) => e.method === 'GET' && e.url === '/docs/errors');
    assert.equal(entry?.access.kind, 'public');
  });

  it('is served when DOCS=disabled too: every problem points at it', async () => {
    const off = await createTestApp({ env: { DOCS: 'disabled' } });
    try {
      assert.equal((await off.app.inject({ method: 'GET', url: '/docs' })).statusCode, 404);
      assert.equal((await off.app.inject({ method: 'GET', url: '/docs/errors' })).statusCode, 200);
    } finally {
      await off.close();
    }
  });

  it('docs/errors.md is generated from the catalogue (run: npx tsx scripts/error-docs.ts)', () => {
    assert.equal(readFileSync(join(ROOT, 'docs/errors.md'), 'utf8'), catalogueMarkdown(ERROR_CATALOGUE), 'docs/errors.md is stale: npx tsx scripts/error-docs.ts');
  });

  it('lists only codes the server uses, each explained', () => {
    const source = all();
    for (const [code, e] of Object.entries(ERROR_CATALOGUE)) {
      assert.ok(source.includes(`'${code}'`), `${code} is catalogued but nothing in src answers with it`);
      assert.ok(e.text.length > 40 && e.title.length > 2, `${code} is explained`);
    }
  });

  it('gives each code the status the catalogue says', () => {
    const factories: Record<string, number> = { badRequest: 400, conflict: 409, forbidden: 403, unprocessable: 422 };
    const calls = [
      ...all().matchAll(/new ProblemError\(\s*(\d{3}),\s*'([a-z_]+)'/g),
      ...[...all().matchAll(/\b(badRequest|conflict|forbidden|unprocessable)\(\s*'([a-z_]+)'/g)].map((m) => [m[0], String(factories[m[1]!]), m[2]] as const),
    ];
    assert.ok(calls.length > 40, `found ${calls.length} problems raised in src`);
    for (const [, status, code] of calls) {
      const entry = ERROR_CATALOGUE[code as ErrorCode];
      assert.ok(entry.status.includes(Number(status)), `${code} is raised with ${status}; the catalogue says ${entry.status.join(', ')}`);
    }
  });

  it('refuses an uncatalogued code at compile time', () => {
    // The catalogue is the only source of codes: each line below must fail the typecheck (npm run
    // typecheck fails on an unused @ts-expect-error if a constructor ever takes any string again).
    // @ts-expect-error -- not a catalogued problem code
    const p = new ProblemError(400, 'not_in_the_catalogue', 'x');
    // @ts-expect-error -- not a catalogued OAuth error code
    const o = new OAuthError('not_in_the_catalogue', 'x');
    // @ts-expect-error -- an OAuth-only code is not a problem code
    const m = new ProblemError(400, 'invalid_grant', 'x');
    // @ts-expect-error -- a feature's OAuth-only code (src/features/oauth/error-codes.ts) is not a problem code
    const f = new ProblemError(400, 'login_required', 'x');
    // A feature's own codes are catalogued through declaration merging.
    const u = new ProblemError(409, 'username_taken', 'x');
    const l = new OAuthError('login_required', 'x');
    assert.ok(p && o && m && f && u && l);
  });
});

describe('the features own their error codes (issue 14)', () => {
  it("the composed catalogue holds every code of the kernel's and of every feature's file exactly once", async () => {
    const files = await featureCodeFiles();
    assert.ok(files.length >= 8, `found ${files.length} features with error codes`);
    const owners = new Map<string, string[]>();
    for (const { feature, codes } of [{ feature: 'kernel', codes: KERNEL_ERROR_CODES as Record<string, CatalogueEntry> }, ...files]) {
      assert.ok(Object.keys(codes).length > 0, `${feature} defines codes`);
      for (const code of Object.keys(codes)) owners.set(code, [...(owners.get(code) ?? []), feature]);
    }
    const twice = [...owners].filter(([, by]) => by.length > 1).map(([code, by]) => `${code} (${by.join(', ')})`);
    assert.deepEqual(twice, [], 'no code is defined by two owners');
    assert.deepEqual(Object.keys(ERROR_CATALOGUE).sort(), [...owners.keys()].sort(), 'the catalogue holds every code, and no other');
    for (const { feature, codes } of files) {
      assert.equal((ERROR_CODES as unknown as Record<string, unknown>)[feature], codes, `the app composes src/features/${feature}/error-codes.ts under its name`);
      for (const [code, entry] of Object.entries(codes)) assert.equal(ERROR_CATALOGUE[code as ErrorCode], entry, `${code} is ${feature}'s entry`);
    }
    assert.deepEqual(Object.keys(ERROR_CODES).sort(), ['kernel', ...files.map((f) => f.feature)].sort());
  });

  it('composing refuses a code two owners define, or one the page order leaves out', () => {
    const order = Object.keys(ERROR_CATALOGUE) as ErrorCode[];
    const twice = { ...ERROR_CODES, console: { ...ERROR_CODES.console, not_found: KERNEL_ERROR_CODES.not_found } } as ErrorCodes;
    assert.throws(() => composeCatalogue(twice, order), /error code not_found is defined by both kernel and console/);
    assert.throws(() => composeCatalogue(ERROR_CODES, order.filter((c) => c !== 'login_required')), /error code login_required is not placed in the order/);
    assert.throws(() => composeCatalogue(ERROR_CODES, [...order, 'not_found']), /error code not_found is placed twice in the order/);
  });

  it("a feature's own code is raised by that feature only; shared codes are the kernel's", async () => {
    const sources = sourceFiles();
    for (const { feature, codes } of await featureCodeFiles()) {
      for (const code of Object.keys(codes)) {
        const elsewhere = [...sources]
          .filter(([path, text]) => /^src\/(kernel|platform|features)\//.test(path) && !path.startsWith(`src/features/${feature}/`) && text.includes(`'${code}'`))
          .map(([path]) => path);
        assert.deepEqual(elsewhere, [], `${code} (src/features/${feature}/error-codes.ts) is used outside ${feature}: move it to src/kernel/error-catalogue.ts`);
      }
    }
  });
});
