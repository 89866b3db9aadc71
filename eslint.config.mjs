// @ts-check
import eslint from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.data/**', 'eslint.config.mjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.jest } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
      'no-console': 'error',
    },
  },
  {
    files: ['scripts/**/*.js', 'test/**/*.js'],
    rules: { 'no-console': 'off' },
  },
  // Row types come from the schema (nullable columns are `T | null`): narrow, or say which invariant holds
  // (`required(value, what)` in src/common/errors/invariant.ts), instead of asserting with `!`.
  {
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.spec.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'error' },
  },
  // Domain errors are named classes in a module's *.errors.ts (STYLE.md): the generic not-found/conflict bases are
  // extended there, never thrown inline with a free-text resource or code.
  {
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.spec.ts', 'src/**/*.errors.ts', 'src/common/errors/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name=/^(NotFoundError|ConflictError)$/]", message: "Throw the owning module's named error class (declared in its *.errors.ts)." },
      ],
    },
  },
  // Layer rule 1: cross-cutting code never depends on a feature module.
  {
    files: ['src/common/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/modules/**'], message: 'src/common must not import src/modules (layering).' }] }],
    },
  },
  // Layer rule 2: a module reaches another module through its exported service, never its repository or entities' queries.
  {
    files: ['src/modules/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!.*common/)\\.\\./(\\.\\./)*[a-z-]+/.*\\.repository$',
              message: "Use the other module's exported service, not its repository.",
            },
            { regex: '^.*/modules/[a-z-]+/.*\\.repository$', message: "Use the other module's exported service, not its repository." },
          ],
        },
      ],
    },
  },
);
