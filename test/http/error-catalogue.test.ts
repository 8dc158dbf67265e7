import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ERROR_CATALOGUE } from '../../src/kernel/error-catalogue.js';
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
/** Every source file but the catalogue itself. */
function all(): string {
  const sources: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith('error-catalogue.ts')) sources.push(readFileSync(p, 'utf8'));
    }
  };
  walk(join(ROOT, 'src'));
  return sources.join('\n');
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
      assert.ok(text.includes(ERROR_CATALOGUE[code as keyof typeof ERROR_CATALOGUE].title));
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
    assert.equal(readFileSync(join(ROOT, 'docs/errors.md'), 'utf8'), catalogueMarkdown(), 'docs/errors.md is stale: npx tsx scripts/error-docs.ts');
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
      const entry = ERROR_CATALOGUE[code as keyof typeof ERROR_CATALOGUE] as { status: readonly number[] };
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
    assert.ok(p && o && m);
  });
});
