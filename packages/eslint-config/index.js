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
      // Config files such as .dependency-cruiser.cjs are CommonJS run by Node.
      files: ['**/*.cjs'],
      languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly', __dirname: 'readonly' } },
      rules: { '@typescript-eslint/no-require-imports': 'off' },
    },
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
