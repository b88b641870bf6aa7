import { existsSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import pkg from '../../package.json' with { type: 'json' };
import { ADR_STATUSES, decisionTitle, pad, renderDecisionAdr, renderIndex, renderTemplateAdr } from '../core/adr';
import { buildConfirmation, checkConfirmation, extractConfirmation } from '../core/confirmation';
import { exitCodeOf, InputError, UsageError, VerificationFailedError } from '../core/errors';
import { DEFAULT_PRICES, PriceError, withOverrides } from '@archbench/contracts/cost';
import { latencyVerdict, usd, type Evidence, type PriceItem, type Prices } from '../core/evidence';
import { CURRENT_MODEL, modelVersion, MODEL_VERSIONS, optionTitle, OPTION_IDS, type Model } from '../core/model';
import { eur } from '../core/markdown';
import { renderHtmlReport } from '../core/report-html';
import { score, type ScoreResult } from '../core/scoring';
import { analyseSensitivity, assessConfidence, describeConfidence, describeFlip, type Confidence, type Sensitivity } from '../core/sensitivity';
import { diffDecisions, renderDiff } from '../core/diff';
import { answersFromAdr } from '../core/adr';
import { answersTemplate } from '../core/template';
import { parseAnswers, type Answers } from '../core/answers';
import { AdrLog } from '../io/adr-log';
import { k6Spec, loadEvidence, readAnswersFile, readText, writeFileAtomic } from '../io/files';
import { checkOutputDir, checkOutputFile, OutputBatch } from '../io/outputs';
import { runQuestionnaire } from '../io/questionnaire';
import { hasHelp, helpFor } from './help';

/** Where the CLI reads and writes; tests pass their own. */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  cwd: string;
  /** Today, for ADR dates. */
  now: () => Date;
  /** Whether stdin is a terminal; the questionnaire needs one unless --interactive forces it. */
  interactive?: boolean;
}

/** `verify` of an ADR decided without evidence: nothing machine-checkable was recorded. */
export const EXIT_NO_EVIDENCE = 3;

const GENERATOR = `${pkg.name} ${pkg.version}`;
const model = CURRENT_MODEL;

type Options = NonNullable<ParseArgsConfig['options']>;

const EVIDENCE_OPTIONS: Options = {
  comparison: { type: 'string', multiple: true },
  k6: { type: 'string', multiple: true },
  scenario: { type: 'string', multiple: true },
  'vcpu-hour-eur': { type: 'string' },
  'gb-hour-eur': { type: 'string' },
  price: { type: 'string', multiple: true },
};

function parse(command: string, args: string[], options: Options, allowPositionals = false): { values: Record<string, unknown>; positionals: string[] } {
  try {
    const parsed = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
    return { values: parsed.values as Record<string, unknown>, positionals: parsed.positionals };
  } catch (error) {
    throw new UsageError(`${command}: ${(error as Error).message.replace(/\. To specify a positional.*$/s, '')}`, command);
  }
}

function price(value: unknown, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new UsageError(`--${flag} must be a number of euros, at least 0 (got ${JSON.stringify(value)})`);
  return n;
}

/** `--price ID=VALUE` overrides of the shared price list (the same flag as `pnpm compare`). */
function priceOverrides(value: unknown): PriceItem[] | undefined {
  const raw = value as string[] | undefined;
  if (!raw?.length) return undefined;
  try {
    return withOverrides(DEFAULT_PRICES, raw);
  } catch (error) {
    if (error instanceof PriceError) throw new UsageError(error.message);
    throw error;
  }
}

function list(value: unknown): string[] | undefined {
  if (typeof value !== 'string') return undefined;
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return items.length ? items : undefined;
}

function isoDate(value: unknown, io: CliIo): string {
  if (value === undefined) return io.now().toISOString().slice(0, 10);
  const m = typeof value === 'string' ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(value) : null;
  // Date.parse rolls 2026-02-30 over to March; a real date survives the round trip unchanged.
  const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
  if (!m || !d || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== value)
    throw new UsageError(`--date must be a real date as YYYY-MM-DD (got ${JSON.stringify(value)})`);
  return String(value);
}

interface Inputs {
  evidence: Evidence;
  prices: Prices;
  scenarios: string[] | undefined;
}

/**
 * The evidence, prices and scenarios a command was given. `scored`: false for verify, which
 * counts the scenarios its ADR's Confirmation names, not `--scenario` (so no word on which count).
 */
function evidenceInputs(values: Record<string, unknown>, io: CliIo, scored = true): Inputs {
  const abs = (p: string) => resolve(io.cwd, p);
  // The same file twice would list every row twice and count nothing more.
  const comparisons = [...new Set(((values.comparison as string[] | undefined) ?? []).map(abs))];
  const k6 = ((values.k6 as string[] | undefined) ?? []).map((spec) => {
    const eq = spec.indexOf('=');
    return eq > 0 && spec.length > eq + 1 ? `${spec.slice(0, eq)}=${abs(spec.slice(eq + 1))}` : spec;
  });
  const prices = {
    vcpuHourEur: price(values['vcpu-hour-eur'], 'vcpu-hour-eur', model.cost.vcpuHourEur),
    gbHourEur: price(values['gb-hour-eur'], 'gb-hour-eur', model.cost.gbHourEur),
    list: priceOverrides(values.price),
  };
  // Show paths relative to where the user ran the command.
  const display = (p: string) => (isAbsolute(p) ? relative(io.cwd, p) || p : p);
  const paths = [...comparisons, ...k6.map((spec) => k6Spec(spec).file).filter(isAbsolute)];
  const shorten = (text: string) => paths.reduce((t, path) => t.split(path).join(display(path)), text);
  let loaded: ReturnType<typeof loadEvidence>;
  try {
    loaded = loadEvidence(comparisons, k6, scored ? ((values.scenario as string[] | undefined) ?? []) : undefined);
  } catch (error) {
    throw error instanceof InputError ? new InputError(shorten(error.message)) : error;
  }
  const { evidence, warnings } = loaded;
  warn(io, warnings.map(shorten));
  const shown: Evidence = { ...evidence, sources: evidence.sources.map((s) => ({ ...s, path: display(s.path) })) };
  const scenarios = values.scenario as string[] | undefined;
  if (scenarios?.length) {
    const known = new Set(evidence.topologies.flatMap((t) => t.scenarios.map((s) => s.scenario)));
    const unknown = scenarios.filter((s) => !known.has(s));
    if (unknown.length) throw new UsageError(`--scenario ${unknown.join(', ')}: not in the evidence (scenarios: ${[...known].join(', ') || 'none'})`);
  }
  return { evidence: shown, prices, scenarios };
}

/** The files a command reads (answers, comparisons, k6 summaries), by absolute path, with what each is. */
function inputFiles(values: Record<string, unknown>, io: CliIo): Map<string, string> {
  const files = new Map<string, string>();
  if (typeof values.answers === 'string') files.set(resolve(io.cwd, values.answers), `the answers file ${values.answers}`);
  for (const c of (values.comparison as string[] | undefined) ?? []) files.set(resolve(io.cwd, c), `the evidence file ${c}`);
  for (const spec of (values.k6 as string[] | undefined) ?? []) {
    const { topology, file } = k6Spec(spec);
    if (topology && file) files.set(resolve(io.cwd, file), `the k6 summary ${file}`);
  }
  return files;
}

/**
 * Refuses (exit 2, before anything is written) an output that would replace a file the command
 * reads or writes otherwise, or another output: an HTML report over ADR-0001, or over its evidence.
 */
function refuseOverwriting(outputs: ReadonlyArray<readonly [string | undefined, string]>, taken: Map<string, string>): void {
  const seen = new Map(taken);
  for (const [path, shown] of outputs) {
    if (!path) continue;
    const other = seen.get(path);
    if (other) throw new InputError(`${shown}: that is ${other}; refusing to overwrite it, choose another file`);
    seen.set(path, `the file given as ${shown}`);
  }
}

function requireAnswers(values: Record<string, unknown>, command: string, io: CliIo): { answers: Answers; source: string } {
  if (typeof values.answers !== 'string')
    throw new UsageError(`${command} needs --answers FILE (start one with \`archbench answers-template --out answers.yaml\`)`, command);
  return { answers: readAnswersFile(resolve(io.cwd, values.answers)), source: values.answers };
}

interface Evaluation {
  result: ScoreResult;
  sensitivity: Sensitivity;
  confidence: Confidence;
}

/** `--vcpu-hour-eur` and `--gb-hour-eur` price only model v1's cost per 1,000 orders: say so rather than ignore them. */
function warnUnusedPrices(values: Record<string, unknown>, withModel: Model, io: CliIo): void {
  const given = ['vcpu-hour-eur', 'gb-hour-eur'].filter((f) => values[f] !== undefined);
  if (given.length && withModel.cost.monthly)
    io.stderr.write(
      `archbench: ${given.map((f) => `--${f}`).join(' and ')} ${given.length === 1 ? 'prices' : 'price'} only model v1's cost per 1,000 orders, so model v${withModel.version} ignores ${given.length === 1 ? 'it' : 'them'}; use --price ID=VALUE (or diff --model 1)\n`,
    );
}

function evaluate(answers: Answers, inputs: Inputs, withModel: Model = model): Evaluation {
  const options = { model: withModel, prices: inputs.prices, scenarios: inputs.scenarios };
  const result = score(answers, inputs.evidence, options);
  const sensitivity = analyseSensitivity(answers, inputs.evidence, options, result);
  return { result, sensitivity, confidence: assessConfidence(result, sensitivity, withModel, title) };
}

const title = (id: (typeof OPTION_IDS)[number]) => optionTitle(model, id);

function warn(io: CliIo, warnings: readonly string[]): void {
  for (const w of warnings) io.stderr.write(`archbench: warning: ${w}\n`);
}

function pad2(s: string, n: number, right = false) {
  return right ? s.padStart(n) : s.padEnd(n);
}

function summaryText({ result, sensitivity, confidence }: Evaluation, breakdown: boolean): string {
  const head =
    confidence.level === 'too-close'
      ? `Too close to call: ${title(result.recommendation)} (${result.ranking[0]!.score.toFixed(1)}/100) leads ${title(result.runnerUp)} by only ${result.margin.toFixed(1)} points — model v${result.modelVersion}`
      : `Recommendation: ${title(result.recommendation)} (${result.ranking[0]!.score.toFixed(1)}/100), ahead of ${title(result.runnerUp)} by ${result.margin.toFixed(1)} points — model v${result.modelVersion}`;
  const lines = [head, ''];
  lines.push(`  #  ${pad2('Option', 18)} ${pad2('Score', 6, true)}  Evidence`);
  result.ranking.forEach((o, i) =>
    lines.push(
      `  ${i + 1}  ${pad2(o.title, 18)} ${pad2(o.score.toFixed(1), 6, true)}  ${o.measuredAs ? `measured as ${o.measuredAs}${o.latencyFrom ? ` (p95 latency from ${o.latencyFrom})` : ''}` : 'answers and priors only'}`,
    ),
  );
  if (breakdown) {
    lines.push('', 'Breakdown (fit 0-5 → points; m = measured, p = prior, ? = unknown answer):');
    lines.push(`  ${pad2('Criterion', 30)} ${pad2('Weight', 6, true)}  ${OPTION_IDS.map((id) => pad2(title(id).slice(0, 16), 16)).join(' ')}`);
    for (const c of result.criteria) {
      const cells = OPTION_IDS.map((id) => {
        const f = c.fits[id];
        return pad2(
          `${f.fit}/5 → ${f.points.toFixed(1)}${f.source === 'measured' ? ' m' : f.source === 'prior' ? ' p' : f.source === 'unknown' ? ' ?' : ''}`,
          16,
        );
      });
      lines.push(`  ${pad2(c.title.slice(0, 30), 30)} ${pad2(c.weight.toFixed(2), 6, true)}  ${cells.join(' ')}`);
    }
  }
  if (result.assessments.length) {
    // Model v1 estimated € per 1,000 orders; later models only the monthly cost (USD).
    const monthlyModel = Boolean(modelVersion(result.modelVersion)?.cost.monthly);
    lines.push('', 'Evidence:');
    for (const a of result.assessments) {
      const cost = a.monthly
        ? `${usd(a.monthly.monthlyUsd)} a month (${a.monthly.billing})`
        : !monthlyModel && a.cost
          ? `${eur(a.cost.totalEurPer1kOrders)} per 1,000 orders`
          : `cost: ${monthlyModel ? a.monthlyReason : a.costReason}`;
      const none = a.faults?.emulatedFaults ? 'not counted (local emulator)' : '—';
      const faults = a.faults
        ? `; faults: worst browse availability ${a.faults.worstAvailability ? `${(a.faults.worstAvailability.value * 100).toFixed(1)}% (${a.faults.worstAvailability.fault})` : none}, slowest recovery ${a.faults.slowestRecovery ? (Number.isFinite(a.faults.slowestRecovery.value) ? `${a.faults.slowestRecovery.value.toFixed(1)} s` : 'never') : none}${a.faults.broken.length ? `, ${a.faults.broken.join('; ')}` : ''}`
        : '';
      lines.push(
        `  ${a.topology}: latency ${latencyVerdict(a.latency)} — ${a.latency.reason}; ${cost}; ${a.processCount === null ? 'process count not measured' : `${a.processCount} process${a.processCount === 1 ? '' : 'es'}`}${faults}`,
      );
    }
  }
  lines.push(
    '',
    `Sensitivity: ${sensitivity.smallestFlip ? describeFlip(sensitivity.smallestFlip, title) : `no change of one answer, nor of two answers by one step each, flips the recommendation${sensitivity.closest ? `; the closest, ${sensitivity.closest.change.path} = ${JSON.stringify(sensitivity.closest.change.to)}, narrows the margin to ${sensitivity.closest.margin.toFixed(1)} points` : ''}`}${
      confidence.drivers.length
        ? `; the lead comes mostly from ${[
            ...new Set(
              confidence.drivers
                .filter((d) => d.answerPath)
                .map((d) => `${d.answerPath} = ${typeof d.answer === 'string' ? d.answer : JSON.stringify(d.answer)}`),
            ),
          ]
            .slice(0, 3)
            .join(', ')}`
        : ''
    }.`,
  );
  lines.push(`Confidence: ${describeConfidence(confidence)}`);
  for (const note of result.notes) lines.push(`Note: ${note}`);
  return `${lines.join('\n')}\n`;
}

async function cmdDecide(args: string[], io: CliIo): Promise<number> {
  const { values } = parse('decide', args, {
    ...EVIDENCE_OPTIONS,
    answers: { type: 'string' },
    'save-answers': { type: 'string' },
    'no-save-answers': { type: 'boolean', default: false },
    interactive: { type: 'boolean', default: false },
    dir: { type: 'string', default: 'docs/decisions' },
    title: { type: 'string' },
    status: { type: 'string', default: 'proposed' },
    'decision-makers': { type: 'string' },
    consulted: { type: 'string' },
    informed: { type: 'string' },
    supersedes: { type: 'string' },
    html: { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    date: { type: 'string' },
  });
  if (values.help) return help(io, 'decide');
  const requestedStatus = String(values.status);
  if (!(ADR_STATUSES as readonly string[]).includes(requestedStatus))
    throw new UsageError(`--status must be one of ${ADR_STATUSES.join(', ')} (got ${JSON.stringify(requestedStatus)})`);
  const date = isoDate(values.date, io);
  // One says where to save the answers, the other not to save them: neither can win silently.
  if (typeof values['save-answers'] === 'string' && values['no-save-answers'])
    throw new UsageError('--save-answers and --no-save-answers contradict each other: give one of them', 'decide');
  const dryRun = Boolean(values['dry-run']);
  // Validate every input and every output path before asking questions, scoring or writing.
  const inputs = evidenceInputs(values, io);
  warnUnusedPrices(values, model, io);
  const dirFlag = String(values.dir);
  const log = new AdrLog(resolve(io.cwd, dirFlag));
  const htmlPath = typeof values.html === 'string' ? resolve(io.cwd, values.html) : undefined;
  const saveAnswers = typeof values['save-answers'] === 'string' ? resolve(io.cwd, values['save-answers']) : undefined;
  if (!dryRun) {
    checkOutputDir(log.dir, `--dir ${dirFlag}`);
    if (htmlPath) checkOutputFile(htmlPath, `--html ${String(values.html)}`);
    if (saveAnswers) checkOutputFile(saveAnswers, `--save-answers ${String(values['save-answers'])}`, { exclusive: true });
    const taken = inputFiles(values, io);
    for (const entry of log.list()) taken.set(log.path(entry), `ADR-${pad(entry.number)} (${entry.file})`);
    taken.set(join(log.dir, 'README.md'), 'the ADR index');
    refuseOverwriting(
      [
        [htmlPath, `--html ${String(values.html)}`],
        [saveAnswers, `--save-answers ${String(values['save-answers'])}`],
      ],
      taken,
    );
  }
  log.list();
  warn(io, log.warnings);
  const superseded = typeof values.supersedes === 'string' ? log.find(values.supersedes) : undefined;
  // Refused before any question is asked (supersedeTexts checks it again when writing).
  if (superseded) {
    try {
      log.checkSupersedable(superseded);
    } catch (error) {
      throw error instanceof InputError ? new InputError(`--supersedes ${String(values.supersedes)}: ${error.message}`) : error;
    }
  }

  let answers: Answers;
  let source: string;
  if (typeof values.answers === 'string') {
    ({ answers, source } = requireAnswers(values, 'decide', io));
  } else {
    if (!values.interactive && io.interactive === false) {
      throw new UsageError(
        'stdin is not a terminal, so the questionnaire cannot be asked; pass --answers FILE (start one with `archbench answers-template --out answers.yaml`), or --interactive to answer through the pipe',
        'decide',
      );
    }
    const asked = await runQuestionnaire({ input: io.stdin, output: io.stdout, models: model.options });
    if (asked === null) {
      io.stderr.write('Cancelled at the review; nothing written.\n');
      return 130;
    }
    answers = asked;
    source = 'interactive questionnaire';
  }
  const evaluation = evaluate(answers, inputs);
  const { result, sensitivity, confidence } = evaluation;
  // A near-tie is not a decision: the record stays proposed until someone settles the deciding answers.
  const status = confidence.level === 'too-close' ? 'proposed' : requestedStatus;
  const { confirmation, notes } = buildConfirmation(answers, result, inputs.evidence, model, inputs.scenarios);
  const adrTitle = typeof values.title === 'string' && values.title.trim() ? values.title.trim() : decisionTitle(result.recommendation, model, answers);
  const people = {
    decisionMakers: list(values['decision-makers']) ?? answers.people?.decisionMakers,
    consulted: list(values.consulted) ?? answers.people?.consulted,
    informed: list(values.informed) ?? answers.people?.informed,
  };
  const { number, file } = log.next(adrTitle);
  const adrPath = join(log.dir, file);
  // Answers are kept beside the record by default, so `diff` and a later re-decision can start from them.
  const answersPath = saveAnswers ?? (values['no-save-answers'] ? undefined : join(log.dir, file.replace(/\.md$/, '.answers.yaml')));
  const answersShown = answersPath ? relative(io.cwd, answersPath) || answersPath : source;
  const render = (path: string) =>
    renderDecisionAdr({
      title: adrTitle,
      date,
      status,
      people,
      answers,
      answersSource: typeof values.answers === 'string' ? source : answersShown,
      result,
      sensitivity,
      confidence,
      evidence: inputs.evidence,
      confirmation,
      confirmationNotes: notes,
      model,
      generator: GENERATOR,
      path,
    });

  io.stdout.write(summaryText(evaluation, false));
  if (status !== requestedStatus) io.stdout.write(`\nThe result is too close to call, so the ADR stays ${status} (not ${requestedStatus}).\n`);
  if (dryRun) {
    io.stdout.write(`\n--- dry run: nothing written ---\n\n${render('NNNN-dry-run.md')}`);
    return 0;
  }
  const batch = new OutputBatch();
  let adrText = render(relative(io.cwd, adrPath) || adrPath);
  if (superseded) {
    const { oldText, newText } = log.supersedeTexts(superseded, { number, file }, adrText, date);
    adrText = newText;
    batch.add(log.path(superseded), oldText);
  }
  batch.add(adrPath, adrText, { exclusive: true });
  if (answersPath) batch.add(answersPath, answersTemplate(answers), { exclusive: true });
  const entries = log.list().filter((e) => e.file !== file);
  const supersededStatus = superseded ? `superseded by ADR-${pad(number)}` : undefined;
  batch.add(
    join(log.dir, 'README.md'),
    renderIndex([
      ...entries.map((e) => (superseded && e.file === superseded.file ? { ...e, status: supersededStatus!, date } : e)),
      { number, file, title: adrTitle, status, date },
    ]),
  );
  if (htmlPath)
    batch.add(
      htmlPath,
      renderHtmlReport({ title: adrTitle, date, answers, result, sensitivity, confidence, evidence: inputs.evidence, model, generator: GENERATOR }),
    );
  batch.commit();
  io.stdout.write(`\nWrote ${relative(io.cwd, adrPath)} (ADR-${pad(number)}, ${status}) and ${relative(io.cwd, resolve(log.dir, 'README.md'))}\n`);
  if (superseded) io.stdout.write(`ADR-${pad(superseded.number)} is now superseded by ADR-${pad(number)}\n`);
  if (htmlPath) io.stdout.write(`Wrote ${String(values.html)}\n`);
  if (answersPath) io.stdout.write(`Saved answers to ${relative(io.cwd, answersPath) || answersPath}\n`);
  return 0;
}

function cmdScore(args: string[], io: CliIo): number {
  const { values } = parse('score', args, { ...EVIDENCE_OPTIONS, answers: { type: 'string' }, json: { type: 'boolean', default: false } });
  if (values.help) return help(io, 'score');
  const inputs = evidenceInputs(values, io);
  warnUnusedPrices(values, model, io);
  const { answers } = requireAnswers(values, 'score', io);
  const evaluation = evaluate(answers, inputs);
  const { result, sensitivity, confidence } = evaluation;
  if (values.json) {
    io.stdout.write(
      `${JSON.stringify({ ...result, sensitivity, sensitivityText: sensitivity.smallestFlip ? describeFlip(sensitivity.smallestFlip, title) : null, confidence, confidenceText: describeConfidence(confidence) }, null, 2)}\n`,
    );
  } else {
    io.stdout.write(summaryText(evaluation, true));
  }
  return 0;
}

function cmdReport(args: string[], io: CliIo): number {
  const { values } = parse('report', args, { ...EVIDENCE_OPTIONS, answers: { type: 'string' }, out: { type: 'string' }, title: { type: 'string' } });
  if (values.help) return help(io, 'report');
  if (typeof values.out !== 'string') throw new UsageError('report needs --out FILE', 'report');
  checkOutputFile(resolve(io.cwd, values.out), `--out ${values.out}`);
  refuseOverwriting([[resolve(io.cwd, values.out), `--out ${values.out}`]], inputFiles(values, io));
  const inputs = evidenceInputs(values, io);
  warnUnusedPrices(values, model, io);
  const { answers } = requireAnswers(values, 'report', io);
  const { result, sensitivity, confidence } = evaluate(answers, inputs);
  const date = io.now().toISOString().slice(0, 10);
  const reportTitle = typeof values.title === 'string' ? values.title : `Architecture options for the ${answers.project?.name ?? 'order-processing system'}`;
  writeFileAtomic(
    resolve(io.cwd, values.out),
    renderHtmlReport({ title: reportTitle, date, answers, result, sensitivity, confidence, evidence: inputs.evidence, model, generator: GENERATOR }),
  );
  io.stdout.write(`Wrote ${values.out}: ${title(result.recommendation)} leads with ${result.ranking[0]!.score.toFixed(1)}/100\n`);
  return 0;
}

function cmdVerify(args: string[], io: CliIo): number {
  const { values, positionals } = parse(
    'verify',
    args,
    { comparison: EVIDENCE_OPTIONS.comparison!, k6: EVIDENCE_OPTIONS.k6!, dir: { type: 'string', default: 'docs/decisions' } },
    true,
  );
  if (values.help) return help(io, 'verify');
  if (positionals.length !== 1) throw new UsageError('verify needs exactly one ADR (a path, or a number in --dir)', 'verify');
  const ref = positionals[0]!;
  const log = new AdrLog(resolve(io.cwd, String(values.dir)));
  const path = /^\d+$/.test(ref) ? log.path(log.find(ref)) : resolve(io.cwd, ref);
  const confirmation = extractConfirmation(readText(path, 'ADR'), relative(io.cwd, path) || path);
  const shown = relative(io.cwd, path) || path;
  if (confirmation.criteria.length && !(values.comparison as string[] | undefined)?.length && !(values.k6 as string[] | undefined)?.length)
    throw new UsageError('verify needs --comparison FILE (or --k6 TOPOLOGY=FILE) with the newer evidence', 'verify');
  // Read whatever evidence was given even when there is nothing to check: a missing file is still bad input (exit 2).
  const { evidence } = evidenceInputs(values, io, false);
  const checks = checkConfirmation(confirmation, evidence);
  if (checks.length === 0) {
    io.stderr.write(
      `archbench: ${shown} was decided without evidence for the chosen option (model v${confirmation.modelVersion}): no measured thresholds were recorded, so there is nothing to verify; decide again with --comparison evidence that measures the chosen option to record some\n`,
    );
    return EXIT_NO_EVIDENCE;
  }
  for (const c of checks) io.stdout.write(`${c.passed ? '✓' : '✗'} ${c.criterion.id}: ${c.criterion.description} — ${c.detail}\n`);
  const failed = checks.filter((c) => !c.passed);
  if (failed.length) {
    throw new VerificationFailedError(
      `${shown}: ${failed.length} of ${checks.length} confirmation criteria no longer hold: ${failed.map((c) => c.criterion.id).join(', ')}`,
    );
  }
  io.stdout.write(`${shown}: all ${checks.length} confirmation criteria hold\n`);
  return 0;
}

/** Answers from an answers file, or from the answers block an ADR carries (or the answers file saved beside it). */
function answersFrom(ref: string, io: CliIo): { answers: Answers; label: string; modelVersion: number | null } {
  const path = resolve(io.cwd, ref);
  if (!/\.md$/i.test(path)) return { answers: readAnswersFile(path), label: ref, modelVersion: null };
  const text = readText(path, 'ADR');
  const embedded = answersFromAdr(text, ref);
  if (embedded) return { answers: parseAnswers(embedded.answers, ref), label: ref, modelVersion: embedded.modelVersion };
  const beside = join(dirname(path), basename(path).replace(/\.md$/i, '.answers.yaml'));
  if (existsSync(beside)) return { answers: readAnswersFile(beside), label: ref, modelVersion: null };
  throw new InputError(`${ref}: the ADR carries no answers block and there is no ${basename(beside)} beside it; pass the answers file instead`);
}

function cmdDiff(args: string[], io: CliIo): number {
  const { values, positionals } = parse('diff', args, { ...EVIDENCE_OPTIONS, json: { type: 'boolean', default: false }, model: { type: 'string' } }, true);
  if (values.help) return help(io, 'diff');
  if (positionals.length !== 2) throw new UsageError('diff needs two inputs, A and B: answers files or ADRs', 'diff');
  const inputs = evidenceInputs(values, io);
  const a = answersFrom(positionals[0]!, io);
  const b = answersFrom(positionals[1]!, io);
  let withModel = model;
  if (typeof values.model === 'string') {
    const m = /^[1-9]\d*$/.test(values.model) ? modelVersion(Number(values.model)) : undefined;
    if (!m) throw new UsageError(`--model must be one of ${MODEL_VERSIONS.join(', ')} (got ${JSON.stringify(values.model)})`, 'diff');
    withModel = m;
  }
  warnUnusedPrices(values, withModel, io);
  const options = { model: withModel, prices: inputs.prices, scenarios: inputs.scenarios };
  const diff = diffDecisions(a.answers, b.answers, inputs.evidence, options);
  const decidedWith = [a, b]
    .filter((x) => x.modelVersion !== null && x.modelVersion !== withModel.version)
    .map(
      (x) => `${x.label} was decided with model v${x.modelVersion}; both are scored with model v${withModel.version} here (--model N re-scores with another)`,
    );
  // An ADR decided with measurements scores differently without them: say which was used.
  const adrs = [a, b].filter((x) => x.modelVersion !== null || /\.md$/i.test(x.label));
  const notes = [
    ...decidedWith,
    ...(inputs.evidence.sources.length === 0 && adrs.length
      ? [
          'no evidence was given, so both are scored from the answers alone (an ADR decided with measurements shows other scores; pass the same --comparison/--k6 to compare like with like)',
        ]
      : []),
  ];
  if (values.json) io.stdout.write(`${JSON.stringify({ ...diff, notes }, null, 2)}\n`);
  else io.stdout.write(`${renderDiff(diff, a.label, b.label, (id) => optionTitle(withModel, id))}${notes.map((n) => `Note: ${n}.\n`).join('')}`);
  return 0;
}

function cmdTemplate(args: string[], io: CliIo): number {
  const { values } = parse('answers-template', args, { out: { type: 'string' }, force: { type: 'boolean', default: false } });
  if (values.help) return help(io, 'answers-template');
  const text = answersTemplate();
  if (typeof values.out !== 'string') {
    io.stdout.write(text);
    return 0;
  }
  checkOutputFile(resolve(io.cwd, values.out), `--out ${values.out}`, { exclusive: !values.force });
  writeFileAtomic(resolve(io.cwd, values.out), text, { exclusive: !values.force });
  io.stdout.write(`Wrote ${values.out}\n`);
  return 0;
}

const ADR_OPTIONS: Options = {
  dir: { type: 'string', default: 'docs/decisions' },
  status: { type: 'string', default: 'proposed' },
  'decision-makers': { type: 'string' },
  consulted: { type: 'string' },
  informed: { type: 'string' },
  json: { type: 'boolean', default: false },
  date: { type: 'string' },
};

/** The flags each `adr` subcommand uses (the help lists the same). */
const ADR_FLAGS: Record<string, readonly string[]> = {
  new: ['dir', 'status', 'decision-makers', 'consulted', 'informed', 'date'],
  list: ['dir', 'json'],
  status: ['dir', 'date'],
  supersede: ['dir', 'date'],
  index: ['dir'],
};

function cmdAdr(args: string[], io: CliIo): number {
  const [sub, ...rest] = args;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') return help(io, 'adr');
  // Own keys only: `adr constructor` must not find Object.prototype's.
  const flags = Object.hasOwn(ADR_FLAGS, sub) ? ADR_FLAGS[sub] : undefined;
  if (!flags) throw new UsageError(`unknown adr subcommand ${JSON.stringify(sub)} (new, list, status, supersede, index)`, 'adr');
  // Each subcommand takes only the flags it uses: `adr list --status accepted` is an error, not a no-op.
  const { values, positionals } = parse(`adr ${sub}`, rest, Object.fromEntries(flags.map((f) => [f, ADR_OPTIONS[f]!])), true);
  if (values.help) return help(io, 'adr');
  const log = new AdrLog(resolve(io.cwd, String(values.dir)));
  const date = isoDate(values.date, io);
  const shown = (file: string) => relative(io.cwd, resolve(log.dir, file));
  // Every subcommand but list writes: check the folder first, so /proc and friends fail fast.
  if (sub !== 'list') checkOutputDir(log.dir, `--dir ${String(values.dir)}`);
  log.list();
  warn(io, log.warnings);
  switch (sub) {
    case 'new': {
      const adrTitle = positionals.join(' ').trim();
      if (!adrTitle) throw new UsageError('adr new needs a TITLE, e.g. archbench adr new "Use PostgreSQL for orders"', 'adr');
      const status = String(values.status);
      if (!(ADR_STATUSES as readonly string[]).includes(status))
        throw new UsageError(`--status must be one of ${ADR_STATUSES.join(', ')} (got ${JSON.stringify(status)})`, 'adr');
      const entry = log.create(adrTitle, () =>
        renderTemplateAdr({
          title: adrTitle,
          date,
          status,
          people: { decisionMakers: list(values['decision-makers']), consulted: list(values.consulted), informed: list(values.informed) },
        }),
      );
      io.stdout.write(`Wrote ${shown(entry.file)} (ADR-${pad(entry.number)})\n`);
      return 0;
    }
    case 'list': {
      const entries = log.list();
      if (values.json) io.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
      else if (entries.length === 0) io.stdout.write(`No ADRs in ${shown('.') || '.'}\n`);
      else for (const e of entries) io.stdout.write(`${pad(e.number)}  ${pad2(e.status, 24)} ${e.date}  ${e.title}\n`);
      return 0;
    }
    case 'status': {
      const [ref, status] = positionals;
      if (!ref || !status) throw new UsageError(`adr status needs ADR and STATUS (${ADR_STATUSES.join(', ')})`, 'adr');
      if (status.startsWith('superseded'))
        throw new UsageError('use `archbench adr supersede OLD NEW` to supersede a record, so both link to each other', 'adr');
      if (!(ADR_STATUSES as readonly string[]).includes(status))
        throw new UsageError(`STATUS must be one of ${ADR_STATUSES.join(', ')} (got ${JSON.stringify(status)})`, 'adr');
      const entry = log.setStatus(ref, status, date);
      io.stdout.write(`ADR-${pad(entry.number)} is now ${entry.status}\n`);
      return 0;
    }
    case 'supersede': {
      const [oldRef, newRef] = positionals;
      if (!oldRef || !newRef) throw new UsageError('adr supersede needs OLD and NEW, e.g. archbench adr supersede 2 5', 'adr');
      const { old, replacement } = log.supersede(oldRef, newRef, date);
      io.stdout.write(`ADR-${pad(old.number)} is now ${old.status}; ADR-${pad(replacement.number)} links back to it\n`);
      return 0;
    }
    case 'index': {
      const path = log.writeIndex();
      io.stdout.write(`Wrote ${relative(io.cwd, path)}\n`);
      return 0;
    }
    default:
      throw new UsageError(`unknown adr subcommand ${JSON.stringify(sub)} (new, list, status, supersede, index)`, 'adr');
  }
}

function help(io: CliIo, command: string): number {
  io.stdout.write(`${helpFor(command)}\n`);
  return 0;
}

/**
 * Runs the CLI. The one place where errors become exit codes: InputError (bad flags, files,
 * conflicts) → 2, VerificationFailedError → 1, a cancelled prompt → 130, anything else → 70.
 * @example process.exitCode = await main(process.argv.slice(2));
 */
export async function main(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  // Without a subcommand (or starting with an option), run `decide`: `pnpm decide` asks the
  // questionnaire, `pnpm decide --answers a.yaml` decides from a file.
  const implicit = argv.length === 0 || (argv[0]!.startsWith('-') && !['--help', '-h', '--version', '-v'].includes(argv[0]!));
  const [command, ...args] = implicit ? ['decide', ...argv] : argv;
  try {
    switch (command) {
      case 'help':
      case '--help':
      case '-h':
        if (args[0] !== undefined && !hasHelp(args[0])) throw new UsageError(`no help for ${JSON.stringify(args[0])}: not an archbench command`);
        return help(io, args[0] ?? 'main');
      case '--version':
      case '-v':
        io.stdout.write(`${pkg.version}\n`);
        return 0;
      case 'decide':
        return await cmdDecide(args, io);
      case 'score':
        return cmdScore(args, io);
      case 'report':
        return cmdReport(args, io);
      case 'verify':
        return cmdVerify(args, io);
      case 'diff':
        return cmdDiff(args, io);
      case 'answers-template':
        return cmdTemplate(args, io);
      case 'adr':
        return cmdAdr(args, io);
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (error) {
    if (error instanceof Error && error.name === 'ExitPromptError') {
      io.stderr.write('\nCancelled; nothing written.\n');
      return 130;
    }
    const code = exitCodeOf(error);
    if (error instanceof UsageError) {
      // Point at the help of the command that failed (`decide --help` lists --scenario and --date), not the command list.
      const helpOf = error.command ?? (command !== undefined && command !== 'main' && hasHelp(command) ? command : undefined);
      io.stderr.write(`archbench: ${error.message}\nRun \`archbench ${helpOf ? `${helpOf} ` : ''}--help\` for usage.\n`);
    } else if (error instanceof InputError || error instanceof VerificationFailedError) {
      io.stderr.write(`archbench: ${error.message}\n`);
    } else {
      io.stderr.write(`archbench: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    }
    return code;
  }
}

/** The process's own streams and working directory. */
function defaultIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    cwd: process.cwd(),
    now: () => new Date(),
    interactive: Boolean(process.stdin.isTTY),
  };
}
