import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunProgress, SegmentResult } from '../engine/run-scenario';
import { parseK6Summary } from '@archbench/contracts/k6-summary';
import type { K6Summary } from '@archbench/contracts/k6-summary';
import { loadModelOf } from '../scenarios/definitions.ts';
import { ORDER_FAILURES, k6OrderFailureMetric, statusKey } from '../scenarios/requests.ts';
import type { ProfileName, ScenarioDefinition } from '../scenarios/types.ts';

/** The k6 executable on PATH, or undefined. */
// eslint-disable-next-line no-restricted-properties -- PATH lookup like a shell's, overridable by the caller
export function findK6(path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'k6');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

const SCRIPT = fileURLToPath(new URL('../../k6/archbench.ts', import.meta.url));

/**
 * Runs one scenario with the k6 binary (load/k6/archbench.ts) and reads its handleSummary JSON.
 * k6 exit code 99 means thresholds failed, which is a result, not an error.
 */
export class K6Engine {
  private readonly workDir = mkdtempSync(join(tmpdir(), 'archbench-k6-'));
  private runs = 0;

  constructor(
    private readonly k6Path: string,
    private readonly profile: ProfileName,
  ) {}

  async run(baseUrl: string, scenario: ScenarioDefinition, tokens: string[], onProgress?: (p: RunProgress) => void): Promise<SegmentResult> {
    const n = ++this.runs;
    const summaryJson = join(this.workDir, `summary-${n}.json`);
    const exportJson = join(this.workDir, `export-${n}.json`);
    const args = ['run', '--quiet', '--no-color', `--summary-export=${exportJson}`];
    for (const [k, v] of Object.entries({
      BASE_URL: baseUrl,
      SCENARIO: scenario.name,
      PROFILE: this.profile,
      TOKENS: tokens.join(','),
      SUMMARY_JSON: summaryJson,
      SCENARIO_JSON: JSON.stringify(scenario),
    }))
      args.push('-e', `${k}=${v}`);
    args.push(SCRIPT);
    const startedAt = new Date();
    const timer = onProgress
      ? setInterval(
          () =>
            onProgress({ scenario: scenario.name, elapsedSeconds: (Date.now() - startedAt.getTime()) / 1000, requests: 0, failed: 0, rps: 0, counted: false }),
          1000,
        )
      : undefined;
    let stderr = '';
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(this.k6Path, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-4000);
      });
      child.once('error', reject);
      child.once('exit', resolve);
    }).finally(() => timer && clearInterval(timer));
    if (code !== 0 && code !== 99) throw new Error(`k6 exited with ${code} for ${scenario.name}:\n${stderr.trim()}`);
    const file = existsSync(summaryJson) ? summaryJson : exportJson;
    const text = readFileSync(file, 'utf8');
    const summary = withArchbenchVerdicts(parseK6Summary(text, file), text);
    return {
      scenario: scenario.name,
      loadModel: loadModelOf(scenario.load),
      startedAt: startedAt.toISOString(),
      durationSeconds: summary.durationSeconds,
      requests: summary.requests,
      failed: summary.failed,
      statusCounts: summary.statusCounts,
      dropped: summary.dropped,
      ordersPlaced: summary.ordersPlaced,
      latencyMs: summary.latencyMs,
      thresholds: summary.thresholds,
    };
  }

  async close(): Promise<void> {
    rmSync(this.workDir, { recursive: true, force: true });
  }
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A k6 summary with archbench's verdict of each request instead of k6's (which sees only the
 * status): orders answered 201 that were not CONFIRMED in `statusCounts` as `201 <failure>`, as
 * the embedded engine counts them. (parseK6Summary already takes the failures and the
 * `http_req_failed` thresholds from K6_FAILED_METRIC, where the scripts set them.) A summary
 * without those metrics (an older script) is returned as it is.
 * @example withArchbenchVerdicts(parseK6Summary(text), text).statusCounts
 */
export function withArchbenchVerdicts(summary: K6Summary, text: string): K6Summary {
  const data = JSON.parse(text) as Json;
  const metrics = isObject(data.metrics) ? data.metrics : {};
  // handleSummary data: { values: {...} } per metric; --summary-export: the values flat.
  const values = (name: string): Json | undefined => {
    const metric = metrics[name];
    if (!isObject(metric)) return undefined;
    return isObject(metric.values) ? metric.values : metric;
  };
  const count = (name: string) => {
    const value = values(name)?.count;
    return typeof value === 'number' ? value : 0;
  };
  const statusCounts = { ...summary.statusCounts };
  for (const failure of ORDER_FAILURES) {
    const n = count(k6OrderFailureMetric(failure));
    if (n > 0) statusCounts[statusKey(201, failure)] = n;
  }
  return { ...summary, statusCounts };
}
