import type { ScenarioDefinition } from '../scenarios/types.ts';
import type { RunProgress, SegmentResult } from './run-scenario';

/** Parent -> worker. */
export type WorkerRequest = {
  type: 'run';
  id: number;
  baseUrl: string;
  scenario: ScenarioDefinition;
  tokens: string[];
  recordEvents?: boolean;
  requestTimeoutMs?: number;
};

/** Worker -> parent. */
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'progress'; id: number; progress: RunProgress }
  | { type: 'result'; id: number; result: SegmentResult }
  | { type: 'error'; id: number; message: string };
