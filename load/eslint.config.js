import { config } from '@archbench/eslint-config';

export default config({ allowConsole: false, tsconfigRootDir: import.meta.dirname, project: ['./tsconfig.json', './tsconfig.k6.json'] });
