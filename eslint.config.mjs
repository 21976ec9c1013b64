// Type-aware lint of the TypeScript tree with the rules the code keeps; Prettier owns the layout
// (eslint-config-prettier turns off every rule that would fight it).
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  {
    ignores: ['node_modules/', 'dist/', 'coverage/', '.data/', 'test-artifacts/', 'subgraphs/*/generated/'],
  },
  {
    files: ['**/*.ts'],
    plugins: { '@typescript-eslint': tseslint.plugin },
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      // Express and node event handlers may be async: their callers ignore what they return by design.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          args: 'after-used',
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
        },
      ],
      // Types are imported as types: `import { type A, b }` when a module gives both.
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      // …and `import type { A }` when every name is a type, so the import leaves no trace at run time.
      '@typescript-eslint/no-import-type-side-effects': 'error',
    },
  },
  prettier,
);
