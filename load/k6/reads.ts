// k6 run -e BASE_URL=http://127.0.0.1:3000 -e PROFILE=standard load/k6/reads.ts
import { script } from './lib.ts';

const k6Script = script('reads');
export const options = k6Script.options;
export const setup = k6Script.setup;
export const handleSummary = k6Script.handleSummary;
export default k6Script.iteration;
