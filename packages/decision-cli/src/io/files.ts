import { readFileSync } from 'node:fs';
import { ComparisonFormatError, parseComparison, READS_AT_CAPACITY_SCENARIO, TopologyName } from '@archbench/contracts/comparison';
import { FileExistsError, writeFileAtomic as writeAtomic } from '@archbench/contracts/files';
import YAML from 'yaml';
import { parseAnswers, type Answers } from '../core/answers';
import { ConflictError, InputError } from '../core/errors';
import { addScenarios, combineEvidence, evidenceFromComparison, type Evidence } from '../core/evidence';
import { readK6Evidence } from '../core/k6';

/**
 * Writes a file atomically (`@archbench/contracts/files`); with `exclusive`, an existing target
 * is a ConflictError (exit code of a conflict, not a crash).
 * @example writeFileAtomic('docs/decisions/0001-x.md', text, { exclusive: true })
 */
export function writeFileAtomic(path: string, content: string, options: { exclusive?: boolean } = {}): void {
  try {
    writeAtomic(path, content, options);
  } catch (error) {
    if (error instanceof FileExistsError) throw new ConflictError(error.message);
    throw error;
  }
}

/** Reads a text file; a missing or unreadable file is an InputError naming it. */
export function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? `${what} ${path} does not exist` : `cannot read ${what} ${path}: ${(error as Error).message}`);
  }
}

/**
 * Reads and validates an answers file (YAML or JSON, by content).
 * @example const answers = readAnswersFile('answers.yaml');
 */
export function readAnswersFile(path: string): Answers {
  const text = readText(path, 'answers file');
  let data: unknown;
  try {
    data = YAML.parse(text, { prettyErrors: true });
  } catch (error) {
    throw new InputError(`${path}: not valid YAML or JSON: ${(error as Error).message.split('\n')[0]}`);
  }
  return parseAnswers(data, path);
}

/** Reads and validates a comparison.json written by `pnpm compare`. */
function readComparisonFile(path: string): Evidence {
  const text = readText(path, 'comparison file');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${path}: not valid JSON (${(error as Error).message}); is the file truncated?`);
  }
  try {
    const comparison = parseComparison(data);
    // compare writes a topology entry for every topology it ran: a scenario or fault of another
    // would be shown and never scored (no option is measured as it), so the file is inconsistent.
    const names = new Set(comparison.topologies.map((t) => t.name));
    const stray = [
      ...comparison.scenarios.filter((s) => !names.has(s.topology)).map((s) => `scenario ${s.scenario}`),
      ...(comparison.faults ?? []).filter((f) => !names.has(f.topology)).map((f) => `fault ${f.fault}`),
    ];
    const strayTopologies = [...new Set([...comparison.scenarios, ...(comparison.faults ?? [])].map((x) => x.topology).filter((name) => !names.has(name)))];
    if (stray.length)
      throw new InputError(
        `${path}: ${stray.join(', ')} ${stray.length === 1 ? 'names a topology' : 'name topologies'} (${strayTopologies.join(', ')}) not in its topologies (${[...names].join(', ') || 'none'}); the file is inconsistent: write it again with \`pnpm compare\``,
      );
    return evidenceFromComparison(comparison, path);
  } catch (error) {
    if (error instanceof ComparisonFormatError) {
      // k6's --summary-export / handleSummary JSON has `metrics` (and `root_group`), a comparison `schemaVersion`.
      const k6 = typeof data === 'object' && data !== null && 'metrics' in data && !('schemaVersion' in data);
      throw new InputError(`${path}: ${k6 ? 'a k6 summary, not a comparison file: pass it as --k6 TOPOLOGY=FILE' : error.message}`);
    }
    throw error;
  }
}

/**
 * The parts of a `--k6 TOPOLOGY=FILE[:SCENARIO]` spec, as given (no checks).
 * @example k6Spec('monolith=k6.json:browse') // { topology: 'monolith', file: 'k6.json', scenario: 'browse' }
 */
export function k6Spec(spec: string): { topology: string; file: string; scenario: string | undefined } {
  const eq = spec.indexOf('=');
  const [file, scenario] = /^(.*?)(?::([A-Za-z0-9_-]+))?$/.exec(eq < 0 ? '' : spec.slice(eq + 1))!.slice(1) as [string, string | undefined];
  return { topology: eq < 0 ? '' : spec.slice(0, eq), file, scenario };
}

/**
 * Reads comparison files (combined by combineEvidence: the same result in any order, one machine
 * and profile, the latest run of a topology measured twice, with a warning) and `--k6
 * TOPOLOGY=FILE[:SCENARIO]` summaries. `scenarioFilter`: the `--scenario` names (empty: the
 * default), for a warning when a k6 summary's reads run will not count; absent: no such warning.
 * @example loadEvidence(['results/comparison.json'], ['monolith=summary.json']).evidence
 */
export function loadEvidence(
  comparisons: readonly string[],
  k6Specs: readonly string[],
  scenarioFilter?: readonly string[],
): { evidence: Evidence; warnings: string[] } {
  const combined = combineEvidence(comparisons.map(readComparisonFile));
  let evidence = combined.evidence;
  const k6Warnings: string[] = [];
  for (const spec of k6Specs) {
    const { topology, file, scenario } = k6Spec(spec);
    const topologies = TopologyName.options.join(', ');
    if (!topology || !file)
      throw new InputError(`--k6 ${spec}: expected TOPOLOGY=FILE, e.g. --k6 monolith=results/k6-monolith.json (topologies: ${topologies})`);
    // A topology no option is measured as would be shown and never scored: say so instead.
    if (!(TopologyName.options as readonly string[]).includes(topology))
      throw new InputError(`--k6 ${spec}: unknown topology ${JSON.stringify(topology)} (topologies: ${topologies})`);
    const read = readK6Evidence(readText(file, 'k6 summary'), file, scenario);
    k6Warnings.push(...read.warnings);
    // The reads run counts as latency evidence only when --scenario names it (latencyScenarios);
    // no filter given (verify: its ADR names the scenarios that count), nothing to say.
    if (read.evidence.scenario === READS_AT_CAPACITY_SCENARIO && scenarioFilter && !scenarioFilter.includes(READS_AT_CAPACITY_SCENARIO))
      k6Warnings.push(
        `${file}: a ${READS_AT_CAPACITY_SCENARIO} run (reads only, as fast as the topology serves them) counts as latency evidence only with --scenario ${READS_AT_CAPACITY_SCENARIO}`,
      );
    const scenarioEvidence = read.evidence;
    evidence = addScenarios(evidence, topology, [scenarioEvidence], {
      kind: 'k6',
      path: file,
      description: `${topology}, scenario ${scenarioEvidence.scenario}`,
    });
  }
  // A file written before schema version 3 was read with its meanings; what that could not
  // correct is said once per file.
  const converted = evidence.sources.flatMap((s) => (s.convertedFrom?.warnings ?? []).map((w) => `${s.path}: ${w}`));
  return { evidence, warnings: [...converted, ...combined.warnings, ...k6Warnings, ...mixedEngines(evidence)] };
}

/**
 * A warning when the evidence comes from more than one load generator (a comparison's engine, or
 * k6 for a --k6 summary): k6 times a request from its send, the embedded engine an open-model one
 * from its scheduled time, so options may be judged on different terms. Local runs of different
 * engines are refused by combineEvidence; this covers --k6 summaries and deployments.
 */
function mixedEngines(evidence: Evidence): string[] {
  const byEngine = new Map<string, string[]>();
  for (const source of evidence.sources) {
    const engine = source.kind === 'k6' ? 'k6' : source.engine;
    if (engine) byEngine.set(engine, [...(byEngine.get(engine) ?? []), source.path]);
  }
  if (byEngine.size < 2) return [];
  const list = [...byEngine].map(([engine, paths]) => `${engine}: ${paths.join(', ')}`).join('; ');
  return [
    `the evidence mixes load generators (${list}): k6 times a request from its send, the embedded engine an open-model request from its scheduled time, so options measured by different ones are judged on different latency terms`,
  ];
}
