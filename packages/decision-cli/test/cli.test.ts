import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAdr } from '../src/core/adr';
import { withAnswer } from '../src/core/answers';
import { answersTemplate } from '../src/core/template';
import { comparisonFixture, comparisonV2Fixture } from './fixtures/comparison';
import { IDLE_BURSTY_EVENTS, SMALL_TEAM_MVP } from './fixtures/answers';
import { FOURTEEN_TEAMS } from './fixtures/profiles';
import { runCli, spawnCli, tempDir } from './helpers';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
  tmp.write('answers.yaml', answersTemplate(SMALL_TEAM_MVP));
  tmp.write('comparison.json', JSON.stringify(comparisonFixture(), null, 2));
});
afterEach(() => tmp.cleanup());

const files = () => readdirSync(tmp.dir, { recursive: true }).map(String).sort();
const decide = ['decide', '--answers', 'answers.yaml', '--comparison', 'comparison.json'];

describe('archbench decide --answers', () => {
  it('writes the ADR, the index and the HTML report, and prints the recommendation', async () => {
    const r = await runCli([...decide, '--html', 'out/report.html', '--decision-makers', 'Ana,Ben'], tmp.dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Recommendation: Modular monolith \(\d+\.\d\/100\), ahead of Hybrid by/);
    expect(r.stdout).toContain('Wrote docs/decisions/0001-use-a-modular-monolith-for-the-order-processing-mvp.md (ADR-0001, proposed)');
    const adr = readFileSync(join(tmp.dir, 'docs/decisions/0001-use-a-modular-monolith-for-the-order-processing-mvp.md'), 'utf8');
    expect(parseAdr(adr, 'adr').frontMatter).toMatchObject({ status: 'proposed', date: '2025-05-01', 'decision-makers': 'Ana, Ben' });
    expect(adr).toContain('archbench verify docs/decisions/0001-use-a-modular-monolith-for-the-order-processing-mvp.md --comparison');
    expect(readFileSync(join(tmp.dir, 'docs/decisions/README.md'), 'utf8')).toContain('[0001](0001-use-a-modular-monolith-for-the-order-processing-mvp.md)');
    expect(readFileSync(join(tmp.dir, 'out/report.html'), 'utf8')).toMatch(/^<!doctype html>/);
  });

  it('never overwrites: a second run gets the next number', async () => {
    await runCli(decide, tmp.dir);
    const first = readFileSync(join(tmp.dir, 'docs/decisions/0001-use-a-modular-monolith-for-the-order-processing-mvp.md'), 'utf8');
    const r = await runCli([...decide, '--date', '2025-06-01', '--supersedes', '1'], tmp.dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('ADR-0001 is now superseded by ADR-0002');
    const oldNow = readFileSync(join(tmp.dir, 'docs/decisions/0001-use-a-modular-monolith-for-the-order-processing-mvp.md'), 'utf8');
    expect(oldNow).not.toBe(first);
    expect(parseAdr(oldNow, 'x').frontMatter.status).toBe('superseded by ADR-0002');
    expect(readFileSync(join(tmp.dir, 'docs/decisions/0002-use-a-modular-monolith-for-the-order-processing-mvp.md'), 'utf8')).toContain(
      'Supersedes [ADR-0001]',
    );
  });

  it('--supersedes an ADR already superseded is refused before anything is scored or asked, with exit 2', async () => {
    await runCli(decide, tmp.dir);
    await runCli([...decide, '--supersedes', '1'], tmp.dir);
    const before = files();
    const r = await runCli([...decide, '--supersedes', '1'], tmp.dir);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe(''); // before: the whole recommendation, then the refusal
    expect(r.stderr).toBe('archbench: --supersedes 1: ADR-0001 is already superseded by ADR-0002\n');
    expect(files()).toEqual(before);
  });

  it('diff of two ADRs without evidence says it scores from the answers alone', async () => {
    await runCli(decide, tmp.dir);
    const adr = join(
      'docs/decisions',
      readdirSync(join(tmp.dir, 'docs/decisions')).find((f) => /^0001-.*\.md$/.test(f))!,
    );
    const bare = await runCli(['diff', adr, adr], tmp.dir);
    expect(bare.code).toBe(0);
    expect(bare.stdout).toContain('Note: no evidence was given, so both are scored from the answers alone');
    const withEvidence = await runCli(['diff', adr, adr, '--comparison', 'comparison.json'], tmp.dir);
    expect(withEvidence.stdout).not.toContain('no evidence was given');
  });

  it('reads JSON answers too', async () => {
    tmp.write('answers.json', JSON.stringify(SMALL_TEAM_MVP));
    const r = await runCli(['score', '--answers', 'answers.json', '--json'], tmp.dir);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).recommendation).toBe('modular-monolith');
  });

  it('runs decide when no command is given (`pnpm decide --answers ...`)', async () => {
    const r = await runCli(['--answers', 'answers.yaml', '--dry-run'], tmp.dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Recommendation: Modular monolith/);
    expect(r.stdout).toContain('_No measured evidence was given; every option is scored from the answers alone._');
  });

  it('--dry-run prints the ADR and writes nothing', async () => {
    const before = files();
    const r = await runCli([...decide, '--dry-run'], tmp.dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--- dry run: nothing written ---');
    expect(r.stdout).toContain('## Decision Outcome');
    expect(files()).toEqual(before);
  });
});

describe('bad input: a clear message, exit code 2, nothing written', () => {
  const cases: Array<{ name: string; setup?: () => void; args: string[]; message: RegExp }> = [
    {
      name: 'malformed answers YAML',
      setup: () => tmp.write('answers.yaml', 'team: [unclosed\n'),
      args: decide,
      message: /answers\.yaml: not valid YAML or JSON/,
    },
    {
      name: 'an unknown answers field',
      setup: () => tmp.write('answers.yaml', `${answersTemplate(SMALL_TEAM_MVP)}\nsquads: 4\n`),
      args: decide,
      message: /squads: unknown field; allowed fields: version, project/,
    },
    {
      name: 'an enum value out of range',
      setup: () => tmp.write('answers.yaml', answersTemplate(SMALL_TEAM_MVP).replace('onCall: none', 'onCall: sometimes')),
      args: decide,
      message: /team\.onCall: must be one of none, shared-rotation, per-team, or unknown \(got "sometimes"\)/,
    },
    { name: 'a missing answers file', args: ['decide', '--answers', 'nope.yaml'], message: /answers file .*nope\.yaml does not exist/ },
    {
      name: 'a comparison of another schema version',
      setup: () => tmp.write('comparison.json', JSON.stringify({ ...comparisonFixture(), schemaVersion: 99 })),
      args: decide,
      message: /comparison\.json: comparison file has schemaVersion 99; this version of archbench reads schemaVersion 1\b.*\b3/,
    },
    {
      name: 'a truncated comparison',
      setup: () => tmp.write('comparison.json', JSON.stringify(comparisonFixture()).slice(0, 300)),
      args: decide,
      message: /comparison\.json: not valid JSON .*truncated/,
    },
    {
      name: 'a truncated k6 summary',
      setup: () => tmp.write('k6.json', '{"metrics":{"http_req_duration":{"med":1,'),
      args: [...decide, '--k6', 'monolith=k6.json'],
      message: /cannot read .*k6\.json: it is not complete JSON \(truncated/,
    },
    { name: 'a malformed --k6 flag', args: [...decide, '--k6', 'k6.json'], message: /--k6 k6\.json: expected TOPOLOGY=FILE/ },
    {
      name: 'a --k6 flag without its file',
      args: [...decide, '--k6', 'monolith='],
      message: /--k6 monolith=: expected TOPOLOGY=FILE, .*\(topologies: monolith, microservices-http, microservices-amqp, hybrid, serverless\)/,
    },
    {
      name: 'a --k6 topology no option is measured as (a typo)',
      setup: () => tmp.write('k6.json', '{"metrics":{}}'),
      args: [...decide, '--k6', 'microservices=k6.json'],
      message: /--k6 microservices=\S*k6\.json: unknown topology "microservices" \(topologies: monolith, microservices-http, /,
    },
    {
      name: 'a k6 summary given as a comparison',
      setup: () => tmp.write('k6.json', '{"root_group":{},"metrics":{"http_req_duration":{"med":1}}}'),
      args: ['score', '--answers', 'answers.yaml', '--comparison', 'k6.json'],
      message: /k6\.json: a k6 summary, not a comparison file: pass it as --k6 TOPOLOGY=FILE/,
    },
    {
      name: 'a comparison given as the answers',
      args: ['score', '--answers', 'comparison.json'],
      message: /^archbench: \S*comparison\.json: a comparison file \(written by pnpm compare\), not an answers file: pass it as --comparison\n$/,
    },
    { name: 'help on a command that does not exist', args: ['help', 'bogus'], message: /no help for "bogus": not an archbench command/ },
    {
      name: 'diff --model in hex',
      args: ['diff', 'answers.yaml', 'answers.yaml', '--model', '0x3'],
      message: /--model must be one of 1, 2, 3, 4, 5 \(got "0x3"\)/,
    },
    { name: 'an unknown flag', args: [...decide, '--frobnicate'], message: /decide: Unknown option '--frobnicate'/ },
    { name: 'a bad status', args: [...decide, '--status', 'maybe'], message: /--status must be one of proposed, accepted, rejected, deprecated/ },
    { name: 'a negative price', args: [...decide, '--vcpu-hour-eur=-1'], message: /--vcpu-hour-eur must be a number of euros/ },
    { name: 'an unknown scenario', args: [...decide, '--scenario', 'spike'], message: /--scenario spike: not in the evidence \(scenarios: browse, checkout\)/ },
    { name: 'superseding an ADR that does not exist', args: [...decide, '--supersedes', '7'], message: /no ADR "7" in/ },
    { name: 'a decisions --dir that is a file', args: [...decide, '--dir', 'answers.yaml'], message: /--dir answers\.yaml: is a file, not a folder/ },
    { name: 'an unknown command', args: ['decidee'], message: /unknown command "decidee"/ },
    { name: 'score without answers', args: ['score'], message: /score needs --answers FILE/ },
    {
      // Before: accepted, and the answers were saved to a.yaml.
      name: '--save-answers with --no-save-answers',
      args: [...decide, '--save-answers', 'a.yaml', '--no-save-answers'],
      message: /^archbench: --save-answers and --no-save-answers contradict each other: give one of them\n/,
    },
    {
      // Before: accepted silently; "ghost" was shown as evidence and never scored.
      name: 'a comparison whose scenario names a topology it does not list',
      setup: () => {
        const c = comparisonFixture();
        tmp.write('comparison.json', JSON.stringify({ ...c, scenarios: [...c.scenarios, { ...c.scenarios[0]!, topology: 'ghost' }] }));
      },
      args: decide,
      message:
        /^archbench: comparison\.json: scenario browse names a topology \(ghost\) not in its topologies \(monolith, microservices-http\); the file is inconsistent: write it again with `pnpm compare`\n$/,
    },
  ];
  it.each(cases)('$name', async ({ setup, args, message }) => {
    setup?.();
    const before = files();
    const r = await runCli(args, tmp.dir);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/^archbench: /);
    expect(r.code).toBe(2);
    expect(files()).toEqual(before);
  });

  it('--scenario: the README and --help give the same default (all but reads, the read-only run at capacity)', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
    const help = (await runCli(['score', '--help'], tmp.dir)).stdout.replace(/\s+/g, ' ');
    expect(help).toContain('--scenario NAME only these scenarios count as latency evidence (repeatable; default all but reads, the read-only run at capacity)');
    // Before: "(default: all)".
    expect(readme).toContain(
      '`--scenario NAME` — only these scenarios count as latency evidence (repeatable; default: all but `reads`, the read-only run at capacity',
    );
    // And every answer the README's table lists under Load is a load.* field, under Operations an operations.* one.
    const rows = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
      .split('\n')
      .filter((l) => /^\| .*\| `[a-zA-Z.]+`/.test(l));
    let group = '';
    const misplaced: string[] = [];
    for (const row of rows) {
      const [, g, field] = /^\| ([^|]*?)\s*\| `([a-zA-Z.]+)`/.exec(row)!;
      if (g) group = g;
      const prefix = { Load: 'load.', Operations: 'operations.' }[group];
      if (prefix && !field!.startsWith(prefix)) misplaced.push(`${field} under ${group}`);
    }
    expect(misplaced).toEqual([]);
  });

  it('answers-template --out refuses to overwrite', async () => {
    const r = await runCli(['answers-template', '--out', 'answers.yaml'], tmp.dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/answers\.yaml: already exists; refusing to overwrite it/);
    expect(readFileSync(join(tmp.dir, 'answers.yaml'), 'utf8')).toBe(answersTemplate(SMALL_TEAM_MVP));
  });
});

describe('archbench verify', () => {
  it('exits 0 while the recorded criteria hold and 1 listing each failed one when the evidence moves', async () => {
    await runCli(decide, tmp.dir);
    const adr = 'docs/decisions/0001-use-a-modular-monolith-for-the-order-processing-mvp.md';
    const ok = await runCli(['verify', adr, '--comparison', 'comparison.json'], tmp.dir);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/all 8 confirmation criteria hold/);

    tmp.write('newer.json', JSON.stringify(comparisonFixture({ monolithP95: 500, monolithCpuPer1k: 10 })));
    const bad = await runCli(['verify', '1', '--comparison', 'newer.json'], tmp.dir);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/✗ monolith-p95: .* — 500\.0 ms in browse at 80\.0 rps \(max 300\)/);
    expect(bad.stdout).toMatch(/✗ monolith-cpu: .* — 10\.000 CPU s per 1,000 orders \(max 5\)/);
    expect(bad.stdout).toMatch(/✓ monolith-memory/);
    expect(bad.stdout).toMatch(/✗ monolith-p95-measured: .* — 500\.0 ms in browse at 80\.0 rps \(max 67\.5\)/);
    expect(bad.stderr).toContain('3 of 8 confirmation criteria no longer hold: monolith-p95, monolith-p95-measured, monolith-cpu');
  });

  it('catches a 5x latency regression that stays within the budget', async () => {
    await runCli(decide, tmp.dir);
    const slower = comparisonFixture();
    for (const sc of slower.scenarios) for (const k of ['p50', 'p90', 'p95', 'p99', 'max'] as const) sc.latencyMs[k] *= 5;
    tmp.write('slower.json', JSON.stringify(slower));
    const r = await runCli(['verify', '1', '--comparison', 'slower.json'], tmp.dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✓ monolith-p95: .* \(max 300\)/);
    expect(r.stdout).toMatch(/✗ monolith-p95-measured: .* — 225\.0 ms in checkout/);
  });

  it('exits 3 and says so for an ADR decided without evidence for the chosen option', async () => {
    tmp.write('idle.yaml', answersTemplate(IDLE_BURSTY_EVENTS));
    await runCli(['decide', '--answers', 'idle.yaml', '--comparison', 'comparison.json'], tmp.dir);
    const r = await runCli(['verify', '1', '--comparison', 'comparison.json'], tmp.dir);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/was decided without evidence for the chosen option .* nothing to verify/);
    const noFlag = await runCli(['verify', '1'], tmp.dir);
    expect(noFlag.code).toBe(3);
    // Evidence that cannot be read is bad input first, whatever the ADR holds.
    const missing = await runCli(['verify', '1', '--comparison', 'missing.json'], tmp.dir);
    expect([missing.code, missing.stderr]).toEqual([2, expect.stringMatching(/missing\.json/)]);
  });

  it('exits 3 for a hybrid decided without the hybrid measured: the monolith does not stand in for it', async () => {
    tmp.write('fourteen.yaml', answersTemplate(FOURTEEN_TEAMS));
    tmp.write('v2.json', JSON.stringify(comparisonV2Fixture({ topologies: ['monolith', 'microservices-http', 'serverless'] })));
    const d = await runCli(['decide', '--answers', 'fourteen.yaml', '--comparison', 'v2.json'], tmp.dir);
    expect(d.stdout).toMatch(/1 {2}Hybrid +[\d.]+ {2}answers and priors only/);
    const adr = readFileSync(
      join(
        tmp.dir,
        'docs/decisions',
        readdirSync(join(tmp.dir, 'docs/decisions')).find((f) => f.startsWith('0001-') && f.endsWith('.md'))!,
      ),
      'utf8',
    );
    expect(adr).toContain('The chosen option has no measured topology, so there is nothing machine-checkable yet');
    expect(adr).not.toMatch(/no more processes than the 1 measured|monolith-p95/);
    const r = await runCli(['verify', '1', '--comparison', 'v2.json'], tmp.dir);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/decided without evidence for the chosen option .* evidence that measures the chosen option/);
  });

  it('exits 2 for an ADR without a confirmation block or a comparison of the wrong version', async () => {
    await runCli(['adr', 'new', 'Hand written'], tmp.dir);
    const none = await runCli(['verify', '1', '--comparison', 'comparison.json'], tmp.dir);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no archbench confirmation block/);
    await runCli(decide, tmp.dir);
    tmp.write('v99.json', JSON.stringify({ ...comparisonFixture(), schemaVersion: 99 }));
    const wrong = await runCli(['verify', '2', '--comparison', 'v99.json'], tmp.dir);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/schemaVersion 99/);
  });
});

describe('archbench adr', () => {
  it('new, list, status, supersede and index', async () => {
    expect((await runCli(['adr', 'new', 'Use', 'PostgreSQL', '--dir', 'adr'], tmp.dir)).stdout).toBe('Wrote adr/0001-use-postgresql.md (ADR-0001)\n');
    await runCli(['adr', 'new', 'Use SQLite by default', '--dir', 'adr'], tmp.dir);
    expect((await runCli(['adr', 'status', '1', 'accepted', '--dir', 'adr'], tmp.dir)).stdout).toBe('ADR-0001 is now accepted\n');
    expect((await runCli(['adr', 'supersede', '1', '2', '--dir', 'adr'], tmp.dir)).stdout).toBe(
      'ADR-0001 is now superseded by ADR-0002; ADR-0002 links back to it\n',
    );
    const list = await runCli(['adr', 'list', '--dir', 'adr', '--json'], tmp.dir);
    expect(JSON.parse(list.stdout).map((e: { status: string }) => e.status)).toEqual(['superseded by ADR-0002', 'proposed']);
    writeFileSync(join(tmp.dir, 'adr/README.md'), 'stale');
    expect((await runCli(['adr', 'index', '--dir', 'adr'], tmp.dir)).stdout).toBe('Wrote adr/README.md\n');
    expect(readFileSync(join(tmp.dir, 'adr/README.md'), 'utf8')).toContain('| [0002](0002-use-sqlite-by-default.md) | Use SQLite by default | proposed |');
    const bad = await runCli(['adr', 'status', '2', 'superseded', '--dir', 'adr'], tmp.dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/use `archbench adr supersede OLD NEW`/);
  });
});

describe('help', () => {
  it.each(['decide', 'score', 'verify', 'report', 'answers-template', 'adr', 'diff'])('%s --help shows usage and examples', async (command) => {
    const r = await runCli([command, '--help'], tmp.dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: archbench ${command}`));
    expect(r.stdout).toMatch(/Examples:\n {2}archbench /);
    expect(r.stdout).not.toContain('@EVIDENCE@');
  });

  it.each([
    ['report', ['--answers', '--out', '--title']],
    ['adr', ['--dir', '--status', '--decision-makers', '--consulted', '--informed', '--date', '--json']],
  ])('%s --help lists every flag it accepts under Options', async (command, flags) => {
    const r = await runCli([command, '--help'], tmp.dir);
    const options = r.stdout.split('\nOptions:\n')[1]?.split('\n\n')[0] ?? '';
    for (const flag of flags) expect(options, flag).toContain(flag);
  });

  it.each([
    [[...decide, '--scenario', 'bogus'], 'decide'],
    [[...decide, '--date', '2026-02-30'], 'decide'],
    [['score', '--answers', 'answers.yaml', '--date', 'x'], 'score'],
    [['--answers', 'answers.yaml', '--date', 'x'], 'decide'],
  ])('a bad flag of %j points at the help of the command that has it', async (args, command) => {
    const r = await runCli(args, tmp.dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`\\nRun \`archbench ${command} --help\` for usage\\.\\n$`));
  });

  it('an unknown command points at the command list', async () => {
    const r = await runCli(['main'], tmp.dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('archbench: unknown command "main"\nRun `archbench --help` for usage.\n');
  });
});

describe('adr subcommands take only the flags they use', () => {
  it.each([
    ['list', '--status', 'accepted'],
    ['list', '--date', '2025-01-01'],
    ['index', '--json', ''],
    ['status', '--consulted', 'Ops'],
    ['supersede', '--status', 'accepted'],
  ])('adr %s %s is refused (exit 2, nothing written)', async (sub, flag, value) => {
    const before = files();
    const r = await runCli(['adr', sub, flag, ...(value ? [value] : [])], tmp.dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`archbench: adr ${sub}: Unknown option '${flag}'`);
    expect(files()).toEqual(before);
  });

  it.each(['bogus', 'constructor', 'toString', '__proto__'])('adr %s is an unknown subcommand (exit 2), not a crash', async (sub) => {
    const r = await runCli(['adr', sub], tmp.dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`unknown adr subcommand "${sub}"`);
  });

  it('and still accept the ones they do use', async () => {
    expect((await runCli(['adr', 'new', 'X', '--status', 'accepted', '--consulted', 'Ops', '--informed', 'All', '--date', '2025-01-02'], tmp.dir)).code).toBe(
      0,
    );
    expect((await runCli(['adr', 'list', '--json'], tmp.dir)).code).toBe(0);
    expect((await runCli(['adr', 'status', '1', 'deprecated', '--date', '2025-01-03'], tmp.dir)).code).toBe(0);
    expect((await runCli(['adr', 'index', '--dir', 'docs/decisions'], tmp.dir)).code).toBe(0);
  });
});

describe('score and report', () => {
  it('score --json is machine-readable', async () => {
    const r = await runCli(['score', '--answers', 'answers.yaml', '--comparison', 'comparison.json', '--json'], tmp.dir);
    const json = JSON.parse(r.stdout);
    expect(json.recommendation).toBe('modular-monolith');
    expect(json.ranking).toHaveLength(4);
    expect(json.criteria[0].fits['modular-monolith']).toMatchObject({ fit: 5, source: 'answers' });
    expect(json.sensitivity.margin).toBeCloseTo(json.margin, 9);
  });

  it('score --json says a fault never recovered (recovered: false) where the seconds cannot be a number', async () => {
    const comparison = comparisonV2Fixture();
    const crash = comparison.faults!.find((f) => f.topology === 'monolith')!;
    Object.assign(crash, { recovered: false, recoverySeconds: 30 });
    tmp.write('v2.json', JSON.stringify(comparison));
    const r = await runCli(['score', '--answers', 'answers.yaml', '--comparison', 'v2.json', '--json'], tmp.dir);
    expect(r.code, r.stderr).toBe(0);
    const monolith = JSON.parse(r.stdout).assessments.find((t: { topology: string }) => t.topology === 'monolith');
    expect(monolith.faults.slowestRecovery).toEqual({ value: null, fault: 'dependency-crash', recovered: false });
    const hybrid = JSON.parse(r.stdout).assessments.find((t: { topology: string }) => t.topology === 'hybrid');
    expect(hybrid.faults.slowestRecovery).toMatchObject({ value: expect.any(Number), recovered: true });
  });

  it('score (model v2) never prints the € per 1,000 orders of model v1: without a monthly cost, the reason', async () => {
    tmp.write('unknown-burst.yaml', answersTemplate(withAnswer(SMALL_TEAM_MVP, 'load.burstiness', 'unknown')));
    const r = await runCli(['score', '--answers', 'unknown-burst.yaml', '--comparison', 'comparison.json'], tmp.dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('€');
    expect(r.stdout).toMatch(/ {2}monolith: latency meets — .*; cost: load\.burstiness unknown, so the monthly cost cannot be estimated; 1 process/);
  });

  it("score says which of a local serverless run's figures do not count (model v3)", async () => {
    tmp.write('idle.yaml', answersTemplate(IDLE_BURSTY_EVENTS));
    tmp.write('v2.json', JSON.stringify(comparisonV2Fixture()));
    const r = await runCli(['score', '--answers', 'idle.yaml', '--comparison', 'v2.json'], tmp.dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      / {2}serverless: latency not counted — latency measured only on a local emulator .*; faults: worst browse availability not counted \(local emulator\), slowest recovery not counted \(local emulator\)/,
    );
    expect(r.stdout).toMatch(
      /Note: serverless was measured on a local emulator .*: model v5 does not count the emulator's figures for its p95 latency, failure isolation and recovery/,
    );
  });

  it('says that the model v1 prices are ignored by model v3, and reads a comparison given twice once', async () => {
    const r = await runCli(
      ['score', '--answers', 'answers.yaml', '--comparison', 'comparison.json', '--comparison', './comparison.json', '--vcpu-hour-eur', '0.05'],
      tmp.dir,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(
      "archbench: --vcpu-hour-eur prices only model v1's cost per 1,000 orders, so model v5 ignores it; use --price ID=VALUE (or diff --model 1)\n",
    );
    const dry = await runCli(
      ['decide', '--answers', 'answers.yaml', '--comparison', 'comparison.json', '--comparison', './comparison.json', '--dry-run'],
      tmp.dir,
    );
    expect(dry.stdout.match(/^\| `monolith` \| browse \|/gm)).toHaveLength(1);
    const v1 = await runCli(['diff', 'answers.yaml', 'answers.yaml', '--comparison', 'comparison.json', '--model', '1', '--vcpu-hour-eur', '0.05'], tmp.dir);
    expect([v1.code, v1.stderr]).toEqual([0, '']);
  });

  it('several --comparison files: the same result in any order, a warning for a topology measured twice, exit 2 for two machines', async () => {
    tmp.write('may-1.json', JSON.stringify({ ...comparisonV2Fixture({ topologies: ['monolith', 'hybrid'] }), startedAt: '2025-05-01T10:00:00.000Z' }));
    const may2 = comparisonV2Fixture({ topologies: ['monolith'], p95: { monolith: 140 } });
    tmp.write(
      'may-2.json',
      JSON.stringify({ ...may2, startedAt: '2025-05-02T10:00:00.000Z', topologies: may2.topologies.map((t) => ({ ...t, processCount: 3 })) }),
    );
    const scoreWith = (...paths: string[]) => runCli(['score', '--answers', 'answers.yaml', ...paths.flatMap((p) => ['--comparison', p]), '--json'], tmp.dir);
    const [ab, ba] = await Promise.all([scoreWith('may-1.json', 'may-2.json'), scoreWith('may-2.json', 'may-1.json')]);
    expect([ab.code, ba.code]).toEqual([0, 0]);
    // Before: the first file's processes (1 or 3) and cost, both files' scenarios.
    expect(ba.stdout).toBe(ab.stdout);
    const monolith = JSON.parse(ab.stdout).assessments.find((a: { topology: string }) => a.topology === 'monolith');
    expect(monolith.processCount).toBe(3);
    expect(ab.stderr).toBe(
      'archbench: warning: monolith is a local run in 2 comparison files: using may-2.json (the latest run, started 2025-05-02T10:00:00.000Z); left out: may-1.json\n',
    );
    tmp.write('laptop.json', JSON.stringify({ ...comparisonV2Fixture({ topologies: ['serverless'] }), profile: 'standard' }));
    const mixed = await scoreWith('may-1.json', 'laptop.json');
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/^archbench: --comparison laptop\.json and may-1\.json were not measured alike \(profile standard vs quick\)/);
  });

  it('a comparison written before schema version 3: converted, with a warning on stderr and a note in the ADR and the report', async () => {
    // A version 2 file as compare wrote it before 5 December 2026: its checkout counted every request, 2 % of them failed.
    const old = comparisonV2Fixture({ topologies: ['monolith'] });
    const checkout = old.scenarios.find((s) => s.scenario === 'checkout')!;
    const failed = { ...checkout, errorRate: 0.02, throughputRps: checkout.requests / checkout.durationSeconds, roundThroughputRps: undefined };
    tmp.write('v2.json', JSON.stringify({ ...old, schemaVersion: 2, scenarios: old.scenarios.map((s) => (s === checkout ? failed : s)) }));
    const r = await runCli(['decide', '--answers', 'answers.yaml', '--comparison', 'v2.json', '--html', 'r.html'], tmp.dir);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^archbench: warning: v2\.json: .*REJECTED as placed orders/m);
    const adr = readFileSync(
      join(
        tmp.dir,
        'docs/decisions',
        readdirSync(join(tmp.dir, 'docs/decisions')).find((f) => /^0001-.*\.md$/.test(f))!,
      ),
      'utf8',
    );
    expect(adr).toMatch(
      /\* comparison `v2\.json`: profile quick, .*\. Written with schema version 2 and read with version 3's meanings: .*REJECTED as placed orders/,
    );
    expect(readFileSync(join(tmp.dir, 'r.html'), 'utf8')).toContain('Written with schema version 2 and read with version 3&#39;s meanings');
    // score says so too.
    const json = await runCli(['score', '--answers', 'answers.yaml', '--comparison', 'v2.json', '--json'], tmp.dir);
    expect(json.stderr).toMatch(/warning: v2\.json: /);
  });

  it('--k6: a summary of load/k6 names its scenario and load model; one without the block is read as before, with a warning', async () => {
    const summary = JSON.parse(readFileSync(new URL('../../../load/test/fixtures/k6-handle-summary.json', import.meta.url), 'utf8'));
    tmp.write('k6.json', JSON.stringify(summary));
    const { archbench: _, ...bare } = summary;
    tmp.write('bare.json', JSON.stringify(bare));
    const scoreWith = (spec: string) => runCli(['score', '--answers', 'answers.yaml', '--k6', spec, '--json'], tmp.dir);
    const withBlock = await scoreWith('monolith=k6.json');
    expect(withBlock.code).toBe(0);
    expect(withBlock.stderr).toBe('');
    const monolith = (r: { stdout: string }) => JSON.parse(r.stdout).assessments.find((a: { topology: string }) => a.topology === 'monolith');
    expect(monolith(withBlock).latency.scenario).toBe(summary.archbench.scenario);
    const without = await scoreWith('monolith=bare.json');
    expect(without.code).toBe(0);
    expect(without.stderr).toBe(
      'archbench: warning: bare.json: no "archbench" block (a summary not written by load/k6\'s handleSummary, or by an older one), so its load model is unknown: a closed-model run (constant VUs, e.g. checkout or reads) is judged as if it ran at the expected rate, and the scenario is named "k6" (name it with --k6 TOPOLOGY=FILE:SCENARIO)\n',
    );
    expect(monolith(without).latency.scenario).toBe('k6');
    // A reads run counts only when --scenario names it: said, not silently "not measured".
    tmp.write('reads.json', JSON.stringify({ ...summary, archbench: { ...summary.archbench, scenario: 'reads' } }));
    const reads = await scoreWith('monolith=reads.json');
    expect(reads.stderr).toContain(
      'archbench: warning: reads.json: a reads run (reads only, as fast as the topology serves them) counts as latency evidence only with --scenario reads\n',
    );
    const named = await runCli(['score', '--answers', 'answers.yaml', '--k6', 'monolith=reads.json', '--scenario', 'reads', '--json'], tmp.dir);
    expect(named.stderr).toBe('');
    // verify counts what its ADR's Confirmation names and takes no --scenario: it says nothing of it.
    await runCli(['decide', '--answers', 'answers.yaml', '--k6', 'monolith=reads.json', '--scenario', 'reads'], tmp.dir);
    const verified = await runCli(['verify', '1', '--k6', 'monolith=reads.json'], tmp.dir);
    expect(verified.stderr).not.toMatch(/--scenario reads/);
    // A comparison of the embedded engine beside a k6 summary: said.
    const mixed = await runCli(['score', '--answers', 'answers.yaml', '--comparison', 'comparison.json', '--k6', 'hybrid=k6.json', '--json'], tmp.dir);
    expect(mixed.code).toBe(0);
    expect(mixed.stderr).toMatch(
      /^archbench: warning: the evidence mixes load generators \(embedded: comparison\.json; k6: k6\.json\): k6 times a request from its send/m,
    );
  });

  it('report writes one HTML file', async () => {
    const r = await runCli(['report', '--answers', 'answers.yaml', '--comparison', 'comparison.json', '--out', 'r.html'], tmp.dir);
    expect(r.code).toBe(0);
    expect(existsSync(join(tmp.dir, 'r.html'))).toBe(true);
  });
});

describe('the real bin in a child process', () => {
  it('exits 0 / 2 / 1 like main', async () => {
    const ok = await spawnCli(decide, tmp.dir);
    expect(ok.code).toBe(0);
    tmp.write('bad.yaml', 'version: 1\nteam: {teams: 0}\n');
    const bad = await spawnCli(['score', '--answers', 'bad.yaml'], tmp.dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/team\.teams: must be a whole number >= 1/);
    tmp.write('newer.json', JSON.stringify(comparisonFixture({ monolithP95: 900 })));
    const failed = await spawnCli(['verify', '1', '--comparison', 'newer.json'], tmp.dir);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/✗ monolith-p95/);
  }, 60_000);

  it('a reader that goes away (`| head`) ends the output quietly: no EPIPE stack trace, and the files are still written', async () => {
    const r = await spawnCli(decide, tmp.dir, { closeStdout: true });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(files()).toContain(join('docs', 'decisions', '0001-use-a-modular-monolith-for-the-order-processing-mvp.md'));
  }, 60_000);
});
