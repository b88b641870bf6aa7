import { render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { pairedThroughputRatio, parseComparison } from '@archbench/contracts/comparison';
import MEASURED from '../../public/measured-comparison.json?raw';
import SAMPLE from '../../public/sample-comparison.json?raw';
import { ComparisonView } from './ComparisonView';
import { formatRatio } from './ratios';

describe('ComparisonView: where serverless was measured', () => {
  const measured = parseComparison(JSON.parse(MEASURED));

  it('says that a serverless started by compare ran on the local emulator', () => {
    render(<ComparisonView comparison={measured} />);
    expect(screen.getByTestId('emulator-note').textContent).toMatch(
      /^serverless ran on a local emulator: one workerd process .* latency under load and its fault figures below are the emulator's; .*pnpm compare --target serverless=URL\.$/,
    );
  });

  it('says nothing of the kind for a deployment measured with --target, nor for a run without serverless', () => {
    const deployed = { ...measured, topologies: measured.topologies.map((t) => (t.name === 'serverless' ? { ...t, source: 'target' as const } : t)) };
    const { unmount } = render(<ComparisonView comparison={deployed} />);
    expect(screen.queryByTestId('emulator-note')).toBeNull();
    unmount();
    render(<ComparisonView comparison={parseComparison(JSON.parse(SAMPLE))} />);
    expect(screen.queryByTestId('emulator-note')).toBeNull();
  });
});

describe('ComparisonView: throughput ratios', () => {
  const measured = parseComparison(JSON.parse(MEASURED));

  it('reads each throughput ratio paired by round, as summary.md does, not as a ratio of totals', () => {
    render(<ComparisonView comparison={measured} />);
    let differs = 0;
    for (const result of measured.scenarios) {
      const base = measured.scenarios.find((r) => r.scenario === result.scenario && r.topology === 'monolith');
      if (!base || result.topology === 'monolith') continue;
      const paired = pairedThroughputRatio(result, base)!;
      expect(screen.getByTestId(`throughput-ratio-${result.scenario}-${result.topology}`).textContent).toBe(formatRatio(paired, 'monolith'));
      if (paired.toFixed(2) !== (result.throughputRps / base.throughputRps).toFixed(2)) differs++;
    }
    expect(differs).toBeGreaterThan(0); // the file has rounds where the two readings differ (hybrid reads: 0.83× paired, 0.89× of totals)
  });
});

describe('ComparisonView: the warnings summary.md gives', () => {
  const sample = parseComparison(JSON.parse(SAMPLE));
  const measured = parseComparison(JSON.parse(MEASURED));

  it('warns of a busy machine when the load average at the start was above the cores, and shows the load average', () => {
    const busy = { ...measured, machine: { ...measured.machine, cores: 2, loadAverage: [12.5, 9.25, 4] } };
    render(<ComparisonView comparison={busy} />);
    expect(screen.getByTestId('busy-machine-note').textContent).toBe(
      'Busy machine: load average 12.5 / 9.25 / 4 on 2 cores when the run started. Other work competed with the servers and the load generator; ratios from this run are noisier than usual.',
    );
    expect(screen.getByText('Load average at the start').nextElementSibling?.textContent).toBe('12.5 / 9.25 / 4 (1, 5, 15 minutes)');
  });

  it('does not warn at or below one load per core, nor without a load average', () => {
    const { unmount } = render(<ComparisonView comparison={{ ...measured, machine: { ...measured.machine, cores: 2, loadAverage: [2, 3, 3] } }} />);
    expect(screen.queryByTestId('busy-machine-note')).toBeNull();
    unmount();
    render(<ComparisonView comparison={sample} />);
    expect(screen.queryByTestId('busy-machine-note')).toBeNull();
    expect(screen.queryByText('Load average at the start')).toBeNull();
  });

  it('shows the requests an open-model scenario dropped, as a figure marked as a failure and a note', () => {
    render(<ComparisonView comparison={sample} />);
    // The sample's place-order run against the microservices dropped 12 requests.
    expect(screen.getByTestId('dropped-place-order-microservices-http').textContent).toBe('12');
    expect(screen.getByTestId('dropped-place-order-microservices-http').className).toContain('fail');
    expect(screen.getByTestId('dropped-place-order-monolith').textContent).toBe('0');
    expect(screen.getByTestId('dropped-place-order-monolith').className).not.toContain('fail');
    expect(screen.getByTestId('dropped-note-place-order').textContent).toMatch(/^Requests dropped: microservices-http 12\. .*never sent/);
    expect(screen.queryByTestId('dropped-note-browse')).toBeNull();
  });

  it('shows the iterations dropped during a fault, and a dash where a file did not count them', () => {
    render(<ComparisonView comparison={measured} />);
    // The measured run's monolith dropped 15 iterations while its payments process was down.
    const cell = screen.getByTestId('dropped-during-dependency-crash-monolith');
    expect(cell.textContent).toBe('15');
    expect(cell.className).toContain('fail');
    expect(screen.getByTestId('dropped-during-dependency-crash-hybrid').textContent).toBe('0');
    expect(within(cell.closest('table')!).getByRole('columnheader', { name: 'Dropped' })).toBeTruthy();
  });
});
