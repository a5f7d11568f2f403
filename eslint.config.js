// Lint config: the recommended TypeScript rules, type-aware, plus the few habits of STYLE.md
// that a linter can check (no process.exit below cli/main.ts).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import layers from './eslint-layers.js';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.swarm/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cli/main.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'exit', message: 'Only src/cli/main.ts exits.' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { layers },
    rules: { 'layers/no-upward-import': 'error' },
  },
  {
    // The faces call the hub's use cases, never its store.
    files: ['src/server/**/*.ts', 'src/cli/**/*.ts'],
    rules: {
      'no-restricted-syntax': ['error', { selector: "MemberExpression[object.name='hub'][property.name='store']", message: 'Call a hub use case; the server and CLI do not reach into the store.' }],
    },
  },
  {
    // Tests read JSON responses loosely; the assertions are the type check.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['scripts/**/*.mjs', 'bin/**/*.js', 'eslint.config.js', 'eslint-layers.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', fetch: 'readonly', AbortSignal: 'readonly' } },
  },
  {
    files: ['bin/**/*.cjs', 'deploy/**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { process: 'readonly', require: 'readonly', __dirname: 'readonly', Buffer: 'readonly', URL: 'readonly' } },
    // CommonJS: bin/ to be compiled with a V8 code cache (bin/swarm.cjs says why); deploy/: scripts
    // the container image runs with plain `node` (its health check).
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
