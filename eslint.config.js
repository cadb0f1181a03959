// Lint rules for coord. The pure cores (state, raft, gossip) may not import I/O or read clocks:
// that is what lets a seeded simulation replay any run exactly (ARCHITECTURE.md, house rules 1 and 2).
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import globals from 'globals'

const ioModules = ['fs', 'net', 'dgram', 'http', 'https', 'child_process', 'timers', 'worker_threads', 'fs/promises']
const noIo = ioModules.flatMap((m) => [m, `node:${m}`])

export default tseslint.config(
  {ignores: ['dist/**', 'node_modules/**', 'oclif.manifest.json', '.bench-tmp/**']},
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {globals: {process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', URL: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', AbortController: 'readonly', queueMicrotask: 'readonly'}},
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_'}],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // V8 builds an object literal that has a getter or setter through the runtime, as a dictionary-mode
    // object: ~60x the cost of a class instance, and slow to read from. The HTTP pipeline made two
    // per request and the bench's reads lost a third of their rate; a class with the accessor on its
    // prototype costs nothing.
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-syntax': ['error', {selector: "ObjectExpression > Property[kind='get'], ObjectExpression > Property[kind='set']", message: 'no getters/setters in object literals (slow dictionary-mode objects): use a class'}],
    },
  },
  {
    files: ['src/lib/state/**/*.ts', 'src/lib/raft/core*.ts', 'src/lib/gossip/core*.ts', 'src/lib/coordinate/**/*.ts'],
    // Whole name parts only: 'session.ts' must not slip through because it contains 'io'.
    ignores: ['src/lib/**/{*-,}{driver,node,transport,store,storage,io}.ts'],
    rules: {
      'no-restricted-imports': ['error', {paths: noIo.map((name) => ({name, message: 'pure core: no I/O here, move it to the driver'}))}],
      'no-restricted-properties': ['error',
        {object: 'Date', property: 'now', message: 'pure core: time is an input'},
        {object: 'Math', property: 'random', message: 'pure core: randomness is an injected Rng'},
        {object: 'performance', property: 'now', message: 'pure core: time is an input'}],
    },
  },
  {
    // The production entry is CommonJS (bin/package.json): require() is how it loads a command.
    files: ['bin/run.js'],
    languageOptions: {sourceType: 'commonjs', globals: globals.node},
    rules: {'@typescript-eslint/no-require-imports': 'off'},
  },
  {
    // The web UI runs in the browser (ui/tsconfig.json type-checks it against the DOM).
    files: ['ui/**/*.{ts,tsx}'],
    languageOptions: {globals: globals.browser},
  },
)
