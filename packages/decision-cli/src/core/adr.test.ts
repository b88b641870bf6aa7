import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseComparison } from '@archbench/contracts/comparison';
import { comparisonFixture, comparisonV2Fixture } from '../../test/fixtures/comparison';
import { IDLE_BURSTY_EVENTS, MANY_TEAMS_PLATFORM, SMALL_TEAM_MVP } from '../../test/fixtures/answers';
import { WEBHOOK_BURSTS } from '../../test/fixtures/profiles';
import { decisionInput } from '../../test/fixtures/decision';
import { addMoreInformation, MADR_HEADINGS, parseAdr, renderDecisionAdr, renderIndex, renderTemplateAdr, setAdrStatus, slugify } from './adr';
import { extractConfirmation } from './confirmation';
import { withAnswer, type Answers } from './answers';
import { evidenceFromComparison, NO_EVIDENCE } from './evidence';
import { CURRENT_MODEL, MODEL_V2 } from './model';

const evidence = evidenceFromComparison(comparisonFixture(), 'results/comparison.json');

function headingsOf(body: string): string[] {
  return body.split('\n').filter((l) => /^#{2,3} /.test(l));
}

describe('renderDecisionAdr', () => {
  const text = renderDecisionAdr(decisionInput(SMALL_TEAM_MVP, evidence));
  const { frontMatter, body, title } = parseAdr(text, 'adr.md');

  it('writes MADR 4.0 front matter', () => {
    expect(frontMatter).toEqual({ status: 'proposed', date: '2025-05-01', 'decision-makers': 'Ana, Ben', consulted: 'Ops', informed: '' });
    expect(title).toBe('Use a modular monolith for the order-processing MVP');
  });

  it('has the MADR headings in order', () => {
    const found = headingsOf(body).filter((h) => (MADR_HEADINGS as readonly string[]).includes(h));
    expect(found).toEqual([...MADR_HEADINGS]);
  });

  it('states the chosen option with its justification, the answers, the measured table, the model version and the sensitivity', () => {
    expect(body).toMatch(
      /^Chosen option: "Modular monolith", because it scores \d+\.\d\/100 against \d+\.\d for Hybrid \(margin \d+\.\d points\) under archbench decision model v1/m,
    );
    expect(body).toContain('| Team and organisation | How many teams will build and run the system? | 1 | `team.teams` |');
    expect(body).toMatch(/\| `monolith` \| browse \| 80\.0 \| 4\.0 \| 12\.0 \| 19\.2 \| 0\.00% \| passed \|/);
    expect(body).toMatch(/`microservices-http` \| meets \(68% headroom\)/);
    expect(body).toMatch(/Sensitivity: The recommendation leads Hybrid by \d+\.\d points/);
    // Only one-step changes are paired, so the ADR does not claim that no pair of changes flips it.
    expect(body).toMatch(/points, and no change of one answer, nor of two answers by one step each, flips it/);
    expect(body).toContain('Serverless is not one of the measured topologies: it is scored from the answers alone');
    expect(body).toMatch(/Cost estimate assumptions: €0\.0405 per vCPU-hour/);
  });

  it('lists pros and cons for every option', () => {
    for (const option of ['Modular monolith', 'Microservices', 'Serverless', 'Hybrid']) expect(headingsOf(body)).toContain(`### ${option}`);
    expect(body).toMatch(/\* Good, because it suits one team \(Number of teams, fit 5\/5\)/);
    expect(body).toMatch(/\* Bad, because it suits strong consistency needed poorly \(Consistency across contexts, fit 1\/5\)/);
  });

  it('records a machine-checkable confirmation block that parses back', () => {
    const confirmation = extractConfirmation(text, 'adr.md');
    expect(confirmation.option).toBe('modular-monolith');
    expect(confirmation.criteria.map((c) => c.id)).toEqual([
      'monolith-p95',
      'monolith-errors',
      'monolith-cpu',
      'monolith-memory',
      'monolith-processes',
      'monolith-stuck-orders',
      'monolith-duplicate-charges',
    ]);
    expect(confirmation.criteria[0]).toMatchObject({ metric: 'p95Ms', max: 300, atLeastRps: 20 });
  });

  it('says plainly when there is no evidence and nothing to confirm', () => {
    const t = renderDecisionAdr(decisionInput(IDLE_BURSTY_EVENTS, NO_EVIDENCE, { title: 'Use serverless' }));
    expect(t).toContain('_No measured evidence was given; every option is scored from the answers alone._');
    expect(t).toContain('Chosen option: "Serverless"');
    expect(extractConfirmation(t, 'x.md').criteria).toEqual([]);
    expect(t).toMatch(/nothing machine-checkable yet/);
  });
});

describe('record edits', () => {
  const template = renderTemplateAdr({ title: 'Use PostgreSQL', date: '2025-01-31', status: 'proposed', people: {} });

  it('a blank template has the MADR headings and parses', () => {
    const { frontMatter, body, title } = parseAdr(template, 't.md');
    expect(title).toBe('Use PostgreSQL');
    expect(frontMatter.status).toBe('proposed');
    expect(headingsOf(body).filter((h) => (MADR_HEADINGS as readonly string[]).includes(h))).toEqual([...MADR_HEADINGS]);
  });

  it('setAdrStatus changes only status and date', () => {
    const changed = parseAdr(setAdrStatus(template, 'accepted', 't.md', '2025-02-01'), 't.md');
    expect(changed.frontMatter).toMatchObject({ status: 'accepted', date: '2025-02-01' });
    expect(changed.body).toBe(parseAdr(template, 't.md').body);
  });

  it('addMoreInformation appends to the section once', () => {
    const once = addMoreInformation(template, 'Superseded by [ADR-0002](0002-x.md).');
    expect(addMoreInformation(once, 'Superseded by [ADR-0002](0002-x.md).')).toBe(once);
    expect(once.slice(once.indexOf('## More Information'))).toContain('Superseded by [ADR-0002](0002-x.md).');
    expect(addMoreInformation('---\nstatus: x\n---\n# T\n', 'line')).toMatch(/## More Information\n\nline\n$/);
  });

  it('parseAdr rejects a file without front matter', () => {
    expect(() => parseAdr('# Title\n', 'x.md')).toThrow(/x\.md: no YAML front matter/);
  });

  it('slugify and the index', () => {
    expect(slugify('Use a Modular Monolith — for Orders!')).toBe('use-a-modular-monolith-for-orders');
    expect(
      renderIndex([
        { number: 2, file: '0002-b.md', title: 'B', status: 'accepted', date: '2025-01-02' },
        { number: 1, file: '0001-a.md', title: 'A', status: 'superseded by ADR-0002', date: '2025-01-01' },
      ]),
    ).toContain('| [0001](0001-a.md) | A | superseded by ADR-0002 | 2025-01-01 |\n| [0002](0002-b.md) | B | accepted | 2025-01-02 |');
  });
});

describe('renderDecisionAdr: the cost column follows the model', () => {
  const v2 = evidenceFromComparison(comparisonV2Fixture(), 'c2.json');

  it('model v2 without a monthly cost (burstiness unknown): — and the reason, never a bare € per 1,000 orders', () => {
    const text = renderDecisionAdr(decisionInput(withAnswer(SMALL_TEAM_MVP, 'load.burstiness', 'unknown'), v2, {}, MODEL_V2));
    expect(text).not.toContain('€');
    expect(text).toMatch(/\| `monolith` \| [^\n]* \| — \(load\.burstiness unknown, so the monthly cost cannot be estimated\) \| clean/);
  });

  it('model v1 keeps its € per 1,000 orders', () => {
    const text = renderDecisionAdr(decisionInput(SMALL_TEAM_MVP, evidence));
    expect(text).toMatch(/\| `monolith` \| [^\n]* \| €[\d.]+ \| clean/);
  });
});

describe('renderDecisionAdr: pros and cons scored from a prior say why', () => {
  const v2 = evidenceFromComparison(comparisonV2Fixture(), 'c2.json');
  // Running cost weighs 4 with cost sensitivity high, so it is among each option's telling arguments.
  const answers = withAnswer(withAnswer(MANY_TEAMS_PLATFORM, 'cost.sensitivity', 'high'), 'load.burstiness', 'unknown');
  const text = renderDecisionAdr(decisionInput(answers, v2, {}, MODEL_V2));

  it('never "it suits <why the prior stands in>"', () => {
    expect(text).not.toMatch(/it suits (not measured|unknown|load\.)/);
    expect(text).toMatch(/\* (Good|Neutral|Bad), because the model assumes [\d.]+\/5 here, load\.burstiness being unknown \(Running cost, fit [\d.]+\/5\)/);
  });

  it('gives the real reason for running cost in More Information, not "not measured"', () => {
    expect(text).toContain("* Running cost: load.burstiness unknown, so the monthly cost cannot be estimated; every option uses the model's prior.");
    expect(text).not.toMatch(/Running cost: not measured for/);
  });
});

describe('the verify command an ADR prints', () => {
  const evidence = evidenceFromComparison(comparisonFixture(), 'comparison.json');
  it('can be pasted into a shell as it stands: a path with a space or a quote is quoted', () => {
    const at = (path: string) => renderDecisionAdr({ ...decisionInput(SMALL_TEAM_MVP, evidence), path });
    expect(at('docs/decisions/0001-x.md')).toContain('`archbench verify docs/decisions/0001-x.md --comparison <comparison.json>`');
    expect(at('my decisions/0001-x.md')).toContain("`archbench verify 'my decisions/0001-x.md' --comparison <comparison.json>`");
    expect(at("it's/0001-x.md")).toContain(`\`archbench verify 'it'\\''s/0001-x.md' --comparison <comparison.json>\``);
  });
});

describe('the decision ADR reads as written (QA)', () => {
  const measuredJson = JSON.parse(readFileSync(new URL('../../test/fixtures/measured-comparison.json', import.meta.url), 'utf8'));
  const measured = evidenceFromComparison(parseComparison(measuredJson), 'measured-comparison.json');
  const render = (answers: Answers, e = measured) => renderDecisionAdr(decisionInput(answers, e, {}, CURRENT_MODEL));
  const section = (text: string, heading: string) =>
    text.slice(text.indexOf(`${heading}\n`), text.indexOf('\n#', text.indexOf(`${heading}\n`) + heading.length));

  it('Confirmation notes are paragraphs after the criteria list, which CommonMark cannot merge into it', () => {
    const text = render(WEBHOOK_BURSTS);
    const confirmation = section(text, '### Confirmation');
    const lines = confirmation.slice(0, confirmation.indexOf('```yaml')).trimEnd().split('\n');
    const firstNote = lines.findIndex((l) => l.startsWith('Note: '));
    expect(firstNote).toBeGreaterThan(0);
    // Before: "* note" one blank line after "* criterion": one loose list.
    expect(lines[firstNote - 1]).toBe('');
    expect(lines[firstNote - 2]).toMatch(/^\* /);
    const after = lines.slice(firstNote);
    expect(after.filter((l) => /^\s*[*+-] |^\s{2,}\S/.test(l))).toEqual([]);
    // Each note is its own paragraph.
    expect(after.filter((l) => l !== '').every((l) => l.startsWith('Note: '))).toBe(true);
  });

  it('latency verdicts in the tables are words, not status names', () => {
    const unknownRate = render(withAnswer(WEBHOOK_BURSTS, 'load.expectedRps', 'unknown'));
    expect(unknownRate).toMatch(/\| `monolith` \| not judged \(answer unknown\) \| /);
    const tooFast = render(withAnswer(withAnswer(WEBHOOK_BURSTS, 'load.expectedRps', 100_000), 'load.peakRps', 200_000));
    expect(tooFast).toMatch(/\| `monolith` \| not demonstrated \| not demonstrated \| /);
    for (const text of [unknownRate, tooFast]) expect(text).not.toMatch(/unknown-answer|not-demonstrated/);
  });

  it('says "Too close to call" once, as the heading of its reasons', () => {
    const text = render(WEBHOOK_BURSTS);
    const outcome = section(text, '## Decision Outcome');
    expect(outcome).toMatch(/^\*\*Too close to call:\*\* \d+ one-step changes of a single answer flip it/m);
    expect(outcome.match(/too close to call/gi)).toHaveLength(1);
  });

  it('states the memory of the machine in GiB, as measured (23.5, not "24 GB")', () => {
    expect(render(WEBHOOK_BURSTS)).toContain('2 cores, 23.5 GiB memory, Node v24.22.3 on linux/x64');
    expect(render(SMALL_TEAM_MVP, evidence)).toContain('2 cores, 8 GiB memory');
  });
});
