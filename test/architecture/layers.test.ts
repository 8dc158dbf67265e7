import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT } from '../support/process.js';

// The layering rule (.dependency-cruiser.cjs, run by `npm run lint` and so by CI):
// kernel <- platform <- features <- app <- cli, and no import cycles.
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const DEPCRUISE = join(ROOT, 'node_modules/.bin/depcruise');

function cruise(cwd: string) {
  const r = spawnSync(DEPCRUISE, ['src', '--config', CONFIG, '--output-type', 'err'], { cwd, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** A throw-away tree of modules laid out like src/, each importing the given specifiers. */
function tree(files: Record<string, string[]>) {
  const dir = mkdtempSync(join(tmpdir(), 'warden-layers-'));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }));
  for (const [file, imports] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), `${imports.map((s, i) => `import * as m${i} from '${s}';\nvoid m${i};`).join('\n')}\nexport const x = 1;\n`);
  }
  return dir;
}

test("Warden's own src/ follows the layers", () => {
  const r = cruise(ROOT);
  assert.equal(r.status, 0, r.out);
});

// One tree with one breach of each rule (one cruise: each takes seconds), then the same layers without.
const breaches: Record<string, Record<string, string[]>> = {
  'kernel-imports-upward': { 'src/kernel/a.ts': ['../features/users/b.js'] },
  'platform-imports-upward': { 'src/platform/a.ts': ['../features/users/b.js'] },
  'features-imports-upward': { 'src/features/users/a.ts': ['../../app/b.js'] },
  'app-imports-upward': { 'src/app/a.ts': ['../cli/b.js'] },
  'outside-the-layers': { 'src/stray.ts': ['./kernel/b.js'] },
  'no-circular': { 'src/features/tokens/a.ts': ['./b.js'], 'src/features/tokens/b.ts': ['./a.js'] },
};
const leaves = { 'src/features/users/b.ts': [], 'src/app/b.ts': [], 'src/cli/b.ts': [], 'src/kernel/b.ts': [] };

test('the rule refuses an upward import from each layer, a module outside the layers and a cycle', () => {
  const dir = tree(Object.assign({}, leaves, ...Object.values(breaches)));
  try {
    const r = cruise(dir);
    assert.notEqual(r.status, 0, r.out);
    for (const rule of Object.keys(breaches)) assert.match(r.out, new RegExp(`error ${rule}:`), rule);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
test('the rule allows a feature importing the kernel, the platform and another feature', () => {
  const dir = tree({
    'src/features/users/a.ts': ['../../kernel/k.js', '../../platform/p.js', '../tokens/t.js'],
    'src/kernel/k.ts': [],
    'src/platform/p.ts': ['../kernel/k.js'],
    'src/features/tokens/t.ts': ['../../kernel/k.js'],
  });
  try {
    const r = cruise(dir);
    assert.equal(r.status, 0, r.out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
