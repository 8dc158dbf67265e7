import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { composeInOrder } from '../../src/app/compose.js';
import { SettingsSchema } from '../../src/app/settings.js';
import { KernelSettings } from '../../src/kernel/config/settings.js';
import { MailSettings } from '../../src/features/mail/settings.js';

describe('settings sections composed in one order (src/app/compose.ts, src/app/settings.ts)', () => {
  const sections = { kernel: { PORT: 1, HOST: 2 }, mail: { SMTP_URL: 3 } };

  it('keeps every definition, in the order given, not in the owners’ order', () => {
    assert.deepEqual(Object.entries(composeInOrder('setting', sections, ['SMTP_URL', 'HOST', 'PORT'])), [
      ['SMTP_URL', 3],
      ['HOST', 2],
      ['PORT', 1],
    ]);
  });

  it('refuses, naming each, a setting two owners define, one left out of the order, one placed twice or defined by no one', () => {
    assert.throws(() => composeInOrder('setting', { ...sections, audit: { PORT: 4 } }, ['PORT', 'HOST', 'SMTP_URL']), /^Error: setting PORT is defined by both kernel and audit$/);
    assert.throws(() => composeInOrder('setting', sections, ['PORT', 'HOST']), /^Error: setting SMTP_URL is not placed in the order$/);
    assert.throws(() => composeInOrder('setting', sections, ['PORT', 'HOST', 'SMTP_URL', 'HOST']), /^Error: setting HOST is placed twice in the order$/);
    assert.throws(() => composeInOrder('setting', sections, ['PORT', 'HOST', 'SMTP_URL', 'MAIL_FROM']), /^Error: setting MAIL_FROM is placed in the order but defined by no one$/);
  });

  it('the schema Warden reads holds each section’s definitions as their owner wrote them', () => {
    const properties = SettingsSchema.properties as Record<string, unknown>;
    for (const section of [KernelSettings, MailSettings]) {
      for (const [name, definition] of Object.entries(section.properties)) assert.equal(properties[name], definition, name);
    }
    assert.equal(Object.keys(properties)[0], 'NODE_ENV');
  });
});
