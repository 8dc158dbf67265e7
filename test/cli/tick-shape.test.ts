import { ROOT } from '../support/process.js';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';

describe('the kept nextTick object (src/cli/tick-shape.ts)', () => {
  // In a process of its own, as the CLI imports it first: a test process has run other files already,
  // and a tick object made under an AsyncLocalStorage carries one more symbol.
  it('holds one of node’s own tick objects, so V8 keeps their hidden class alive through full GCs', () => {
    const script = `const t = await import('./src/cli/tick-shape.ts'); const k = t.keptTickObject(); console.log(JSON.stringify(k ? { symbols: Object.getOwnPropertySymbols(k).map((s) => s.description), keys: Object.keys(k), callback: typeof k.callback } : null));`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, env: { ...process.env, V8_STARTUP_TUNING: '' }, encoding: 'utf8' });
    const tick = JSON.parse(out) as { symbols: string[]; keys: string[]; callback: string } | null;
    assert.ok(tick, 'a tick object is kept');
    assert.deepEqual(tick.symbols, ['async_id_symbol', 'trigger_async_id_symbol']);
    assert.equal(tick.callback, 'function');
    assert.deepEqual(tick.keys, ['callback', 'args']);
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
