import { describe, expect, it } from 'vitest';
import { comparisonFixture } from '../../test/fixtures/comparison';
import { SMALL_TEAM_MVP } from '../../test/fixtures/answers';
import { decisionInput } from '../../test/fixtures/decision';
import { evidenceFromComparison, NO_EVIDENCE } from './evidence';
import { renderHtmlReport } from './report-html';

function report(evidence = evidenceFromComparison(comparisonFixture(), 'c.json'), title = 'Decision <report> & more') {
  const d = decisionInput(SMALL_TEAM_MVP, evidence);
  return renderHtmlReport({ title, date: d.date, answers: d.answers, result: d.result, sensitivity: d.sensitivity, evidence, model: d.model, generator: 'test' });
}

describe('renderHtmlReport', () => {
  const html = report();

  it('is one self-contained file: no scripts, stylesheets, images or fonts to fetch', () => {
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('has the charts: latency percentiles per scenario, throughput, cost, memory, and the score breakdown', () => {
    const titles = [...html.matchAll(/<svg [^>]*aria-label="([^"]+)"/g)].map((m) => m[1]);
    expect(titles).toEqual(['Score by criterion group (points of 100)', 'Latency percentiles: browse', 'Latency percentiles: checkout', 'Throughput by scenario', 'Estimated cost per 1,000 orders', 'Peak memory (all processes)']);
    expect(html).toContain('p95 budget 300 ms');
    expect(html).toContain('<title>p95 · monolith: 12 ms</title>');
  });

  it('shows the recommendation, the breakdown and which fits are measured or priors', () => {
    expect(html).toContain('<strong>Recommendation: Modular monolith</strong>');
    expect(html).toMatch(/<td class="num measured" title="monolith: p95 45.0 ms/);
    expect(html).toMatch(/<td class="num prior"/);
  });

  it('escapes text', () => {
    expect(html).toContain('<title>Decision &lt;report&gt; &amp; more</title>');
  });

  it('without evidence, says so and draws no measurement charts', () => {
    const bare = report(NO_EVIDENCE, 'x');
    expect(bare).toContain('No measured evidence was given');
    expect([...bare.matchAll(/<svg /g)]).toHaveLength(1);
  });
});
