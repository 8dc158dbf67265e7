import type { Command } from './command.js';
import { cliContext, withWarden } from './context.js';

export const keysRotate: Command = {
  name: 'keys rotate',
  summary: 'make a new signing key; old keys verify until their tokens expire',
  usage: 'keys rotate',
  async run() {
    await withWarden(async (w) => {
      const kid = await w.keys.rotate({
        onRotated: async (newKid, previous) => {
          await w.audit.record(w.db, { type: 'key.rotated', details: { kid: newKid, previous } }, cliContext);
        },
      });
      console.log(`new signing key ${kid}`);
    });
  },
};

export const keysList: Command = {
  name: 'keys list',
  summary: 'list signing keys',
  usage: 'keys list',
  async run() {
    await withWarden(async (w) => {
      for (const k of await w.keys.list()) console.log(`${k.kid}  ${k.alg}  ${k.state}  created ${k.created_at}`);
    });
  },
};
