import { config } from '@archbench/eslint-config';
import reactHooks from 'eslint-plugin-react-hooks';

export default [
  ...config({ allowConsole: false, tsconfigRootDir: import.meta.dirname, project: ['./tsconfig.json', './tsconfig.node.json'] }),
  {
    files: ['src/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
    },
  },
  {
    // The e2e tests print the measured lab figures on purpose: they are the test's report.
    files: ['e2e/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
];
