import { render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { parseComparison } from '@archbench/contracts/comparison';
import SAMPLE from '../../public/sample-comparison.json?raw';
import { ComparisonView } from './ComparisonView';

/** The sample run as a version 2 file: a fault experiment in which the microservices lose two orders. */
function v2() {
  const base = JSON.parse(SAMPLE) as Record<string, unknown> & { topologies: Record<string, unknown>[] };
  const fault = (topology: string, over: Record<string, unknown> = {}) => ({
    topology,
    fault: 'dependency-crash',
    browseAvailability: 1,
    checkoutSuccess: 0.9,
    ordersLost: 0,
    ordersStuck: 0,
    duplicateCharges: 0,
    stockDrift: 0,
    recoverySeconds: 2,
    p95DuringFaultMs: 120,
    recovered: true,
    injection: { method: 'SIGKILL', verified: true, detail: 'pid 10 died; now pid 11' },
    ...over,
  });
  return parseComparison({
    ...base,
    schemaVersion: 2,
    topologies: [
      { ...base.topologies[0], idle: { cpuCores: 0.004, rssBytes: 90 * 2 ** 20, measuredSeconds: 30, billedAtRest: true }, coldStart: null },
      {
        ...base.topologies[1],
        idle: { cpuCores: 0.03, rssBytes: 400 * 2 ** 20, measuredSeconds: 30, billedAtRest: true },
        coldStart: {
          startToFirstResponse: { samples: 3, p50Ms: 6400, maxMs: 7100, valuesMs: [6400, 7100, 6000] },
          firstRequest: { samples: 3, p50Ms: 40, maxMs: 55, valuesMs: [40, 55, 31] },
          afterIdle: { samples: 3, p50Ms: 6, maxMs: 9, valuesMs: [6, 9, 5], idleSeconds: 30 },
          warmMs: 4,
        },
      },
    ],
    faults: [
      fault('monolith', { browseAvailability: 0.2, checkoutSuccess: 0.3 }),
      fault('microservices-http', { ordersLost: 2, recovered: false, recoverySeconds: 30 }),
    ],
    skippedFaults: [{ topology: 'monolith', fault: 'broker-loss', reason: 'uses no message broker' }],
    cost: {
      currency: 'USD',
      hoursPerMonth: 730,
      headroom: 0.3,
      targetUtilization: 0.6,
      prices: [
        {
          id: 'vcpu-hour',
          description: 'vCPU',
          value: 0.04048,
          unit: 'USD per vCPU-hour',
          source: 'AWS Fargate pricing',
          date: '2024-06-01',
          overriddenBy: '--price vcpu-hour=0.04048',
        },
      ],
      profiles: [{ name: 'steady-200', description: 'steady 200 req/s', busyRps: 200, peakRps: 200, hoursPerDay: 24, quietRps: 0, orderShare: 0.2 }],
      estimates: [
        {
          topology: 'monolith',
          profile: 'steady-200',
          model: 'provisioned',
          monthlyUsd: 17.19,
          idleMonthlyUsd: 9.01,
          lines: [],
          notes: ['sized for 200 req/s'],
        },
        {
          topology: 'microservices-http',
          profile: 'steady-200',
          model: 'provisioned',
          monthlyUsd: null,
          idleMonthlyUsd: null,
          lines: [],
          notes: ['not estimated: peak memory not measured'],
        },
      ],
    },
  });
}

describe('report viewer, version 2 sections', () => {
  it('shows each fault with what kept working, a lost order as harm, and what was not run', () => {
    render(<ComparisonView comparison={v2()} />);
    const faults = screen.getByTestId('faults');
    const crash = within(faults)
      .getByRole('heading', { name: /Dependency crash/ })
      .closest('section')!;
    const mono = within(crash).getByRole('row', { name: /^monolith/ });
    expect(mono.textContent).toContain('20 %');
    expect(mono.textContent).toContain('✓ happened: pid 10 died; now pid 11');
    expect(screen.getByTestId('lost-dependency-crash-microservices-http').textContent).toBe('2');
    expect(screen.getByTestId('lost-dependency-crash-microservices-http').className).toContain('fail');
    const micro = within(crash).getByRole('row', { name: /^microservices-http/ });
    expect(micro.textContent).toContain('not within 30 s');
    expect(micro.textContent).toContain('consistency harmed');
    const chart = within(crash).getByRole('img', { name: /what kept working/ });
    expect(chart.querySelector('desc')?.textContent).toContain('browse: monolith 20 %, microservices-http 100 %');
    expect(
      within(faults)
        .getByText(/uses no message broker/)
        .closest('li')?.textContent,
    ).toBe('monolith / broker-loss: uses no message broker');
  });

  it('shows monthly cost per load profile with its price assumptions, and says when a figure is not estimated', () => {
    render(<ComparisonView comparison={v2()} />);
    expect(screen.getByTestId('monthly-steady-200-monolith').textContent).toBe('$17.19');
    expect(screen.getByTestId('monthly-steady-200-microservices-http').textContent).toBe('not estimated');
    const prices = within(screen.getByTestId('monthly-cost')).getByLabelText('Price assumptions');
    const row = within(prices).getByRole('row', { name: /vcpu-hour/, hidden: true });
    expect(row.textContent).toContain('AWS Fargate pricing');
    expect(row.textContent).toContain('2024-06-01');
    expect(row.textContent).toContain('set by --price vcpu-hour=0.04048');
  });

  it('shows idle cost and cold start, and "not measured" where there is none', () => {
    render(<ComparisonView comparison={v2()} />);
    expect(screen.getByTestId('cold-start-microservices-http').textContent).toBe('6,400 ms / 7,100 ms (3 starts)');
    expect(screen.getByTestId('cold-start-monolith').textContent).toBe('not measured');
    const rest = screen.getByTestId('rest');
    expect(within(rest).getByRole('row', { name: /^monolith/ }).textContent).toContain('0.4 % of a core');
  });

  it('shows a version 1 file without any of these sections', () => {
    render(<ComparisonView comparison={parseComparison(JSON.parse(SAMPLE))} />);
    expect(screen.queryByTestId('faults')).toBeNull();
    expect(screen.queryByTestId('monthly-cost')).toBeNull();
    expect(screen.queryByTestId('rest')).toBeNull();
    expect(screen.getByTestId('comparison')).toBeTruthy();
  });
});

describe('report viewer, faults of files written before droppedDuringFault', () => {
  it('shows a dash, not 0, where the iterations dropped were not counted', () => {
    render(<ComparisonView comparison={v2()} />);
    expect(screen.getByTestId('dropped-during-dependency-crash-monolith').textContent).toBe('–');
    expect(screen.getByTestId('dropped-during-dependency-crash-monolith').className).not.toContain('fail');
  });
});
