import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'packages/*/dist/', 'node_modules/', 'data/', 'drizzle/', 'coverage/', 'docs/', 'bench/.tmp/', '.test-dist-*/', '.test-js-*/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Each settings section merges into the kernel's Settings as `interface Settings extends Static<typeof Section> {}`.
      '@typescript-eslint/no-empty-object-type': ['error', { allowWithName: '^Settings$' }],
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[object.name='process'][property.name='env']", message: 'Read settings through src/kernel/config/ only.' },
      ],
    },
  },
  {
    files: ['src/kernel/config/**', 'test/**', 'bench/**', 'scripts/**', 'src/cli/**', 'examples/**'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    // CommonJS configuration files (.dependency-cruiser.cjs).
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', Buffer: 'readonly' } },
  },
);
