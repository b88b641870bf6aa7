export { EmbeddedEngine, tsxExecArgv } from './embedded-engine';
export { LatencyHistogram } from './histogram';
export { runScenario } from './run-scenario';
export type { RunProgress, RunScenarioOptions, SegmentResult } from './run-scenario';
export { arrivalSchedule } from './schedule';
