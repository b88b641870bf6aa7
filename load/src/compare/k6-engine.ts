import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunProgress, SegmentResult } from '../engine/run-scenario';
import { parseK6Summary } from '@archbench/contracts/k6-summary';
import { loadModelOf } from '../scenarios/definitions.ts';
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
      ? setInterval(() => onProgress({ scenario: scenario.name, elapsedSeconds: (Date.now() - startedAt.getTime()) / 1000, requests: 0, rps: 0 }), 1000)
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
    const summary = parseK6Summary(readFileSync(file, 'utf8'), file);
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
