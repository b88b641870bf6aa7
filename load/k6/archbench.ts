// The script `pnpm compare --engine k6` runs: the scenario comes from -e SCENARIO=<name>.
// k6 run -e SCENARIO=checkout -e PROFILE=quick -e BASE_URL=http://127.0.0.1:3000 load/k6/archbench.ts
import { script } from './lib.ts';

const k6Script = script(__ENV.SCENARIO ?? 'browse');
export const options = k6Script.options;
export const setup = k6Script.setup;
export const handleSummary = k6Script.handleSummary;
export default k6Script.iteration;
