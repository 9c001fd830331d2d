import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'node_modules/', '.data/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  // Tests say why they skip (e.g. no Redis on this machine).
  { files: ['test/**/*.ts'], rules: { 'no-console': ['error', { allow: ['error', 'warn'] }] } },
  // Command-line scripts talk to the person running them.
  { files: ['scripts/**/*.mjs'], rules: { 'no-console': 'off' } },
);
