import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { USAGE } from '../src/compare/args';
import { DEFAULT_PRICES } from '../src/cost/prices';
import { LOAD_DIR } from './cli-kit';

// --help and the READMEs say what the code does.
const loadReadme = readFileSync(join(LOAD_DIR, 'README.md'), 'utf8');
const rootReadme = readFileSync(join(LOAD_DIR, '..', 'README.md'), 'utf8');
const rootScripts = (JSON.parse(readFileSync(join(LOAD_DIR, '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

describe('pnpm compare: help and README', () => {
  it("lists every price id of the cost model in load/README.md's price table, where --help sends the user", () => {
    expect(USAGE).toContain('ids in load/README.md');
    const table = loadReadme.slice(loadReadme.indexOf('Default prices'));
    for (const { id } of DEFAULT_PRICES) expect(table, id).toContain(`\`${id}\``);
  });

  it('documents --engine auto, the default, in --help and the README', () => {
    expect(USAGE).toContain('--engine k6|embedded|auto        load engine (default auto: k6 when on PATH, else embedded)');
    expect(loadReadme).toContain('`--engine k6\\|embedded\\|auto`');
    expect(loadReadme).toMatch(/`auto` \(the default\): k6 when `k6` is on PATH, else embedded/);
  });

  it('says in the root README what pnpm test runs', () => {
    expect(rootReadme).toContain(`\`pnpm test\` = \`${rootScripts.test}\``);
  });
});

describe('k6 scripts: README', () => {
  it('names every environment variable the scripts read in its "Script environment" list', () => {
    const k6Dir = join(LOAD_DIR, 'k6');
    const read = new Set(readdirSync(k6Dir).flatMap((f) => [...readFileSync(join(k6Dir, f), 'utf8').matchAll(/__ENV\.([A-Z0-9_]+)/g)].map((m) => m[1]!)));
    expect(read).toContain('SCENARIO'); // k6/archbench.ts, the script compare runs
    const list = loadReadme.slice(loadReadme.indexOf('Script environment:'), loadReadme.indexOf('Type-checked with `@types/k6`'));
    for (const name of read) expect(list, name).toContain(`\`${name}\``);
  });
});

describe('fault experiments: README', () => {
  it('explains every field of a fault result in the "field of `faults[]`" table', () => {
    const fixture = JSON.parse(readFileSync(join(LOAD_DIR, 'test/fixtures/comparison-v2-quick-faults.json'), 'utf8')) as { faults: Record<string, unknown>[] };
    const start = loadReadme.indexOf('| field of `faults[]`');
    const table = loadReadme.slice(start, loadReadme.indexOf('\n\n', start));
    for (const key of Object.keys(fixture.faults[0]!)) expect(table, key).toMatch(new RegExp(`^\\| [^|]*\`${key}\``, 'm'));
    expect(table).toContain('`confirmed` can exceed `accepted`');
  });
});
