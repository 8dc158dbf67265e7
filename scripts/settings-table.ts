// Prints docs/configuration.md's settings table from the settings schema (npx tsx scripts/settings-table.ts).
import { SettingsSchema } from '../src/app/settings.js';

const rows = Object.entries(SettingsSchema.properties).map(([name, schema]) => {
  const s = schema as { default?: unknown; description?: string; anyOf?: { const?: unknown }[] };
  const choices = s.anyOf?.map((x) => x.const).filter((x) => x !== undefined);
  const def = s.default === undefined ? '—' : s.default === '' ? '(empty)' : `\`${String(s.default)}\``;
  const desc = `${s.description ?? ''}${choices?.length ? ` (${choices.join(' \\| ')})` : ''}`;
  return `| \`${name}\` | ${def} | ${desc} |`;
});
console.log(['| setting | default | what it does |', '|---|---|---|', ...rows].join('\n'));
