import { config } from '@archbench/eslint-config';

export default config({ allowConsole: false, tsconfigRootDir: import.meta.dirname });
