import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  // Each feature owns its tables; the kernel keeps only warden_meta.
  schema: ['./src/kernel/storage/schema.ts', './src/features/*/tables.ts'],
  out: './drizzle',
});
