import { ROOT } from '../support/process.js';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { SettingsSchema } from '../../src/app/settings.js';

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** README.md and every Markdown file under docs/: the documentation whose links must hold. */
function markdownFiles(): string[] {
  const out = ['README.md'];
  const walk = (dir: string) => {
    for (const name of readdirSync(join(ROOT, dir))) {
      const path = join(dir, name);
      if (statSync(join(ROOT, path)).isDirectory()) walk(path);
      else if (name.endsWith('.md')) out.push(path);
    }
  };
  walk('docs');
  return out;
}

/** Text outside fenced code blocks and inline code, where a link is a link. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const [, heading] of markdown.replace(/^```[\s\S]*?^```/gm, '').matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const text = heading!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/<[^>]+>/g, '');
    const slug = text.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  for (const [, id] of markdown.matchAll(/<a (?:id|name)="([^"]+)"/g)) out.add(id!);
  return out;
}

describe('README', () => {
  const readme = read('README.md');

  it('stays the front door: under 12 KB', () => {
    const bytes = Buffer.byteLength(readme);
    assert.ok(bytes < 12 * 1024, `README.md is ${bytes} bytes; move detail to docs/ (the limit is 12288)`);
  });

  it('gives the two commands', () => {
    assert.ok(readme.includes('npm install && npm start'));
    assert.ok(readme.includes('npm install && npm test'));
  });

  it('walks a first session: an admin, a user, a token at /token, a protected route, the console', () => {
    const walkthrough = /<!-- section:walkthrough -->([\s\S]*?)<!-- \/section:walkthrough -->/.exec(readme)?.[1];
    assert.ok(walkthrough, 'the walkthrough section is marked (test/docs/walkthrough.test.ts runs it)');
    for (const step of ['npx warden user create', 'npm start', '-X POST http://127.0.0.1:8420/users', '-X POST http://127.0.0.1:8420/token', 'Authorization: Bearer $TOKEN', 'http://127.0.0.1:8420/admin ']) {
      assert.ok(walkthrough.includes(step), `the walkthrough shows ${step}`);
    }
  });

  it('links the kit for FastAPI, Fastify and Express', () => {
    for (const line of ['auth.require_scope(', "from '@warden/resource-server/fastify'", "from '@warden/resource-server'", '](docs/resource-server.md']) {
      assert.ok(readme.includes(line), line);
    }
  });
});

describe('docs', () => {
  it('docs/configuration.md documents every setting in the settings table', () => {
    const doc = read('docs/configuration.md');
    const missing = Object.keys(SettingsSchema.properties).filter((name) => !doc.includes(`| \`${name}\` |`));
    assert.deepEqual(missing, [], 'run: npx tsx scripts/settings-table.ts and paste it into docs/configuration.md');
  });

  // The sections are defined by their owners and composed in ORDER (src/app/settings.ts): the table keeps that order.
  it('docs/configuration.md lists the settings in the order of the composed schema', () => {
    const rows = [...read('docs/configuration.md').matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map(([, name]) => name);
    assert.deepEqual(rows, Object.keys(SettingsSchema.properties));
  });

  it('every relative link in README.md and docs/ points to an existing file, and its anchor to a heading', () => {
    const broken: string[] = [];
    for (const file of markdownFiles()) {
      const text = read(file);
      for (const [, target] of prose(text).matchAll(/\]\(([^)\s]+)(?: "[^"]*")?\)/g)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target!)) continue; // http:, https:, mailto:
        const [path, anchor] = target!.split('#') as [string, string | undefined];
        const abs = path === '' ? join(ROOT, file) : resolve(ROOT, dirname(file), decodeURIComponent(path));
        const where = `${file}: (${target})`;
        if (!abs.startsWith(ROOT)) broken.push(`${where} leaves the repository`);
        else if (!existsSync(abs)) broken.push(`${where}: no file ${relative(ROOT, abs)}`);
        else if (anchor && abs.endsWith('.md') && !anchors(readFileSync(abs, 'utf8')).has(anchor)) {
          broken.push(`${where}: no heading #${anchor} in ${relative(ROOT, abs)}`);
        }
      }
    }
    assert.deepEqual(broken, []);
  });

  it('every repository path named in the prose of README.md and docs/ (src/…, test/…, scripts/…) exists', () => {
    // Code blocks are left out: they name files the reader creates (deploy/warden.env).
    const gone: string[] = [];
    const path = /(?<![\w./-])((?:src|test|scripts|bench|deploy|examples|packages|python|assets|drizzle)\/[\w./-]*\w)/g;
    for (const file of markdownFiles()) {
      const text = read(file).replace(/^```[\s\S]*?^```/gm, '');
      for (const [, named] of text.matchAll(path)) if (!existsSync(join(ROOT, named!))) gone.push(`${file}: ${named}`);
    }
    assert.deepEqual([...new Set(gone)], [], 'a file moved: say where it is now');
  });

  it('docs/dependencies.md says why each package in package.json is there', () => {
    const doc = read('docs/dependencies.md');
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    const missing = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies)].filter((name) => !doc.includes(`\`${name}\``));
    assert.deepEqual(missing, []);
  });
});
