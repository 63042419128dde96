// Lint: typescript-eslint's recommended rules plus the type-aware ones that catch real bugs (floating promises,
// misused promises). Style is left to the formatter.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', '.baton/**', 'scratch/**', '**/*.d.ts', 'test/fixtures/broken/**', 'dist/**', 'scripts/consumer/**', '.docs-check/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: { allowDefaultProject: ['*.js', 'bin/*.mjs', 'scripts/*.mjs', 'scripts/services/*.mjs'], maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING: 30 }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] }],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  // fastify lives behind the shared HTTP layer (src/http): every server gets its limits by going through it.
  {
    files: ['**/*.ts'],
    ignores: ['src/http/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ regex: '^fastify($|/)', message: 'Use the shared HTTP layer in src/http (createHttpServer) instead of importing fastify.' }] }] },
  },
);
