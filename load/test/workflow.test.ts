import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

describe('.github/workflows/compare.yml', () => {
  const text = readFileSync(new URL('../../.github/workflows/compare.yml', import.meta.url), 'utf8');
  const workflow = parse(text) as {
    name: string;
    on: Record<string, unknown>;
    jobs: Record<string, { 'runs-on': string; steps: { uses?: string; run?: string; with?: Record<string, unknown> }[] }>;
  };

  it('is valid YAML with one job on a hosted runner', () => {
    expect(workflow.name).toBe('compare');
    expect(Object.keys(workflow.on)).toContain('workflow_dispatch');
    expect(workflow.jobs.compare?.['runs-on']).toBe('ubuntu-latest');
  });

  it('installs k6, runs the comparison with it and uploads the results', () => {
    const steps = workflow.jobs.compare!.steps;
    const uses = steps.map((s) => s.uses ?? '');
    expect(uses.some((u) => u.startsWith('grafana/setup-k6-action@'))).toBe(true);
    expect(uses.some((u) => u.startsWith('pnpm/action-setup@'))).toBe(true);
    const run = steps.find((s) => s.run?.includes(' compare '));
    expect(run?.run).toMatch(/--engine k6/);
    expect(run?.run).toMatch(/--out results/);
    const upload = steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'));
    expect(upload?.with?.path).toBe('results/');
    // k6 must be installed before the comparison runs.
    expect(uses.findIndex((u) => u.startsWith('grafana/setup-k6-action@'))).toBeLessThan(steps.indexOf(run!));
  });
});

describe('load/comparison.schema.json', () => {
  it('is the JSON Schema generated from the contracts (run `pnpm --filter @archbench/load json-schema` after changing it)', async () => {
    const { renderJsonSchema } = await import('../src/cli/json-schema');
    expect(readFileSync(new URL('../comparison.schema.json', import.meta.url), 'utf8')).toBe(renderJsonSchema());
  });
});
