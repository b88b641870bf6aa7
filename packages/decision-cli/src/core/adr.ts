import YAML from 'yaml';
import { getAnswer, type Answers } from './answers';
import { renderConfirmationBlock, type Confirmation } from './confirmation';
import { InputError } from './errors';
import { latencyVerdict, priceAssumptionLines, priceList, usd, convertedNote, type Evidence } from './evidence';
import { eur, num, table } from './markdown';
import { OPTION_IDS, optionTitle, type Model, type OptionId } from './model';
import { answerLabel, QUESTION_GROUPS, QUESTIONS } from './questions';
import type { CriterionScore, ScoreResult } from './scoring';
import { describeConfidence, describeFlip, type Confidence, type Sensitivity } from './sensitivity';

/** Statuses an ADR can be set to directly; `superseded by ADR-NNNN` is set by `adr supersede`. */
export const ADR_STATUSES = ['proposed', 'accepted', 'rejected', 'deprecated'] as const;
export type AdrStatus = (typeof ADR_STATUSES)[number];

/** The MADR 4.0 headings every record has, in order (level 2, and level 3 under Decision Outcome). */
export const MADR_HEADINGS = [
  '## Context and Problem Statement',
  '## Decision Drivers',
  '## Considered Options',
  '## Decision Outcome',
  '### Consequences',
  '### Confirmation',
  '## Pros and Cons of the Options',
  '## More Information',
] as const;

export interface AdrPeople {
  decisionMakers?: readonly string[];
  consulted?: readonly string[];
  informed?: readonly string[];
}

export interface ParsedAdr {
  frontMatter: Record<string, unknown>;
  body: string;
  title: string;
  hasFrontMatter: boolean;
}

/**
 * Splits an ADR into YAML front matter, body and title; throws InputError when it has none.
 * @example parseAdr(readFileSync('docs/decisions/0001-use-x.md', 'utf8'), '0001-use-x.md').frontMatter.status
 */
export function parseAdr(text: string, source: string, options: { frontMatterOptional?: boolean } = {}): ParsedAdr {
  const match = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?/.exec(text);
  if (!match && options.frontMatterOptional) {
    // MADR makes front matter optional: a hand-written record may start with its title.
    return { frontMatter: {}, body: text, title: /^# (.+)$/m.exec(text)?.[1]?.trim() ?? source, hasFrontMatter: false };
  }
  if (!match) throw new InputError(`${source}: no YAML front matter (a block between --- lines at the top)`);
  let frontMatter: unknown;
  try {
    frontMatter = YAML.parse(match[1] ?? '');
  } catch (error) {
    throw new InputError(`${source}: front matter is not valid YAML (${(error as Error).message.split('\n')[0]})`);
  }
  if (!frontMatter || typeof frontMatter !== 'object' || Array.isArray(frontMatter)) throw new InputError(`${source}: front matter is not a mapping`);
  const body = text.slice(match[0].length);
  const title = /^# (.+)$/m.exec(body)?.[1]?.trim() ?? source;
  return { frontMatter: frontMatter as Record<string, unknown>, body, title, hasFrontMatter: true };
}

/** Joins front matter and body back into a record. */
function serializeAdr(frontMatter: Record<string, unknown>, body: string): string {
  return `---\n${YAML.stringify(frontMatter, { lineWidth: 0 }).trimEnd()}\n---\n\n${body.replace(/^\n+/, '')}`;
}

function frontMatterOf(status: string, date: string, people: AdrPeople): Record<string, unknown> {
  const join = (xs?: readonly string[]) => (xs && xs.length ? xs.join(', ') : '');
  return {
    status,
    date,
    'decision-makers': join(people.decisionMakers),
    consulted: join(people.consulted),
    informed: join(people.informed),
  };
}

/**
 * Sets the status in an ADR's front matter, keeping everything else.
 * @example setAdrStatus(text, 'accepted', '0003-x.md', '2025-05-01')
 */
export function setAdrStatus(text: string, status: string, source: string, date?: string): string {
  const { frontMatter, body } = parseAdr(text, source, { frontMatterOptional: true });
  return serializeAdr({ ...frontMatter, status, ...(date ? { date } : {}) }, body);
}

/**
 * Appends a line to the "More Information" section (creating it if missing); a line already
 * present is not added twice.
 * @example addMoreInformation(text, 'Superseded by [ADR-0004](0004-y.md).')
 */
export function addMoreInformation(text: string, line: string): string {
  if (text.includes(line)) return text;
  const heading = /^## More Information[ \t]*$/m.exec(text);
  if (!heading) return `${text.trimEnd()}\n\n## More Information\n\n${line}\n`;
  const after = heading.index + heading[0].length;
  const next = /^## /m.exec(text.slice(after));
  const end = next ? after + next.index : text.length;
  const section = text.slice(after, end).trimEnd();
  return `${text.slice(0, after)}${section}\n\n${line}\n${next ? `\n${text.slice(end)}` : ''}`;
}

/**
 * Lowercase, dash-separated file slug of a title.
 * @example slugify('Use a modular monolith!') // 'use-a-modular-monolith'
 */
export function slugify(title: string): string {
  const slug = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  // At most 60 characters, cut at a word boundary (a word longer than that is cut).
  const head = slug.slice(0, 60);
  const cut = slug.length <= 60 || slug[60] === '-' || !head.includes('-') ? head : head.replace(/-[^-]*$/, '');
  return cut.replace(/-+$/g, '') || 'decision';
}

/** Four-digit ADR number, e.g. `0007`. */
export const pad = (n: number) => String(n).padStart(4, '0');

/**
 * A blank MADR 4.0 record for a decision written by hand.
 * @example renderTemplateAdr({ title: 'Use PostgreSQL', date: '2025-01-31', status: 'proposed', people: {} })
 */
export function renderTemplateAdr(input: { title: string; date: string; status: string; people: AdrPeople }): string {
  const body = `# ${input.title}

## Context and Problem Statement

{Describe the context and problem statement in two or three sentences, or as a question.}

## Decision Drivers

* {decision driver 1}
* {decision driver 2}

## Considered Options

* {title of option 1}
* {title of option 2}

## Decision Outcome

Chosen option: "{title of option 1}", because {justification}.

### Consequences

* Good, because {positive consequence}
* Bad, because {negative consequence}

### Confirmation

{How the implementation of this decision is confirmed: a review, a test, a measured threshold.}

## Pros and Cons of the Options

### {title of option 1}

* Good, because {argument a}
* Bad, because {argument b}

## More Information

{Links, the agreement reached, when to revisit.}
`;
  return serializeAdr(frontMatterOf(input.status, input.date, input.people), body);
}

/** Everything the decision ADR is made of. */
export interface DecisionAdrInput {
  title: string;
  date: string;
  status: string;
  people: AdrPeople;
  answers: Answers;
  answersSource: string;
  result: ScoreResult;
  sensitivity: Sensitivity;
  /** How sure the result is; absent for callers that predate it (treated as not assessed). */
  confidence?: Confidence;
  evidence: Evidence;
  confirmation: Confirmation;
  confirmationNotes: readonly string[];
  model: Model;
  generator: string;
  /** Path of the ADR as users will pass it to `verify` (shown in the Confirmation section). */
  path?: string;
}

/** Default ADR title for a recommendation, e.g. `Use a modular monolith for the order-processing system`. */
export function decisionTitle(option: OptionId, model: Model, answers: Answers): string {
  const article = option === 'microservices' || option === 'serverless' ? '' : 'a ';
  const what = option === 'serverless' ? 'a serverless architecture' : `${article}${optionTitle(model, option).toLowerCase()}`;
  const hybrid = option === 'hybrid' ? 'a hybrid: a modular monolith with a few extracted services' : what;
  return `Use ${hybrid} for the ${answers.project?.name ?? 'order-processing system'}`;
}

const pts = (n: number) => n.toFixed(1);

/** The measured table: one row per topology and scenario. */
function measuredTable(result: ScoreResult, evidence: Evidence, model: Model): string {
  if (evidence.topologies.length === 0) return '_No measured evidence was given._';
  // Model v1 estimated € per 1,000 orders; later models only the monthly cost (USD).
  const monthlyModel = Boolean(model.cost.monthly);
  const rows = evidence.topologies.flatMap((t) =>
    t.scenarios.map((s) => [
      `\`${t.topology}\`${s.emulated ? ' (local emulator)' : ''}`,
      s.scenario,
      num(s.throughputRps, 1),
      num(s.p50Ms, 1),
      num(s.p95Ms, 1),
      num(s.p99Ms, 1),
      `${num(s.errorRate * 100, 2)}%`,
      s.thresholdsPassed === null ? '—' : s.thresholdsPassed ? 'passed' : `failed: ${s.failedThresholds.join('; ')}`,
    ]),
  );
  const server = result.assessments.map((a) => {
    const t = evidence.topologies.find((x) => x.topology === a.topology);
    return [
      `\`${a.topology}\``,
      a.latency.status === 'meets' ? `meets (${num((a.latency.headroom ?? 0) * 100)}% headroom)` : latencyVerdict(a.latency),
      latencyVerdict(a.latencyAtPeak),
      num(t?.processCount ?? null),
      num(t?.cpuSecondsPer1kOrders ?? null, 2),
      t?.peakRssBytes ? num(t.peakRssBytes / 2 ** 20) : '—',
      t?.hopsPerRequest === null || t?.hopsPerRequest === undefined ? '—' : num(t.hopsPerRequest, 2),
      a.monthly
        ? `${usd(a.monthly.monthlyUsd)}/month (${a.monthly.billing})`
        : !monthlyModel && a.cost
          ? eur(a.cost.totalEurPer1kOrders)
          : `— (${monthlyModel ? a.monthlyReason : a.costReason})`,
      a.consistency ? `${a.consistency.verdict} (${a.consistency.detail})` : '—',
    ];
  });
  const faultRows = evidence.topologies.flatMap((t) =>
    (t.faults ?? []).map((f) => [
      f.fault,
      `\`${t.topology}\`${f.emulated ? ' (local emulator)' : ''}`,
      f.browseAvailability === null ? '—' : `${num(f.browseAvailability * 100, 1)}%`,
      f.checkoutSuccess === null ? '—' : `${num(f.checkoutSuccess * 100, 1)}%`,
      num(f.ordersLost),
      num(f.ordersStuck),
      num(f.duplicateCharges),
      num(f.stockDrift),
      f.recoverySeconds === null ? 'never' : num(f.recoverySeconds, 1),
    ]),
  );
  return [
    table(['Topology', 'Scenario', 'Throughput (rps)', 'p50 (ms)', 'p95 (ms)', 'p99 (ms)', 'Errors', 'Thresholds'], rows, [
      'left',
      'left',
      'right',
      'right',
      'right',
      'right',
      'right',
      'left',
    ]),
    '',
    table(
      [
        'Topology',
        'p95 budget at expected rate',
        'at peak rate',
        'Processes',
        'CPU s / 1k orders',
        'Peak memory (MiB)',
        'Hops / request',
        'Est. cost',
        'Consistency under faults',
      ],
      server,
      ['left', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'left'],
    ),
    ...(faultRows.length
      ? [
          '',
          'Fault experiments:',
          '',
          table(
            ['Fault', 'Topology', 'Browse available', 'Checkout succeeded', 'Orders lost', 'Orders stuck', 'Duplicate charges', 'Stock drift', 'Recovery (s)'],
            faultRows,
            ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
          ),
        ]
      : []),
  ].join('\n');
}

/** Criterion x option breakdown: fit (0-5) and points. */
function breakdownTable(result: ScoreResult, model: Model): string {
  const rows = result.criteria.map((c) => [
    c.title,
    c.answerPath ? `${answerLabel(c.answerPath, c.answerValue)}` : '—',
    c.weight === c.baseWeight ? num(c.weight, 2) : `${num(c.weight, 2)} (base ${c.baseWeight})`,
    ...OPTION_IDS.map((id) => {
      const f = c.fits[id];
      const mark = f.source === 'measured' ? ' (measured)' : f.source === 'prior' ? ' (prior)' : f.source === 'unknown' ? ' (unknown)' : '';
      return `${f.fit}/5 → ${pts(f.points)}${mark}`;
    }),
  ]);
  rows.push(['**Total**', '', '', ...OPTION_IDS.map((id) => `**${pts(result.ranking.find((o) => o.option === id)?.score ?? 0)}**`)]);
  return table(['Criterion', 'Answer', 'Weight', ...OPTION_IDS.map((id) => optionTitle(model, id))], rows);
}

function answersTable(answers: Answers): string {
  const rows = QUESTION_GROUPS.flatMap((group) =>
    QUESTIONS.filter((q) => q.group === group).map((q) => {
      return [group, q.message, answerLabel(q.path, getAnswer(answers, q.path)), `\`${q.path}\``];
    }),
  );
  return table(['Group', 'Question', 'Answer', 'Field'], rows);
}

/** Good/neutral/bad arguments for an option, most telling first (weight x distance from neutral). */
function arguments_(result: ScoreResult, option: OptionId, limit = { good: 5, neutral: 2, bad: 5 }): { good: string[]; neutral: string[]; bad: string[] } {
  const salience = (c: CriterionScore) => c.weight * Math.abs(c.fits[option].fit - 3);
  const ranked = [...result.criteria].sort((a, b) => salience(b) - salience(a) || b.weight - a.weight);
  const line = (c: CriterionScore, tone: 'good' | 'neutral' | 'bad') => {
    const f = c.fits[option];
    const tag = `(${c.title}, fit ${f.fit}/5)`;
    if (f.source === 'measured') return `${f.note} ${tag}`;
    // A prior stands in (the evidence did not decide, or the answer is unknown): say why, never
    // "it suits <why>".
    if (f.source === 'prior') return `the model assumes ${f.fit}/5 here, ${f.because ?? 'not measured'} ${tag}`;
    if (f.source === 'unknown') return `the model assumes ${f.fit}/5 here, ${c.answerPath ?? 'the answer'} being unknown ${tag}`;
    const phrase = tone === 'good' ? `it suits ${f.note}` : tone === 'bad' ? `it suits ${f.note} poorly` : `it is a middling fit for ${f.note}`;
    return `${phrase} ${tag}`;
  };
  return {
    good: ranked
      .filter((c) => c.fits[option].fit >= 4)
      .slice(0, limit.good)
      .map((c) => line(c, 'good')),
    neutral: ranked
      .filter((c) => c.fits[option].fit === 3)
      .slice(0, limit.neutral)
      .map((c) => line(c, 'neutral')),
    bad: ranked
      .filter((c) => c.fits[option].fit <= 2)
      .slice(0, limit.bad)
      .map((c) => line(c, 'bad')),
  };
}

/**
 * Renders the decision ADR (MADR 4.0) for a scored recommendation.
 * @example renderDecisionAdr({ title, date: '2025-05-01', status: 'proposed', people: {}, answers, ... })
 */
export function renderDecisionAdr(input: DecisionAdrInput): string {
  const { answers, result, model, sensitivity, evidence } = input;
  const title = (id: OptionId) => optionTitle(model, id);
  const chosen = result.recommendation;
  const chosenScore = result.ranking[0]!;
  const runner = result.ranking[1]!;
  const byWeight = [...result.criteria].sort((a, b) => b.weight - a.weight);
  const chosenArgs = arguments_(result, chosen);
  const strongest = [...result.criteria]
    .sort((a, b) => b.fits[chosen].points - b.fits[runner.option].points - (a.fits[chosen].points - a.fits[runner.option].points))
    .slice(0, 3)
    .filter((c) => c.fits[chosen].points > c.fits[runner.option].points)
    .map((c) => `${c.title.toLowerCase()} (${c.fits[chosen].note})`);

  const problem =
    answers.project?.problem ??
    `We must decide how to structure the ${answers.project?.name ?? 'order-processing system'}: as a modular monolith, microservices, serverless functions, or a hybrid.`;
  const sensitivityText = sensitivity.smallestFlip
    ? `The recommendation leads ${title(sensitivity.runnerUp)} by ${pts(sensitivity.margin)} points. The smallest change in answers that flips it: ${describeFlip(sensitivity.smallestFlip, title)}.`
    : `The recommendation leads ${title(sensitivity.runnerUp)} by ${pts(sensitivity.margin)} points, and no change of one answer, nor of two answers by one step each, flips it${sensitivity.closest ? ` (the closest single change, ${sensitivity.closest.change.path} = ${JSON.stringify(sensitivity.closest.change.to)}, narrows the margin to ${pts(sensitivity.closest.margin)} points)` : ''}.`;

  const missing = result.notes.map((n) => `* ${n}`).join('\n');
  const monthly = result.assessments.filter((a) => a.monthly);
  const costAssumptions = monthly.length
    ? monthly.map((a) => `${a.topology} ${a.monthly!.billing}, ${usd(a.monthly!.monthlyUsd)} a month: ${a.monthly!.assumptions.join(', ')}`)
    : model.cost.monthly
      ? []
      : (result.assessments.find((a) => a.cost)?.cost?.assumptions ?? []);
  // The same price list, sources and dates as the comparison's summary.md (one shared model).
  const priceLines = monthly.length ? priceAssumptionLines(priceList(result.prices)) : [];

  const prosCons = result.ranking
    .map((o) => {
      const args = arguments_(result, o.option);
      const measured = o.measuredAs
        ? `measured as \`${o.measuredAs}\`${o.latencyFrom ? ` (p95 latency from \`${o.latencyFrom}\`)` : ''}`
        : 'not measured: scored from the answers and model priors';
      const summary = model.options.find((x) => x.id === o.option)?.summary ?? '';
      return [
        `### ${title(o.option)}`,
        '',
        `${summary} Score ${pts(o.score)}/100 (${measured}).`,
        '',
        ...args.good.map((a) => `* Good, because ${a}`),
        ...args.neutral.map((a) => `* Neutral, because ${a}`),
        ...args.bad.map((a) => `* Bad, because ${a}`),
      ].join('\n');
    })
    .join('\n\n');

  // Quoted when it has spaces or quotes, so the command can be pasted into a shell as it stands.
  const shownPath = input.path && /[\s'"$`\\]/.test(input.path) ? `'${input.path.replaceAll("'", "'\\''")}'` : input.path;
  const verifyCmd = `archbench verify ${shownPath ?? '<this file>'} --comparison <comparison.json>`;
  const confidence = input.confidence;
  const tooClose = confidence?.level === 'too-close';
  const confidenceText = confidence ? describeConfidence(confidence) : '';
  // Under its own bold heading: the reasons only, not "Too close to call:" a second time.
  const tooCloseText = confidence ? describeConfidence(confidence, { withLevel: false }) : '';
  const assumptions = result.unknowns.length
    ? `\n\nAssumptions: ${result.unknowns.map((p) => `\`${p}\``).join(', ')} ${result.unknowns.length === 1 ? 'is' : 'are'} unknown (answered \`unknown\` or not given) and scored from the model's prior (each option's mean fit over the possible answers). Confirm ${result.unknowns.length === 1 ? 'it' : 'them'} before accepting this decision.`
    : '';
  const body = `# ${input.title}

## Context and Problem Statement

${problem}

The team answered the archbench questionnaire (\`${input.answersSource}\`):

${answersTable(answers)}

${evidence.sources.length ? `Measured evidence:\n\n${evidence.sources.map((s) => `* ${s.kind === 'comparison' ? 'comparison' : 'k6 summary'} \`${s.path}\`: ${s.description}${convertedNote(s)}`).join('\n')}\n\n${measuredTable(result, evidence, model)}` : '_No measured evidence was given; every option is scored from the answers alone._'}

## Decision Drivers

${byWeight
  .slice(0, 8)
  .map((c) => `* ${c.title}: ${c.level} (weight ${num(c.weight, 2)})`)
  .join('\n')}

## Considered Options

${result.ranking.map((o) => `* ${title(o.option)}`).join('\n')}

## Decision Outcome

${tooClose ? `**Too close to call:** ${tooCloseText} The record stays proposed until the deciding answers are settled.\n\n` : ''}Chosen option: "${title(chosen)}", because it scores ${pts(chosenScore.score)}/100 against ${pts(runner.score)} for ${title(runner.option)} (margin ${pts(result.margin)} points) under archbench decision model v${model.version}${strongest.length ? `; it is ahead most on ${strongest.join(', ')}` : ''}.

${sensitivityText}${confidence && !tooClose ? `\n\nConfidence: ${confidenceText}` : ''}${assumptions}

### Consequences

${[...chosenArgs.good.map((a) => `* Good, because ${a}`), ...chosenArgs.bad.map((a) => `* Bad, because ${a}`)].join('\n') || '* Neutral, because no criterion stands out.'}

### Confirmation

${input.confirmation.criteria.length ? `The decision holds while these measured thresholds hold. \`${verifyCmd}\` re-checks them against a newer \`pnpm compare\` result and exits 1, listing each failed criterion, when one no longer holds.\n\n${input.confirmation.criteria.map((c) => `* ${c.description}`).join('\n')}` : 'There is nothing machine-checkable yet (see below); `archbench verify` reports this block as empty.'}
${input.confirmationNotes.length ? `\n${input.confirmationNotes.map((n) => `Note: ${n}`).join('\n\n')}\n` : ''}
${renderConfirmationBlock(input.confirmation)}

## Pros and Cons of the Options

${prosCons}

## More Information

* Decision model: archbench decision model v${model.version} (criteria, weights and fits in \`model/v${model.version}.json\` of @archbench/decision-cli). Score = sum(weight × fit) / sum(weight × 5) × 100.
* Sensitivity: ${sensitivityText}
${missing}
${costAssumptions.length ? `* Cost estimate assumptions: ${costAssumptions.join('; ')}.\n` : ''}${priceLines.length ? `* Prices (USD, the cost model of \`pnpm compare\`; override with \`--price ID=VALUE\`): ${priceLines.join('; ')}.\n` : ''}* Generated by ${input.generator} on ${input.date}.

### Score breakdown

Fit is 0 (poor) to 5 (excellent); points are the criterion's share of the 100-point score. "(measured)" fits come from the evidence, "(prior)" fits are the model's assumption for an option that was not measured or whose figures do not count (More Information says why), "(unknown)" fits the prior for an answer given as unknown.

${breakdownTable(result, model)}

### Answers

The answers this decision was scored from (\`archbench diff\` reads them back):

${renderAnswersBlock(answers, model.version)}
`;
  return serializeAdr(frontMatterOf(input.status, input.date, input.people), body);
}

const ANSWERS_MARK = '# archbench-answers';

/** The answers as a fenced YAML block, marked so `answersFromAdr` finds it again. */
function renderAnswersBlock(answers: Answers, modelVersion: number): string {
  return ['```yaml', `${ANSWERS_MARK} (decided with model v${modelVersion})`, YAML.stringify(answers, { lineWidth: 0 }).trimEnd(), '```'].join('\n');
}

/**
 * The answers block of a decision ADR, or null when it has none (ADRs written before it existed).
 * @example answersFromAdr(text, '0003-x.md')?.answers
 */
export function answersFromAdr(markdown: string, source: string): { answers: unknown; modelVersion: number | null } | null {
  for (const match of markdown.matchAll(/```ya?ml[^\n]*\n([\s\S]*?)```/g)) {
    const body = match[1] ?? '';
    if (!body.startsWith(ANSWERS_MARK)) continue;
    try {
      return { answers: YAML.parse(body), modelVersion: Number(/model v(\d+)/.exec(body)?.[1] ?? NaN) || null };
    } catch (error) {
      throw new InputError(`${source}: the answers block is not valid YAML (${(error as Error).message.split('\n')[0]})`);
    }
  }
  return null;
}

/** One record in the decision log. */
export interface AdrEntry {
  number: number;
  file: string;
  title: string;
  status: string;
  date: string;
}

/**
 * The decisions folder's README.md index.
 * @example renderIndex([{ number: 1, file: '0001-x.md', title: 'X', status: 'accepted', date: '2025-01-01' }])
 */
export function renderIndex(entries: readonly AdrEntry[]): string {
  const rows = [...entries].sort((a, b) => a.number - b.number).map((e) => [`[${pad(e.number)}](${e.file})`, e.title, e.status, e.date]);
  return `# Decision log

Architecture decision records (MADR 4.0), oldest first. This index is written by \`archbench adr index\` (and by every \`archbench adr\` and \`archbench decide\` command); edit the records, not this table.

${rows.length ? table(['ADR', 'Decision', 'Status', 'Date'], rows) : '_No decisions recorded yet._'}
`;
}
