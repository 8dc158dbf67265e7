import assert from 'node:assert/strict';
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
});
