import { rotateSigningKey } from '../features/oauth/keys-routes.js';
import type { Command } from './command.js';
import { Keyring } from '../kernel/storage/encryption.js';
import { sealSecretsAtRest } from '../app/seal-secrets.js';
import { cliContext, withWarden } from './context.js';

export const keysRotate: Command = {
  name: 'keys rotate',
  summary: 'make a new signing key; old keys verify until their tokens expire',
  usage: 'keys rotate',
  async run() {
    await withWarden(async (w) => {
      // The API's own operation: audited alike, and announced so running servers switch at once.
      const kid = await rotateSigningKey(w, cliContext, 'manual');
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

export const keysReencrypt: Command = {
  name: 'keys reencrypt',
  summary: 'encrypt stored signing keys, TOTP secrets and identity provider secrets with the first ENCRYPTION_KEY (every start does it too)',
  usage: 'keys reencrypt',
  async run() {
    await withWarden(async (w) => {
      const keyring = Keyring.fromConfig(w.config);
      await sealSecretsAtRest(w.db, keyring);
      console.log(`signing keys, TOTP secrets and identity provider secrets are encrypted with key ${keyring.currentKeyId}; older ENCRYPTION_KEY entries may be removed`);
    });
  },
};
