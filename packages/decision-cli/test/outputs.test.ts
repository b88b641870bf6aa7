import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAdr, renderTemplateAdr } from '../src/core/adr';
import { answersTemplate } from '../src/core/template';
import { comparisonFixture, comparisonV2Fixture } from './fixtures/comparison';
import { FOURTEEN_TEAMS, WEBHOOK_BURSTS } from './fixtures/profiles';
import { SMALL_TEAM_MVP } from './fixtures/answers';
import { runCli, spawnCli, tempDir } from './helpers';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
  tmp.write('answers.yaml', answersTemplate(SMALL_TEAM_MVP));
  tmp.write('comparison.json', JSON.stringify(comparisonFixture()));
});
afterEach(() => tmp.cleanup());

const files = () => readdirSync(tmp.dir, { recursive: true }).map(String).sort();
const decide = ['decide', '--answers', 'answers.yaml', '--comparison', 'comparison.json'];
const ADR = 'docs/decisions/0001-use-a-modular-monolith-for-the-order-processing-mvp.md';

describe('bad outputs: one line, exit 2, nothing written', () => {
  const cases: Array<{ name: string; setup?: () => void; args: string[]; message: RegExp }> = [
    {
      name: '--html pointing at a folder',
      setup: () => mkdirSync(join(tmp.dir, 'out')),
      args: [...decide, '--html', 'out'],
      message: /^archbench: --html out: is a folder; give a file name/,
    },
    {
      name: '--dir under a file (cannot be created)',
      args: [...decide, '--dir', 'answers.yaml/decisions'],
      message: /^archbench: --dir answers\.yaml\/decisions: .*answers\.yaml is a file, so no folder can be created under it/,
    },
    {
      name: '--dir in /proc',
      args: [...decide, '--dir', '/proc/archbench-decisions'],
      message: /^archbench: --dir \/proc\/archbench-decisions: \/proc\/archbench-decisions is on a kernel pseudo-filesystem/,
    },
    { name: '--dir in /proc/self', args: [...decide, '--dir', '/proc/self/decisions'], message: /kernel pseudo-filesystem/ },
    {
      name: '--html under a file',
      args: [...decide, '--html', 'answers.yaml/report.html'],
      message: /^archbench: --html answers\.yaml\/report\.html: .*is a file/,
    },
    {
      name: '--save-answers over an existing file',
      args: [...decide, '--save-answers', 'comparison.json'],
      message: /--save-answers comparison\.json: already exists; refusing to overwrite it/,
    },
    {
      name: 'rps 1e308',
      setup: () => tmp.write('answers.yaml', answersTemplate(SMALL_TEAM_MVP).replace('expectedRps: 20', 'expectedRps: 1e308')),
      args: decide,
      message: /load\.expectedRps: must be a number > 0 and <= 10000000, or unknown \(got 1e\+308\)/,
    },
    {
      name: 'more teams than engineers',
      setup: () => tmp.write('answers.yaml', answersTemplate(SMALL_TEAM_MVP).replace('teams: 1', 'teams: 9')),
      args: decide,
      message: /team\.teams: 9 teams cannot be made of 5 engineers/,
    },
    { name: '--date 2026-02-30', args: [...decide, '--date', '2026-02-30'], message: /--date must be a real date as YYYY-MM-DD \(got "2026-02-30"\)/ },
    {
      name: 'answers-template --out pointing at a folder',
      setup: () => mkdirSync(join(tmp.dir, 't')),
      args: ['answers-template', '--out', 't', '--force'],
      message: /--out t: is a folder/,
    },
    { name: 'adr new in /proc', args: ['adr', 'new', 'X', '--dir', '/proc/archbench'], message: /--dir \/proc\/archbench: .*kernel pseudo-filesystem/ },
    {
      name: 'report --out pointing at a folder',
      setup: () => mkdirSync(join(tmp.dir, 'r')),
      args: ['report', '--answers', 'answers.yaml', '--out', 'r'],
      message: /--out r: is a folder/,
    },
    {
      name: '--html over an existing ADR',
      setup: () => {
        mkdirSync(join(tmp.dir, 'docs/decisions'), { recursive: true });
        tmp.write('docs/decisions/0001-keep-it.md', renderTemplateAdr({ title: 'Keep it', date: '2025-01-01', status: 'accepted', people: {} }));
      },
      args: [...decide, '--html', 'docs/decisions/0001-keep-it.md'],
      message: /^archbench: --html docs\/decisions\/0001-keep-it\.md: that is ADR-0001 \(0001-keep-it\.md\); refusing to overwrite it/,
    },
    {
      name: '--html over the ADR index',
      args: [...decide, '--html', 'docs/decisions/README.md'],
      message: /--html docs\/decisions\/README\.md: that is the ADR index; refusing to overwrite it/,
    },
    {
      name: '--html and --save-answers the same file',
      args: [...decide, '--html', 'x.out', '--save-answers', 'x.out'],
      message: /--save-answers x\.out: that is the file given as --html x\.out; refusing to overwrite it/,
    },
    {
      name: '--html over the evidence it reads',
      args: [...decide, '--html', 'comparison.json'],
      message: /--html comparison\.json: that is the evidence file comparison\.json; refusing to overwrite it/,
    },
    {
      name: 'report --out over its own evidence',
      args: ['report', '--answers', 'answers.yaml', '--comparison', 'comparison.json', '--out', 'comparison.json'],
      message: /--out comparison\.json: that is the evidence file comparison\.json; refusing to overwrite it/,
    },
    {
      name: 'report --out over its answers',
      args: ['report', '--answers', 'answers.yaml', '--out', 'answers.yaml'],
      message: /--out answers\.yaml: that is the answers file answers\.yaml/,
    },
  ];
  it.each(cases)('$name', async ({ setup, args, message }) => {
    setup?.();
    // Names and contents: an output written over an existing file keeps its name.
    const snapshot = () => files().map((f) => [f, statSync(join(tmp.dir, f)).isFile() ? readFileSync(join(tmp.dir, f), 'utf8') : 'folder']);
    const before = snapshot();
    const r = await runCli(args, tmp.dir);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(r.code).toBe(2);
    expect(r.stdout).not.toMatch(/Recommendation/); // checked before scoring
    expect(snapshot()).toEqual(before);
  });

  it('a write that fails halfway (the index cannot be replaced) leaves nothing behind', async () => {
    // README.md exists as a folder: every path check passes for the ADR, but the index rename fails.
    mkdirSync(join(tmp.dir, 'docs/decisions/README.md'), { recursive: true });
    writeFileSync(join(tmp.dir, 'docs/decisions/README.md/keep'), 'x');
    const before = files();
    const r = await runCli([...decide, '--html', 'out/report.html'], tmp.dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^archbench: cannot write .*README\.md.*nothing was written\n$/);
    expect(files()).toEqual(before);
  });

  it('the real bin does not hang on --dir /proc/... and exits 2 with one line', async () => {
    const r = await spawnCli([...decide, '--dir', '/proc/1/archbench'], tmp.dir);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  }, 60_000);

  it('an unwritable --dir is refused before scoring (skipped when running as root, which ignores modes)', async () => {
    if (process.getuid?.() === 0) return;
    mkdirSync(join(tmp.dir, 'ro'));
    chmodSync(join(tmp.dir, 'ro'), 0o555);
    const r = await runCli([...decide, '--dir', 'ro'], tmp.dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--dir ro: .*not writable|cannot write/);
  });
});

describe('decide writes everything at once', () => {
  it('ADR, index, HTML and the answers beside the ADR; the answers read back the same', async () => {
    const r = await runCli([...decide, '--html', 'out/report.html'], tmp.dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Saved answers to docs/decisions/0001-use-a-modular-monolith-for-the-order-processing-mvp.answers.yaml');
    expect(files()).toEqual(
      expect.arrayContaining([
        ADR,
        'docs/decisions/0001-use-a-modular-monolith-for-the-order-processing-mvp.answers.yaml',
        'docs/decisions/README.md',
        'out/report.html',
      ]),
    );
    expect(files().some((f) => f.endsWith('.tmp') || f.includes('.bak'))).toBe(false);
    const adr = readFileSync(join(tmp.dir, ADR), 'utf8');
    expect(adr).toContain('# archbench-answers (decided with model v5)');
    expect(adr).toContain('format: archbench-confirmation/v2');
  });

  it.each(['accepted', 'rejected', 'deprecated'])('a too-close result stays proposed even when --status %s is asked, and says why', async (asked) => {
    tmp.write('close.yaml', answersTemplate({ ...FOURTEEN_TEAMS, team: { ...FOURTEEN_TEAMS.team, teams: 7 } }));
    const r = await runCli(['decide', '--answers', 'close.yaml', '--status', asked], tmp.dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Too close to call: /);
    expect(r.stdout).toContain(`The result is too close to call, so the ADR stays proposed (not ${asked}).`);
    const file = readdirSync(join(tmp.dir, 'docs/decisions')).find((f) => f.endsWith('.md') && f !== 'README.md')!;
    const adr = readFileSync(join(tmp.dir, 'docs/decisions', file), 'utf8');
    expect(parseAdr(adr, file).frontMatter.status).toBe('proposed');
    expect(adr).toMatch(/\*\*Too close to call:\*\* .*Deciding answers: /);
    expect(adr).not.toMatch(/Too close to call.{0,10}Too close to call/);
  });
});

describe('the decision log tolerates hand-written records', () => {
  it('an ADR without front matter and two ADRs numbered 0002 are warned about, not fatal', async () => {
    const dir = join(tmp.dir, 'docs/decisions');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '0001-hand-written.md'), '# Use Markdown for decisions\n\nWe write ADRs by hand.\n');
    const t = (title: string) => renderTemplateAdr({ title, date: '2025-01-01', status: 'accepted', people: {} });
    writeFileSync(join(dir, '0002-one.md'), t('One'));
    writeFileSync(join(dir, '0002-two.md'), t('Two'));
    const list = await runCli(['adr', 'list'], tmp.dir);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/0001 {2}unknown .*Use Markdown for decisions/);
    expect(list.stderr).toMatch(/warning: 0001-hand-written\.md has no YAML front matter; listed with status unknown/);
    expect(list.stderr).toMatch(/warning: ADR number 0002 is used 2 times \(0002-one\.md, 0002-two\.md\)/);
    const status = await runCli(['adr', 'status', '1', 'accepted'], tmp.dir);
    expect(status.code).toBe(0);
    expect(parseAdr(readFileSync(join(dir, '0001-hand-written.md'), 'utf8'), 'x').frontMatter.status).toBe('accepted');
    const d = await runCli(decide, tmp.dir);
    expect(d.code).toBe(0);
    expect(d.stdout).toContain('(ADR-0003, proposed)');
    const ambiguous = await runCli(['adr', 'status', '2', 'accepted'], tmp.dir);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toMatch(/ADR number 0002 is ambiguous/);
  });
});

describe('verify', () => {
  it('still verifies an ADR decided with model v1 (confirmation format v1)', async () => {
    await runCli(decide, tmp.dir);
    const path = join(tmp.dir, ADR);
    const v1Block = [
      '```yaml',
      '# archbench-confirmation: checked by `archbench verify`',
      'format: archbench-confirmation/v1',
      'modelVersion: 1',
      'option: modular-monolith',
      'rateTolerance: 0.95',
      'criteria:',
      '  - { id: monolith-p95, description: p95 within budget, topology: monolith, metric: p95Ms, max: 300, atLeastRps: 20 }',
      '  - { id: monolith-cpu, description: cpu, topology: monolith, metric: cpuSecondsPer1kOrders, max: 5 }',
      '```',
    ].join('\n');
    writeFileSync(path, readFileSync(path, 'utf8').replace(/```yaml\n# archbench-confirmation[\s\S]*?```/, v1Block));
    const ok = await runCli(['verify', ADR, '--comparison', 'comparison.json'], tmp.dir);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/all 2 confirmation criteria hold/);
    tmp.write('worse.json', JSON.stringify(comparisonFixture({ monolithCpuPer1k: 9 })));
    expect((await runCli(['verify', ADR, '--comparison', 'worse.json'], tmp.dir)).code).toBe(1);
  });

  it('checks fault figures when they were recorded', async () => {
    tmp.write('v2.json', JSON.stringify(comparisonV2Fixture()));
    await runCli(['decide', '--answers', 'answers.yaml', '--comparison', 'v2.json'], tmp.dir);
    const ok = await runCli(['verify', '1', '--comparison', 'v2.json'], tmp.dir);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/✓ monolith-dependency-crash-recovery: after dependency-crash, whole again within 5 s/);
    tmp.write('lost.json', JSON.stringify(comparisonV2Fixture({ ordersLost: { monolith: 4 }, recoverySeconds: { monolith: 40 } })));
    const bad = await runCli(['verify', '1', '--comparison', 'lost.json'], tmp.dir);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/✗ monolith-dependency-crash-ordersLost: .* — 4 in dependency-crash \(max 0\)/);
    expect(bad.stdout).toMatch(/✗ monolith-dependency-crash-recovery: .* — 40\.0 s in dependency-crash/);
  });
});

describe('archbench diff', () => {
  it('shows which answers and which criteria moved the ranking (answers files or ADRs)', async () => {
    tmp.write('a.yaml', answersTemplate(FOURTEEN_TEAMS));
    tmp.write(
      'b.yaml',
      answersTemplate({ ...FOURTEEN_TEAMS, team: { ...FOURTEEN_TEAMS.team, teams: 2 }, change: { ...FOURTEEN_TEAMS.change, independentReleases: 'none' } }),
    );
    const r = await runCli(['diff', 'a.yaml', 'b.yaml'], tmp.dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^A a\.yaml: Hybrid by \d+\.\d points\nB b\.yaml: Modular monolith by \d+\.\d points \(the recommendation changed\)/);
    expect(r.stdout).toMatch(/team\.teams: 14 → 2 {2}\(\+\d+\.\d\)/);
    expect(r.stdout).toMatch(/change\.independentReleases: most → none {2}\(\+\d+\.\d\)/);
    expect(r.stdout).toMatch(/Criteria that moved[\s\S]*Number of teams: Modular monolith/);
    // The same from two ADRs (their answers blocks).
    await runCli(['decide', '--answers', 'a.yaml'], tmp.dir);
    await runCli(['decide', '--answers', 'b.yaml'], tmp.dir);
    const adrs = readdirSync(join(tmp.dir, 'docs/decisions'))
      .filter((f) => /^\d{4}-.*\.md$/.test(f))
      .sort()
      .map((f) => `docs/decisions/${f}`);
    const fromAdrs = await runCli(['diff', adrs[0]!, adrs[1]!, '--json'], tmp.dir);
    expect(fromAdrs.code).toBe(0);
    const json = JSON.parse(fromAdrs.stdout);
    expect(json.a.recommendation).toBe('hybrid');
    expect(json.b.recommendation).toBe('modular-monolith');
    expect(json.answers.map((x: { path: string }) => x.path).sort()).toEqual(['change.independentReleases', 'team.teams']);
  });

  it('refuses a bad input with exit 2', async () => {
    const r = await runCli(['diff', 'answers.yaml'], tmp.dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/diff needs two inputs/);
  });
});

describe('unknown answers end to end', () => {
  it('decide accepts unknown for numbers and choices, lists them as assumptions, and still records what it can check', async () => {
    const text = answersTemplate(SMALL_TEAM_MVP)
      .replace('expectedRps: 20', 'expectedRps: unknown')
      .replace('p95BudgetMs: 300', 'p95BudgetMs: unknown')
      .replace('onCall: none', 'onCall: unknown');
    tmp.write('unknown.yaml', text);
    tmp.write('v2.json', JSON.stringify(comparisonV2Fixture()));
    const r = await runCli(['decide', '--answers', 'unknown.yaml', '--comparison', 'v2.json'], tmp.dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Note: load\.expectedRps is unknown/);
    const file = readdirSync(join(tmp.dir, 'docs/decisions')).find((f) => /^0001-.*\.md$/.test(f))!;
    const adr = readFileSync(join(tmp.dir, 'docs/decisions', file), 'utf8');
    expect(adr).toMatch(/Assumptions: .*`team\.onCall`.*`load\.expectedRps`.*are unknown/);
    expect(adr).toContain(
      "The expected rate (`load.expectedRps`) is unknown, so latency was scored from the model's prior: no latency or error-rate criteria are recorded.",
    );
    expect(adr).not.toMatch(/metric: (p95Ms|errorRate)/);
    const v = await runCli(['verify', '1', '--comparison', 'v2.json'], tmp.dir);
    expect(v.code).toBe(0);
  });
});

describe('the 14-team profile end to end', () => {
  it('gets the hybrid, and the sensitivity line names the answers that moved it', async () => {
    tmp.write('fourteen.yaml', answersTemplate(FOURTEEN_TEAMS));
    const r = await runCli(['score', '--answers', 'fourteen.yaml'], tmp.dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^(Recommendation|Too close to call): Hybrid/);
    expect(r.stdout).toMatch(/\nSensitivity: .*; the lead comes mostly from team\.teams = 14, change\.independentReleases = most/);
  });
});

describe('the webhook profile end to end', () => {
  it('gets serverless with and without a measured comparison', async () => {
    tmp.write('webhook.yaml', answersTemplate(WEBHOOK_BURSTS));
    tmp.write('v2.json', JSON.stringify(comparisonV2Fixture()));
    for (const extra of [[], ['--comparison', 'comparison.json'], ['--comparison', 'v2.json']]) {
      const r = await runCli(['score', '--answers', 'webhook.yaml', '--json', ...extra], tmp.dir);
      expect(JSON.parse(r.stdout).recommendation).toBe('serverless');
    }
    expect(existsSync(join(tmp.dir, 'docs'))).toBe(false);
  });
});
