// Shared lint rules: typescript-eslint's recommended set, a few type-aware rules for promises
// (the servers start work they do not await, so a forgotten `await` must be visible), and the
// project's conventions (no console in library code, type-only imports kept explicit, env read
// only in env.ts).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const tsFiles = ['**/*.{ts,tsx,mts,cts}'];

// Config files vitest/vite load are in no tsconfig; projectService gives them a default project.
const defaultProjectFiles = ['*.config.ts', 'vitest.*.config.ts'];

// Where reading process.env directly is the honest answer:
// an app's env.ts (the one validated read), tests and their helpers (PG_TEST_URL, AMQP_TEST_URL,
// ARCHBENCH_REQUIRE_SERVICES), benchmarks and build scripts (run by hand, not shipped), and
// tool config files.
const envReaders = [
  '**/env.ts',
  '**/*.test.ts',
  '**/*.test.tsx',
  '**/test/**',
  '**/e2e/**',
  '**/bench/**',
  '**/scripts/**',
  '**/*.config.ts',
  '**/*.config.js',
  '**/*.cjs',
  '**/*.mjs',
];

/**
 * @param {{
 *   allowConsole?: boolean,
 *   tsconfigRootDir?: string,
 *   project?: string[],
 *   defaultProject?: string[],
 * }} [options] `tsconfigRootDir`: the package folder (`import.meta.dirname`). `project`: list the
 *   tsconfig files instead of the project service, for packages whose files span several
 *   tsconfigs (the project service only finds the nearest tsconfig.json). `defaultProject`:
 *   globs of files outside every tsconfig (default: the vitest/vite config files); a file listed
 *   here that a tsconfig includes is an error, so packages including vitest.config.ts pass [].
 */
export function config(options = {}) {
  const parserOptions = options.project
    ? { project: options.project, tsconfigRootDir: options.tsconfigRootDir }
    : { projectService: { allowDefaultProject: options.defaultProject ?? defaultProjectFiles }, tsconfigRootDir: options.tsconfigRootDir };
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
        'no-restricted-properties': [
          'error',
          { object: 'process', property: 'env', message: 'Read environment variables only in an env.ts (validated with zod) and pass the values in.' },
        ],
        'no-restricted-imports': [
          'error',
          { paths: ['process', 'node:process'].map((name) => ({ name, importNames: ['env'], message: 'Read environment variables only in an env.ts.' })) },
        ],
      },
    },
    {
      files: envReaders,
      rules: { 'no-restricted-properties': 'off', 'no-restricted-imports': 'off' },
    },
    {
      files: tsFiles,
      languageOptions: { parserOptions },
      rules: {
        '@typescript-eslint/no-floating-promises': 'error',
        '@typescript-eslint/no-misused-promises': 'error',
        '@typescript-eslint/await-thenable': 'error',
      },
    },
  );
}

export default config();
