// Shared lint rules: typescript-eslint's recommended set plus the project's conventions
// (no console in library code, type-only imports kept explicit).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** @param {{ allowConsole?: boolean }} [options] */
export function config(options = {}) {
  return tseslint.config(
    { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test-results/**'] },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
      rules: {
        'no-console': options.allowConsole ? 'off' : 'error',
        '@typescript-eslint/consistent-type-imports': 'error',
        '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      },
    },
  );
}

export default config();
