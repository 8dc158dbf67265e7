import { ROOT } from '../support/process.js';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { keptTickObject } from '../../src/cli/tick-shape.js';

describe('the kept nextTick object (src/cli/tick-shape.ts)', () => {
  it('holds one of node’s own tick objects, so V8 keeps their hidden class alive through full GCs', () => {
    const tick = keptTickObject() as Record<string | symbol, unknown> | undefined;
    assert.ok(tick, 'a tick object is kept');
    const symbols = Object.getOwnPropertySymbols(tick).map((s) => s.description);
    assert.deepEqual(symbols, ['async_id_symbol', 'trigger_async_id_symbol']);
    assert.equal(typeof tick.callback, 'function');
    assert.deepEqual(Object.keys(tick), ['callback', 'args']);
  });

  it('keeps nothing and leaves V8 alone with V8_STARTUP_TUNING=disabled', () => {
    const script = `const t = await import('./src/cli/tick-shape.ts'); await import('./src/cli/young-generation.ts'); console.log(String(t.keptTickObject() === undefined));`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      env: { ...process.env, V8_STARTUP_TUNING: 'disabled' },
      encoding: 'utf8',
    });
    assert.equal(out.trim(), 'true');
  });
});
