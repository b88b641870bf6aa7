import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { parseComparison } from '@archbench/contracts/comparison';
import MEASURED from '../../public/measured-comparison.json?raw';
import SAMPLE from '../../public/sample-comparison.json?raw';
import { ComparisonView } from './ComparisonView';

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
