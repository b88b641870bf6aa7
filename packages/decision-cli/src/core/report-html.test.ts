import { describe, expect, it } from 'vitest';
import { comparisonFixture, comparisonV2Fixture } from '../../test/fixtures/comparison';
import { FOURTEEN_TEAMS } from '../../test/fixtures/profiles';
import { MODEL_V2 } from './model';
import { SMALL_TEAM_MVP } from '../../test/fixtures/answers';
import { decisionInput } from '../../test/fixtures/decision';
import { withAnswer } from './answers';
import { evidenceFromComparison, NO_EVIDENCE } from './evidence';
import { renderHtmlReport } from './report-html';

function report(evidence = evidenceFromComparison(comparisonFixture(), 'c.json'), title = 'Decision <report> & more') {
  const d = decisionInput(SMALL_TEAM_MVP, evidence);
  return renderHtmlReport({
    title,
    date: d.date,
    answers: d.answers,
    result: d.result,
    sensitivity: d.sensitivity,
    evidence,
    model: d.model,
    generator: 'test',
  });
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
    expect(titles).toEqual([
      'Score by criterion group (points of 100)',
      'Latency percentiles: browse',
      'Latency percentiles: checkout',
      'Throughput by scenario',
      'Estimated cost per 1,000 orders',
      'Peak memory (all processes)',
    ]);
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

describe('renderHtmlReport with model v2 and a version-2 comparison', () => {
  const evidence = evidenceFromComparison(comparisonV2Fixture(), 'c2.json');
  const close = { ...FOURTEEN_TEAMS, team: { ...FOURTEEN_TEAMS.team, teams: 7 } };
  const d = decisionInput(close, evidence, {}, MODEL_V2);
  const html = renderHtmlReport({
    title: 'T',
    date: d.date,
    answers: d.answers,
    result: d.result,
    sensitivity: d.sensitivity,
    confidence: d.confidence,
    evidence,
    model: d.model,
    generator: 'test',
  });

  it('has a Confidence section that says too close to call and names the deciding answers', () => {
    expect(d.confidence?.level).toBe('too-close');
    expect(html).toMatch(/<h2>Confidence<\/h2>\n<div class="close"><strong>Too close to call<\/strong>/);
    expect(html).toContain('Answers that would decide it:');
    expect(html).toMatch(/<li><code>[a-zA-Z.]+ \(.* instead of .* → .*\)<\/code><\/li>/);
    expect(html).toMatch(/<p><strong>Too close to call: /);
  });

  it('has a Faults section with one chart per fault and the table of what was left broken', () => {
    const titles = [...html.matchAll(/<svg [^>]*aria-label="([^"]+)"/g)].map((m) => m[1]);
    expect(titles).toContain('Fault: dependency-crash — availability during the fault');
    expect(titles).toContain('Estimated monthly cost at your load profile');
    expect(html).toContain('<h2>Faults</h2>');
    expect(html).toMatch(/<td>dependency-crash<\/td><td><code>monolith<\/code><\/td><td class="num">2\.0%<\/td>/);
  });
});

describe('renderHtmlReport with model v2: one cost model', () => {
  const evidence = evidenceFromComparison(comparisonV2Fixture(), 'c2.json');
  const render = (answers = SMALL_TEAM_MVP) => {
    const d = decisionInput(answers, evidence, {}, MODEL_V2);
    return renderHtmlReport({ title: 'T', date: d.date, answers, result: d.result, sensitivity: d.sensitivity, evidence, model: d.model, generator: 'test' });
  };
  const chartTitles = (html: string) => [...html.matchAll(/<svg [^>]*aria-label="([^"]+)"/g)].map((m) => m[1]);

  it('charts the monthly cost in USD only, never the € per 1,000 orders of model v1', () => {
    const html = render();
    expect(chartTitles(html)).toContain('Estimated monthly cost at your load profile');
    expect(chartTitles(html)).not.toContain('Estimated cost per 1,000 orders');
    expect(html).not.toContain('€');
  });

  it('shows — and why when the monthly cost cannot be estimated', () => {
    const html = render(withAnswer(SMALL_TEAM_MVP, 'load.burstiness', 'unknown'));
    expect(chartTitles(html).filter((t) => /cost/i.test(t!))).toEqual([]);
    expect(html).not.toContain('€');
    expect(html).toMatch(/<td class="num">— <span class="note">\(load\.burstiness unknown, so the monthly cost cannot be estimated\)<\/span><\/td>/);
  });
});
