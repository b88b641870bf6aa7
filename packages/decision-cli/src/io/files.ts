import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ComparisonFormatError, parseComparison } from '@archbench/contracts/comparison';
import YAML from 'yaml';
import { parseAnswers, type Answers } from '../core/answers';
import { ConflictError, InputError } from '../core/errors';
import { addScenarios, evidenceFromComparison, mergeEvidence, NO_EVIDENCE, type Evidence } from '../core/evidence';
import { parseK6Summary } from '../core/k6';

function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

function writeTemp(path: string, content: string): string {
  mkdirSync(dirname(path), { recursive: true });
  const temp = tempPathFor(path);
  const fd = openSync(temp, 'wx');
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return temp;
}

/**
 * Writes a file atomically (temp file + rename), so readers never see half a file.
 * With `exclusive`, refuses to replace an existing file (ConflictError) — link(2) fails
 * atomically when the target exists, so two writers cannot both win.
 * @example writeFileAtomic('docs/decisions/0001-x.md', text, { exclusive: true })
 */
export function writeFileAtomic(path: string, content: string, options: { exclusive?: boolean } = {}): void {
  const temp = writeTemp(path, content);
  try {
    if (options.exclusive) {
      try {
        linkSync(temp, path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new ConflictError(`${path} already exists; refusing to overwrite it`);
        throw error;
      }
      unlinkSync(temp);
    } else {
      renameSync(temp, path);
    }
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // already gone (renamed or linked and removed)
    }
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
export function readComparisonFile(path: string): Evidence {
  const text = readText(path, 'comparison file');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${path}: not valid JSON (${(error as Error).message}); is the file truncated?`);
  }
  try {
    return evidenceFromComparison(parseComparison(data), path);
  } catch (error) {
    if (error instanceof ComparisonFormatError) throw new InputError(`${path}: ${error.message}`);
    throw error;
  }
}

const TOPOLOGY = /^[a-z0-9][a-z0-9-]*$/;

/**
 * Reads `--k6 TOPOLOGY=FILE[:SCENARIO]` summaries and merges them with comparison files.
 * @example loadEvidence(['results/comparison.json'], ['monolith=summary.json'])
 */
export function loadEvidence(comparisons: readonly string[], k6Specs: readonly string[]): Evidence {
  let evidence = NO_EVIDENCE;
  for (const path of comparisons) evidence = mergeEvidence(evidence, readComparisonFile(path));
  for (const spec of k6Specs) {
    const eq = spec.indexOf('=');
    const topology = spec.slice(0, eq);
    if (eq <= 0 || !TOPOLOGY.test(topology)) {
      throw new InputError(`--k6 ${spec}: expected TOPOLOGY=FILE, e.g. --k6 monolith=results/k6-monolith.json (topologies: monolith, microservices-http, microservices-amqp)`);
    }
    const rest = spec.slice(eq + 1);
    const [file, scenario] = /^(.*?)(?::([A-Za-z0-9_-]+))?$/.exec(rest)!.slice(1) as [string, string | undefined];
    const scenarioEvidence = parseK6Summary(readText(file, 'k6 summary'), file, scenario ?? 'k6');
    evidence = addScenarios(evidence, topology, [scenarioEvidence], { kind: 'k6', path: file, description: `${topology}, scenario ${scenarioEvidence.scenario}` });
  }
  return evidence;
}
