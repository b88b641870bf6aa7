import { render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { pairedThroughputRatio, parseComparison } from '@archbench/contracts/comparison';
import MEASURED from '../../public/measured-comparison.json?raw';
import SAMPLE from '../../public/sample-comparison.json?raw';
import { ComparisonView } from './ComparisonView';
import { formatNumber } from '../ui/format';
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

describe('ComparisonView: the headline summary.md gives', () => {
  const measured = parseComparison(JSON.parse(MEASURED));
  /** The measured run with one closed-model result failing `rate` of its requests. */
  const failing = (scenario: string, topology: string, rate: number) => ({
    ...measured,
    scenarios: measured.scenarios.map((s) => (s.scenario === scenario && s.topology === topology ? { ...s, errorRate: rate } : s)),
  });

  it('says a closed-model result is not comparable when it or the monolith failed more than 1 % of its requests, prominently', () => {
    render(<ComparisonView comparison={failing('checkout', 'hybrid', 0.25)} />);
    const headline = screen.getByTestId('headline');
    expect(headline.textContent).toMatch(/^Headline/);
    // Right after the run's facts, before the cost tables and the scenarios.
    expect(headline.previousElementSibling?.querySelector('h3')?.textContent).toBe('The run');
    const line = screen.getByTestId('headline-checkout-hybrid');
    expect(line.textContent).toBe('checkout: not comparable, too many failed requests (hybrid 25 %, monolith 0 %); see the server logs.');
    expect(line.className).toContain('fail');
    expect(screen.getByTestId('not-comparable-note').textContent).toMatch(/^Not comparable: 1 of 8 results failed more than 1 %/);
  });

  it('calls every topology of a scenario not comparable when the monolith failed, and leaves 1 % itself comparable', () => {
    const { unmount } = render(<ComparisonView comparison={failing('reads', 'monolith', 0.02)} />);
    for (const t of ['microservices-amqp', 'microservices-http', 'hybrid', 'serverless'])
      expect(screen.getByTestId(`headline-reads-${t}`).textContent).toMatch(/^reads: not comparable, .*monolith 2 %\)/);
    expect(screen.getByTestId('headline-checkout-hybrid').textContent).toMatch(/^checkout: hybrid sustains/);
    unmount();
    render(<ComparisonView comparison={failing('checkout', 'hybrid', 0.01)} />);
    expect(screen.getByTestId('headline-checkout-hybrid').textContent).toMatch(/^checkout: hybrid sustains \d\.\d\d× the monolith's maximum throughput/);
    expect(screen.queryByTestId('not-comparable-note')).toBeNull();
  });

  it('gives the paired throughput ratio of each closed-model result, and nothing for open-model ones or a run without a monolith', () => {
    const { unmount } = render(<ComparisonView comparison={measured} />);
    const hybrid = measured.scenarios.find((s) => s.scenario === 'checkout' && s.topology === 'hybrid')!;
    const mono = measured.scenarios.find((s) => s.scenario === 'checkout' && s.topology === 'monolith')!;
    expect(screen.getByTestId('headline-checkout-hybrid').textContent).toBe(
      `checkout: hybrid sustains ${pairedThroughputRatio(hybrid, mono)!.toFixed(2)}× the monolith's maximum throughput (median of per-round paired ratios; totals 2,572 vs 4,159.7 req/s).`,
    );
    expect(screen.queryByTestId('headline-browse-hybrid')).toBeNull();
    unmount();
    const noMonolith = { ...measured, scenarios: measured.scenarios.filter((s) => s.topology !== 'monolith') };
    render(<ComparisonView comparison={noMonolith} />);
    expect(screen.queryByTestId('headline')).toBeNull();
  });
});

describe('ComparisonView: a file written before schema version 3', () => {
  const sample = parseComparison(JSON.parse(SAMPLE));
  const measured = parseComparison(JSON.parse(MEASURED));

  it('notes a version 2 file whose throughput needed no conversion, with only what it cannot tell, and marks no throughput', () => {
    // The showcase run failed no request (nothing to convert), but was measured before rejected orders were told apart.
    expect(measured.convertedFrom).toMatchObject({ schemaVersion: 2, throughputConverted: [], rejectedOrdersMayCountAsPlaced: true });
    render(<ComparisonView comparison={measured} />);
    const note = screen.getByRole('note');
    expect(note.textContent).toMatch(
      /^Older file: written with schema version 2, shown with version 3's meanings \(throughput counts successful requests only\)\./,
    );
    expect(
      within(note)
        .getAllByRole('listitem')
        .map((li) => li.textContent),
    ).toEqual(measured.convertedFrom!.warnings);
    expect(within(note).getByText(/orders answered 201 but REJECTED as placed orders/)).toBeTruthy();
    expect(screen.queryByText(/converted to successful requests/)).toBeNull();
  });

  it('marks converted throughput in the throughput chart and its text alternative, and in the headline (a version 2 file with failed requests)', () => {
    // The measured version 2 file, with some checkout requests failed: its throughput counted them, so both checkout totals are converted.
    const file = JSON.parse(MEASURED) as { scenarios: Array<{ scenario: string; topology: string; errorRate: number }> };
    for (const s of file.scenarios) if (s.scenario === 'checkout' && (s.topology === 'hybrid' || s.topology === 'monolith')) s.errorRate = 0.005;
    const comparison = parseComparison(file);
    expect(comparison.convertedFrom).toMatchObject({ schemaVersion: 2, throughputConverted: ['checkout/monolith', 'checkout/hybrid'] });
    const rps = (topology: string) => formatNumber(comparison.scenarios.find((s) => s.scenario === 'checkout' && s.topology === topology)!.throughputRps);
    render(<ComparisonView comparison={comparison} />);

    // The chart: the converted bars' values carry the table's *, and its text alternative says they are converted.
    const chart = screen.getByRole('img', { name: 'Throughput of checkout (higher is better)' });
    expect(chart.querySelector('desc')?.textContent).toBe(
      `req/s: monolith ${rps('monolith')} req/s (converted to successful requests/s), microservices-amqp ${rps('microservices-amqp')} req/s, ` +
        `microservices-http ${rps('microservices-http')} req/s, hybrid ${rps('hybrid')} req/s (converted to successful requests/s), serverless ${rps('serverless')} req/s`,
    );
    expect([...chart.querySelectorAll('text.chart-value')].map((t) => t.textContent)).toEqual([
      `${rps('monolith')} req/s*`,
      `${rps('microservices-amqp')} req/s`,
      `${rps('microservices-http')} req/s`,
      `${rps('hybrid')} req/s*`,
      `${rps('serverless')} req/s`,
    ]);
    expect(screen.getByTestId('throughput-converted-note-checkout').textContent).toContain('in this table and the throughput chart.');

    // The headline: both converted totals marked, read out as converted, and a footnote under it.
    const line = screen.getByTestId('headline-checkout-hybrid');
    expect(within(line).getByTestId('headline-converted-checkout-hybrid').textContent).toBe(
      '* converted to successful requests/s, see the note below the headline',
    );
    expect(within(line).getByTestId('headline-converted-checkout-monolith').textContent).toBe(
      '* converted to successful requests/s, see the note below the headline',
    );
    expect(line.textContent).toMatch(new RegExp(`totals ${rps('hybrid')}\\* converted .* vs ${rps('monolith')}\\* converted .* req/s\\)\\.$`));
    expect(screen.getByTestId('headline-converted-note').textContent).toBe(
      '* Converted: the throughput this version 2 file gives for checkout monolith, checkout hybrid counted failed requests too; shown as successful requests/s, throughput × (1 − error rate).',
    );
    // Results that were not converted are not marked.
    expect(within(screen.getByTestId('headline-reads-hybrid')).queryByText(/converted/)).toBeNull();
    expect(within(screen.getByTestId('headline-checkout-serverless')).queryByTestId('headline-converted-checkout-serverless')).toBeNull();
  });

  it('says that per-round figures were scaled too when the converted results have rounds', () => {
    const file = JSON.parse(SAMPLE) as { scenarios: Array<{ scenario: string; roundThroughputRps?: number[] }> };
    for (const s of file.scenarios) s.roundThroughputRps = [310, 290];
    render(<ComparisonView comparison={parseComparison(file)} />);
    expect(screen.getByTestId('throughput-converted-note-place-order').textContent).toMatch(
      /Each round's throughput, which the ratios pair, is scaled by the same share: .* estimates\.$/,
    );
  });

  it('says nothing of the kind for a version 3 file', () => {
    const current = parseComparison({ ...JSON.parse(SAMPLE), schemaVersion: 3 });
    expect(current.convertedFrom).toBeUndefined();
    render(<ComparisonView comparison={current} />);
    expect(screen.queryByRole('note')).toBeNull();
    expect(screen.queryByText(/converted/i)).toBeNull();
    expect(within(screen.getByRole('row', { name: /^microservices-http 300 req\/s/ })).queryByText(/\*/)).toBeNull();
    expect(sample.convertedFrom?.schemaVersion).toBe(1);
  });
});
