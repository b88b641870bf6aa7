import { render, screen } from '@testing-library/react';
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
