import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SettingsSchema } from '../../src/kernel/config/schema.js';

describe('README', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  it('documents every setting in the settings table', () => {
    const missing = Object.keys(SettingsSchema.properties).filter((name) => !readme.includes(`| \`${name}\` |`));
    assert.deepEqual(missing, [], 'run: npx tsx scripts/settings-table.ts and paste it into the settings section');
  });
  it('gives the two commands', () => {
    assert.ok(readme.includes('npm install && npm start'));
    assert.ok(readme.includes('npm install && npm test'));
  });
});
