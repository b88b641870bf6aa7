import { describe, expect, it } from 'vitest';
import { terminalReporter } from '../src/cli/terminal-reporter';
import type { SegmentResult } from '../src/engine/run-scenario';

/** A terminal (or a CI log when `tty` is false) that keeps what was written. */
function screen(tty: boolean) {
  let text = '';
  const stream = { isTTY: tty, write: (chunk: string) => ((text += chunk), true) } as unknown as NodeJS.WriteStream;
  return { stream, text: () => text };
}

type Progress = Parameters<ReturnType<typeof terminalReporter>['progress']>[0];
/** A live progress state: round 1 of browse against shop, with the figures a test sets. */
const progress = (figures: Partial<Progress>): Progress => ({
  round: 1,
  rounds: 1,
  scenario: 'browse',
  topology: 'shop',
  elapsedSeconds: 1,
  durationSeconds: 2,
  requests: 10,
  failed: 0,
  rps: 10,
  ...figures,
});

describe('terminal reporter', () => {
  it('shows successful requests per second live and at the end of a run, failures beside them', () => {
    const out = screen(true);
    const reporter = terminalReporter(out.stream);
    reporter.progress(progress({ rounds: 4, scenario: 'checkout', elapsedSeconds: 2, durationSeconds: 5, requests: 1000, failed: 250, rps: 375 }));
    expect(out.text()).toContain('1000 req, 250 failed  375.0 ok/s');
    const result = { requests: 2000, failed: 500, durationSeconds: 4, dropped: 0, latencyMs: { p95: 12 }, statusCounts: { '201': 1500, '401': 500 } };
    reporter.segmentDone({ round: 1, scenario: 'checkout', topology: 'shop', result: result as unknown as SegmentResult });
    expect(out.text()).toMatch(/round 1 checkout -> shop: 375\.0 ok\/s, p95 12\.0 ms, 500 failed \(500 × 401/);
  });

  it('says k6 counts at the end instead of claiming 0 requests and 0 failed while k6 runs', () => {
    const out = screen(true);
    terminalReporter(out.stream).progress(progress({ rounds: 2, elapsedSeconds: 3, durationSeconds: 10, requests: 0, rps: 0, counted: false }));
    expect(out.text()).toContain('3/10 s  k6 counts at the end');
    expect(out.text()).not.toMatch(/0 failed|ok\/s/);
  });

  it('draws no live line in a CI log', () => {
    const out = screen(false);
    terminalReporter(out.stream).progress(progress({}));
    expect(out.text()).toBe('');
  });
});
