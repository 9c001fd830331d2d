import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

// Module boundaries: which folder of src/ may import which. Every import inside the repository is
// relative (no path aliases), so an import reaches a top-level folder through ../ segments.
const reaches = (folder) => `^(\\.\\./)+${folder}(/|$)`;

const FEATURES = [
  'auth',
  'users',
  'sessions',
  'health',
  'database',
  'redis',
  'admin',
  'audit',
  'cli',
  'mail',
  'mailer',
  'rate-limit',
];

const FOUNDATION = {
  files: ['src/common/**', 'src/config/**'],
  forbid: FEATURES,
  why: 'common/ and config/ are what every feature builds on, so they know none of them; let the feature register with common instead (as users registers its unique constraint with UniqueViolations).',
};
const REDIS = {
  files: ['src/redis/**'],
  forbid: FEATURES.filter((feature) => feature !== 'redis'),
  why: 'redis/ is infrastructure that features use; it knows none of them.',
};
const MAILER = {
  files: ['src/mailer/**'],
  forbid: FEATURES.filter((feature) => feature !== 'mailer'),
  why: 'mailer/ is how mail leaves (SMTP or files); what is sent and why is mail/, which uses it.',
};
const MAIL = {
  files: ['src/mail/**'],
  forbid: ['users', 'auth', 'admin', 'health'],
  why: 'users and auth enqueue mail, so mail importing them back makes a cycle; a job carries what it needs (an address, a user id).',
};
const SESSIONS = {
  files: ['src/sessions/**'],
  forbid: ['users', 'auth'],
  why: 'users and auth build on sessions, so sessions importing them back makes a cycle; take what is needed as arguments (an owner id, a credential version).',
};
const RATE_LIMIT = {
  files: ['src/rate-limit/**'],
  forbid: ['users', 'auth', 'admin', 'audit', 'mail', 'mailer', 'health'],
  why: 'rate-limit/ counts requests for the features that use it (auth), so it knows none of them; take keys as arguments.',
};
const AUDIT = {
  files: ['src/audit/**'],
  forbid: FEATURES.filter((feature) => feature !== 'audit'),
  why: 'every feature records its events in audit/, so audit/ importing one back makes a cycle; an event carries what it needs (ids, an Origin).',
};
const USERS = {
  files: ['src/users/**'],
  forbid: ['auth'],
  why: 'auth builds on users (it logs users in), so users importing auth makes a cycle.',
};

const ADMIN = {
  files: ['src/admin/**'],
  forbid: ['auth', 'cli'],
  why: 'admin/ builds on users/ and audit/; the guard in auth/ enforces its roles through common/ decorators.',
};

const forbidden = ({ forbid, why }) =>
  forbid.map((folder) => ({ regex: reaches(folder), message: `No ${folder}/ here: ${why}` }));

const NO_TEST_IMPORTS = {
  regex: reaches('test'),
  message:
    'test/ is not part of the app (the build holds src/ only), so src/ must not depend on it.',
};

const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

// A rule's options do not merge across config objects (the last match wins), so each layer
// repeats the test/ restriction. Unit specs are exempt from that one: they are not built either,
// and share helpers such as ManualClock with the e2e tests.
const boundaries = [
  { files: ['src/**/*.ts'], ignores: ['src/**/*.spec.ts'], rules: restrict([NO_TEST_IMPORTS]) },
  ...[FOUNDATION, REDIS, MAILER, MAIL, SESSIONS, RATE_LIMIT, AUDIT, USERS, ADMIN].flatMap(
    (layer) => [
      { files: layer.files, rules: restrict(forbidden(layer)) },
      {
        files: layer.files,
        ignores: ['src/**/*.spec.ts'],
        rules: restrict([...forbidden(layer), NO_TEST_IMPORTS]),
      },
    ],
  ),
];

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
  // The benchmark is a command-line tool too, and runs on Node's own fetch.
  {
    files: ['bench/**/*.mjs'],
    languageOptions: { globals: { fetch: 'readonly', URL: 'readonly', performance: 'readonly' } },
    rules: { 'no-console': 'off' },
  },
  ...boundaries,
);
