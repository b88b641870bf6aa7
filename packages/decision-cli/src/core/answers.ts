import { z } from 'zod';
import { InputError } from './errors';

/** Version of the answers file format; bump on incompatible changes. */
export const ANSWERS_VERSION = 1;

// Enum values are listed in ordinal order (least to most): the sensitivity analysis counts
// "steps" along this order, so keep it meaningful when adding values.
export const OnCall = z.enum(['none', 'shared-rotation', 'per-team']);
export const PlatformMaturity = z.enum(['none', 'basic', 'mature']);
export const Consistency = z.enum(['strong', 'mixed', 'eventual']);
export const Interaction = z.enum(['request-response', 'mixed', 'event-driven']);
export const Burstiness = z.enum(['steady', 'daily-peaks', 'spiky', 'mostly-idle']);
export const ScalingProfile = z.enum(['uniform', 'uneven']);
export const ReleaseFrequency = z.enum(['monthly', 'weekly', 'daily', 'on-demand']);
export const IndependentReleases = z.enum(['none', 'some', 'most']);
export const Kubernetes = z.enum(['none', 'learning', 'production']);
export const Tracing = z.enum(['none', 'logs-metrics', 'distributed']);
export const CostSensitivity = z.enum(['low', 'medium', 'high']);
export const TimeToMarket = z.enum(['relaxed', 'normal', 'urgent']);

const people = z.array(z.string().min(1)).describe('Names or roles');

export const AnswersSchema = z
  .object({
    version: z.literal(ANSWERS_VERSION).describe('Answers file format version'),
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
        teams: z.number().int().min(1).max(1000).describe('Teams that will build and run the system'),
        engineers: z.number().int().min(1).max(100000).describe('Engineers in those teams'),
        onCall: OnCall.describe('none; one shared-rotation; or per-team on-call'),
        platformMaturity: PlatformMaturity.describe('Self-service deploys, pipelines, observability: none, basic or mature'),
      })
      .strict(),
    domain: z
      .object({
        boundedContexts: z.number().int().min(1).max(500).describe('Bounded contexts (catalog, orders, payments, ...)'),
        crossContextConsistency: Consistency.describe('Must changes across contexts commit together (strong) or may they converge (eventual)?'),
        interaction: Interaction.describe('Mostly synchronous request-response, event-driven, or mixed'),
      })
      .strict(),
    load: z
      .object({
        expectedRps: z.number().positive().describe('Requests per second at the public API in a normal busy hour'),
        peakRps: z.number().positive().describe('Requests per second at the highest peak you must serve'),
        burstiness: Burstiness.describe('steady, daily-peaks, spiky, or mostly-idle (idle most of the time, with bursts)'),
        scalingProfile: ScalingProfile.describe('Do some parts need far more capacity than others (uneven)?'),
        p95BudgetMs: z.number().positive().describe('p95 latency budget of a public request, milliseconds'),
      })
      .strict()
      .refine((load) => load.peakRps >= load.expectedRps, {
        message: 'must be at least expectedRps',
        path: ['peakRps'],
      }),
    change: z
      .object({
        releaseFrequency: ReleaseFrequency.describe('How often you release to production'),
        independentReleases: IndependentReleases.describe('How many parts must release independently of the others'),
      })
      .strict(),
    operations: z
      .object({
        kubernetes: Kubernetes.describe('Kubernetes experience: none, learning, or production'),
        tracing: Tracing.describe('Observability today: none, logs-metrics, or distributed tracing'),
      })
      .strict(),
    cost: z
      .object({
        sensitivity: CostSensitivity.describe('How much running cost weighs in the decision'),
      })
      .strict(),
    timeToMarket: TimeToMarket.describe('relaxed, normal, or urgent (an MVP that must ship soon)'),
  })
  .strict();

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
  while (current instanceof z.ZodOptional || current instanceof z.ZodDefault || current instanceof z.ZodNullable) {
    current = current.unwrap() as AnySchema;
  }
  return current;
}

function describeAllowed(schema: AnySchema | undefined): string {
  if (schema instanceof z.ZodEnum) return `one of ${(schema.options as string[]).join(', ')}`;
  if (schema instanceof z.ZodLiteral) return `${JSON.stringify([...schema.values][0])}`;
  if (schema instanceof z.ZodNumber) {
    const parts = [schema.format === 'safeint' ? 'a whole number' : 'a number'];
    if (schema.minValue !== null && Number.isFinite(schema.minValue)) parts.push(`>= ${schema.minValue}`);
    if (schema.maxValue !== null && Number.isFinite(schema.maxValue)) parts.push(`<= ${schema.maxValue}`);
    return parts.join(' ');
  }
  if (schema instanceof z.ZodString) return 'a non-empty string';
  if (schema instanceof z.ZodObject) return `a mapping with fields ${Object.keys(schema.shape).join(', ')}`;
  if (schema instanceof z.ZodArray) return 'a list of strings';
  return 'a valid value';
}

function show(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
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
    if (issue.input === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_value')) {
      return `${field}: is required; expected ${describeAllowed(schema)}`;
    }
    if (issue.code === 'custom') return `${field}: ${issue.message}`;
    return `${field}: must be ${describeAllowed(schema)} (got ${show(issue.input)})`;
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
  for (const key of keys.slice(0, -1)) current = current[key] as Record<string, unknown>;
  current[keys[keys.length - 1] as string] = value;
  return copy as unknown as Answers;
}

/** Allowed values of an enum answer, in ordinal order; undefined for numeric answers. */
export function enumValuesOf(path: AnswerPath): readonly string[] | undefined {
  const schema = schemaAt(path.split('.'));
  return schema instanceof z.ZodEnum ? (schema.options as string[]) : undefined;
}
