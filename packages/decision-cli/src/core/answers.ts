import { z } from 'zod';
import { InputError } from './errors';

/** Version of the answers file format written today; version-1 files are still read unchanged. */
export const ANSWERS_VERSION = 2;

/** Any answer may be `unknown`: it is scored from the model's prior and listed as an assumption. */
export const UNKNOWN = 'unknown';

// Enum values are listed in ordinal order (least to most): the sensitivity analysis counts
// "steps" along this order, so keep it meaningful when adding values.
const OnCall = z.enum(['none', 'shared-rotation', 'per-team']);
const PlatformMaturity = z.enum(['none', 'basic', 'mature']);
const Consistency = z.enum(['strong', 'mixed', 'eventual']);
const Interaction = z.enum(['request-response', 'mixed', 'event-driven']);
const Burstiness = z.enum(['steady', 'daily-peaks', 'spiky', 'mostly-idle']);
const ScalingProfile = z.enum(['uniform', 'uneven']);
const ReleaseFrequency = z.enum(['monthly', 'weekly', 'daily', 'on-demand']);
const IndependentReleases = z.enum(['none', 'some', 'most']);
const Kubernetes = z.enum(['none', 'learning', 'production']);
const Tracing = z.enum(['none', 'logs-metrics', 'distributed']);
const CostSensitivity = z.enum(['low', 'medium', 'high']);
const TimeToMarket = z.enum(['relaxed', 'normal', 'urgent']);
const CurrentArchitecture = z.enum(['none', 'monolith', 'microservices', 'serverless']);
const Broker = z.enum(['none', 'yes']);
const Pain = z.enum(['none', 'deploy-coupling', 'transaction-timeouts', 'tracing-cost', 'scaling-cost']);

const people = z.array(z.string().min(1)).describe('Names or roles');

// Upper bounds keep every figure finite and physically plausible (`1e308` rps is a typo, not a
// load profile); the numbers are far above anything one order-processing system serves.
const MAX_RPS = 10_000_000;
const orUnknown = <T extends z.ZodType>(schema: T) => z.union([schema, z.literal(UNKNOWN)]);
const whole = (max: number) => orUnknown(z.number().int().min(1).max(max));
const rate = () => orUnknown(z.number().positive().max(MAX_RPS));

export const AnswersSchema = z
  .object({
    version: z
      .union([z.literal(1), z.literal(ANSWERS_VERSION)])
      .describe('Answers file format version (1 or 2; 2 adds `today`, `load.busyHoursPerDay` and `unknown`)'),
    project: z
      .object({
        name: z.string().min(1).describe('What is being built, used in the ADR title'),
        problem: z.string().min(1).optional().describe('One or two sentences on the problem, used in the ADR context'),
      })
      .strict()
      .optional(),
    people: z
      .object({
        decisionMakers: people.optional(),
        consulted: people.optional(),
        informed: people.optional(),
      })
      .strict()
      .optional()
      .describe('ADR front matter: who decides, who is consulted, who is informed'),
    team: z
      .object({
        teams: whole(1000).describe('Teams that will build and run the system'),
        engineers: whole(100000).describe('Engineers in those teams'),
        onCall: orUnknown(OnCall).describe('none; one shared-rotation; or per-team on-call'),
        platformMaturity: orUnknown(PlatformMaturity).describe('Self-service deploys, pipelines, observability: none, basic or mature'),
      })
      .strict(),
    domain: z
      .object({
        boundedContexts: whole(500).describe('Bounded contexts (catalog, orders, payments, ...)'),
        crossContextConsistency: orUnknown(Consistency).describe('Must changes across contexts commit together (strong) or may they converge (eventual)?'),
        interaction: orUnknown(Interaction).describe('Mostly synchronous request-response, event-driven, or mixed'),
      })
      .strict(),
    load: z
      .object({
        expectedRps: rate().describe('Requests per second at the public API in a normal busy hour'),
        peakRps: rate().describe('Requests per second at the highest peak you must serve'),
        burstiness: orUnknown(Burstiness).describe('steady, daily-peaks, spiky, or mostly-idle (idle most of the time, with bursts)'),
        scalingProfile: orUnknown(ScalingProfile).describe('Do some parts need far more capacity than others (uneven)?'),
        p95BudgetMs: orUnknown(z.number().positive().max(600_000)).describe('p95 latency budget of a public request, milliseconds'),
        busyHoursPerDay: orUnknown(z.number().min(0).max(24))
          .optional()
          .describe('Hours a day at about the expected rate (the rest near idle); optional, derived from burstiness when absent'),
      })
      .strict(),
    change: z
      .object({
        releaseFrequency: orUnknown(ReleaseFrequency).describe('How often you release to production'),
        independentReleases: orUnknown(IndependentReleases).describe('How many parts must release independently of the others'),
      })
      .strict(),
    operations: z
      .object({
        kubernetes: orUnknown(Kubernetes).describe('Kubernetes experience: none, learning, or production'),
        tracing: orUnknown(Tracing).describe('Observability today: none, logs-metrics, or distributed tracing'),
      })
      .strict(),
    cost: z
      .object({
        sensitivity: orUnknown(CostSensitivity).describe('How much running cost weighs in the decision'),
      })
      .strict(),
    timeToMarket: orUnknown(TimeToMarket).describe('relaxed, normal, or urgent (an MVP that must ship soon)'),
    today: z
      .object({
        architecture: orUnknown(CurrentArchitecture).optional().describe('What runs today: none (greenfield), monolith, microservices or serverless'),
        broker: orUnknown(Broker).optional().describe('Is a message broker (RabbitMQ, Kafka, SQS, ...) already in production: none or yes'),
        pain: orUnknown(Pain)
          .optional()
          .describe('The pain that triggered this decision: none, deploy-coupling, transaction-timeouts, tracing-cost or scaling-cost'),
      })
      .strict()
      .optional()
      .describe('Where you stand today (optional; missing fields count as unknown)'),
  })
  .strict()
  .superRefine((a, ctx) => {
    // Coherence across fields; each rule only applies when both answers are known.
    const { teams, engineers } = a.team;
    if (typeof teams === 'number' && typeof engineers === 'number' && teams > engineers) {
      ctx.addIssue({
        code: 'custom',
        path: ['team', 'teams'],
        message: `${teams} teams cannot be made of ${engineers} engineers (teams must be at most engineers)`,
        input: teams,
      });
    }
    const { expectedRps, peakRps } = a.load;
    if (typeof expectedRps === 'number' && typeof peakRps === 'number' && expectedRps <= MAX_RPS && peakRps < expectedRps) {
      ctx.addIssue({ code: 'custom', path: ['load', 'peakRps'], message: 'must be at least expectedRps', input: peakRps });
    }
  });

/** A complete, validated set of questionnaire answers. */
export type Answers = z.infer<typeof AnswersSchema>;

/**
 * Answers a small order-processing team would typically give; the questionnaire's defaults and
 * the answers template start from these.
 * @example const answers = { ...DEFAULT_ANSWERS, team: { ...DEFAULT_ANSWERS.team, teams: 4 } };
 */
export const DEFAULT_ANSWERS: Answers = {
  version: ANSWERS_VERSION,
  project: { name: 'order-processing system' },
  team: { teams: 2, engineers: 10, onCall: 'shared-rotation', platformMaturity: 'basic' },
  domain: { boundedContexts: 4, crossContextConsistency: 'mixed', interaction: 'request-response' },
  load: { expectedRps: 50, peakRps: 200, burstiness: 'daily-peaks', scalingProfile: 'uniform', p95BudgetMs: 300 },
  change: { releaseFrequency: 'weekly', independentReleases: 'none' },
  operations: { kubernetes: 'none', tracing: 'logs-metrics' },
  cost: { sensitivity: 'medium' },
  timeToMarket: 'normal',
  today: { architecture: 'none', broker: 'none', pain: 'none' },
};

/** JSON Schema (draft 2020-12) of the answers file; committed as schema/answers.schema.json. */
export function answersJsonSchema(): Record<string, unknown> {
  return { title: 'archbench decision answers', ...z.toJSONSchema(AnswersSchema, { target: 'draft-2020-12', io: 'input' }) };
}

type AnySchema = z.core.$ZodType;

/** The schema at a path (through objects, optionals and defaults), to name allowed keys and values. */
function schemaAt(path: readonly PropertyKey[]): AnySchema | undefined {
  let current: AnySchema | undefined = AnswersSchema;
  for (const key of path) {
    current = unwrap(current);
    if (!(current instanceof z.ZodObject)) return undefined;
    current = (current.shape as Record<string, AnySchema>)[String(key)];
  }
  return unwrap(current);
}

function unwrap(schema: AnySchema | undefined): AnySchema | undefined {
  let current = schema;
  for (;;) {
    if (current instanceof z.ZodOptional || current instanceof z.ZodDefault || current instanceof z.ZodNullable) current = current.unwrap() as AnySchema;
    else if (current instanceof z.ZodPipe) current = current.in as AnySchema;
    else if (current instanceof z.ZodUnion && isUnknownUnion(current)) current = knownPart(current);
    else return current;
  }
}

// `orUnknown(x)` unions: the part that is not the `unknown` literal.
function isUnknownUnion(schema: z.ZodUnion): boolean {
  return schema.options.some((o) => o instanceof z.ZodLiteral && o.values.has(UNKNOWN)) && schema.options.length === 2;
}
function knownPart(schema: z.ZodUnion): AnySchema {
  return schema.options.find((o) => !(o instanceof z.ZodLiteral && o.values.has(UNKNOWN))) as AnySchema;
}

/** Whether the field at a path accepts `unknown`. */
function acceptsUnknown(path: readonly PropertyKey[]): boolean {
  let current: AnySchema | undefined = AnswersSchema;
  for (const key of path) {
    current = unwrap(current);
    if (!(current instanceof z.ZodObject)) return false;
    current = (current.shape as Record<string, AnySchema>)[String(key)];
  }
  while (current instanceof z.ZodOptional) current = current.unwrap() as AnySchema;
  return current instanceof z.ZodUnion && isUnknownUnion(current);
}

function describeAllowed(schema: AnySchema | undefined): string {
  if (schema instanceof z.ZodEnum) return `one of ${(schema.options as string[]).join(', ')}`;
  if (schema instanceof z.ZodLiteral) return `${JSON.stringify([...schema.values][0])}`;
  if (schema instanceof z.ZodUnion) return schema.options.map((o) => describeAllowed(o as AnySchema)).join(' or ');
  if (schema instanceof z.ZodNumber) {
    const parts = [schema.format === 'safeint' ? 'a whole number' : 'a number'];
    // A bound the schema itself refuses is exclusive (`.positive()`: above 0, not 0).
    const bound = (value: number | null, inclusive: string, exclusive: string) =>
      value !== null && Number.isFinite(value) ? `${schema.safeParse(value).success ? inclusive : exclusive} ${value}` : null;
    const range = [bound(schema.minValue, '>=', '>'), bound(schema.maxValue, '<=', '<')].filter((x): x is string => x !== null);
    if (range.length) parts.push(range.join(' and '));
    return parts.join(' ');
  }
  if (schema instanceof z.ZodString) return 'a non-empty string';
  if (schema instanceof z.ZodObject) return `a mapping with fields ${Object.keys(schema.shape).join(', ')}`;
  if (schema instanceof z.ZodArray) return 'a list of strings';
  return 'a valid value';
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  // JSON has no Infinity or NaN (it writes null): YAML's .inf or 1e309 would read "(got null)".
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return JSON.stringify(value);
}

/**
 * Turns zod issues into messages that name the field and what it accepts, e.g.
 * `team.onCall: must be one of none, shared-rotation, per-team (got "always")`.
 */
function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const field = issue.path.length ? issue.path.join('.') : '(top level)';
    if (issue.code === 'unrecognized_keys') {
      const parent = schemaAt(issue.path);
      const allowed = parent instanceof z.ZodObject ? Object.keys(parent.shape).join(', ') : '';
      return issue.keys
        .map((key) => `${[...issue.path, key].join('.')}: unknown field; allowed fields${issue.path.length ? ` in ${field}` : ''}: ${allowed}`)
        .join('\n');
    }
    const schema = schemaAt(issue.path);
    const allowed = `${describeAllowed(schema)}${acceptsUnknown(issue.path) ? ', or unknown' : ''}`;
    if (issue.code === 'custom') return `${field}: ${issue.message}`;
    if (issue.input === undefined) return `${field}: is required; expected ${allowed}`;
    return `${field}: must be ${allowed} (got ${show(issue.input)})`;
  });
}

/**
 * Validates parsed answers (from YAML or JSON); throws InputError listing every problem.
 * @example const answers = parseAnswers(YAML.parse(text), 'answers.yaml');
 */
export function parseAnswers(data: unknown, source = 'answers'): Answers {
  if (data === null || data === undefined) throw new InputError(`${source}: the answers file is empty`);
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new InputError(`${source}: expected a mapping of answers at the top level, got ${Array.isArray(data) ? 'a list' : typeof data}`);
  }
  // A comparison.json given as answers would list thirty unrelated problems: name the mix-up instead.
  if ('schemaVersion' in data && 'topologies' in data)
    throw new InputError(`${source}: a comparison file (written by pnpm compare), not an answers file: pass it as --comparison`);
  const result = AnswersSchema.safeParse(data, { reportInput: true });
  if (!result.success) {
    const lines = formatIssues(result.error.issues);
    throw new InputError(`${source}: invalid answers\n${lines.map((l) => `  - ${l.replace(/\n/g, '\n  - ')}`).join('\n')}`);
  }
  return result.data;
}

/** A dotted path such as `team.teams`; the fields the model and sensitivity analysis can read. */
export type AnswerPath = string;

/**
 * Reads a dotted path from answers.
 * @example getAnswer(answers, 'team.teams') // 2
 */
export function getAnswer(answers: Answers, path: AnswerPath): unknown {
  let current: unknown = answers;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/**
 * Returns a copy of answers with one dotted path replaced.
 * @example withAnswer(answers, 'change.independentReleases', 'most')
 */
export function withAnswer(answers: Answers, path: AnswerPath, value: unknown): Answers {
  const keys = path.split('.');
  const copy = structuredClone(answers) as unknown as Record<string, unknown>;
  let current = copy;
  for (const key of keys.slice(0, -1)) {
    if (current[key] === undefined || current[key] === null) current[key] = {};
    current = current[key] as Record<string, unknown>;
  }
  current[keys[keys.length - 1] as string] = value;
  return copy as unknown as Answers;
}

/** Whether an answer is missing or `unknown` (scored from the model's prior). */
export function isUnknown(value: unknown): boolean {
  return value === undefined || value === null || value === UNKNOWN;
}

/**
 * A numeric answer, or null when it is unknown.
 * @example knownNumber(answers, 'load.expectedRps') // 50
 */
export function knownNumber(answers: Answers, path: AnswerPath): number | null {
  const v = getAnswer(answers, path);
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Every answer path the questionnaire asks, in order (for listing unknowns and diffs). */
export const ANSWER_PATHS: readonly AnswerPath[] = [
  'team.teams',
  'team.engineers',
  'team.onCall',
  'team.platformMaturity',
  'domain.boundedContexts',
  'domain.crossContextConsistency',
  'domain.interaction',
  'load.expectedRps',
  'load.peakRps',
  'load.burstiness',
  'load.scalingProfile',
  'load.p95BudgetMs',
  'load.busyHoursPerDay',
  'change.releaseFrequency',
  'change.independentReleases',
  'operations.kubernetes',
  'operations.tracing',
  'cost.sensitivity',
  'timeToMarket',
  'today.architecture',
  'today.broker',
  'today.pain',
];

/** Allowed values of an enum answer, in ordinal order; undefined for numeric answers. */
export function enumValuesOf(path: AnswerPath): readonly string[] | undefined {
  const schema = schemaAt(path.split('.'));
  return schema instanceof z.ZodEnum ? (schema.options as string[]) : undefined;
}
