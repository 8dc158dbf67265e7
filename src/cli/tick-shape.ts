import { createHook } from 'node:async_hooks';
import { v8StartupTuning } from './v8-startup-tuning.js';

/**
 * Keeps one of node's own process.nextTick objects alive for the life of the process, so V8 never
 * collects the hidden class (map) those objects share. When a full GC runs while no tick object is
 * alive (a server's start-up does several), that map is collected, the feedback of nextTick's object
 * literal (`{ [async_id_symbol]: …, [trigger_async_id_symbol]: …, callback, args }`) turns megamorphic
 * when the next one is made with a fresh map, and from then on every nextTick defines those two
 * properties in V8's C++ runtime. Why it is kept and what it bought: docs/decisions/0003-v8-startup-tuning.md.
 *
 * The tick object is taken from an async-hooks init callback enabled for one nextTick, here, as the
 * first import of the CLI: before the modules load and the first full GC can run.
 */
let kept: object | undefined;
if (v8StartupTuning) {
  const hook = createHook({
    init(_id, type, _trigger, resource) {
      if (type === 'TickObject') kept ??= resource;
    },
  });
  hook.enable();
  process.nextTick(() => {});
  hook.disable();
}

/** The kept tick object (undefined if node made none): for the test that pins why this exists. */
export const keptTickObject = () => kept;
