import { input, select } from '@inquirer/prompts';
import { DEFAULT_ANSWERS, getAnswer, parseAnswers, UNKNOWN, withAnswer, type Answers } from '../core/answers';
import { answerLabel, QUESTIONS, type Question } from '../core/questions';

export interface QuestionnaireOptions {
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  /** Start from these answers instead of the defaults. */
  defaults?: Answers;
  /** The options being decided between, explained once before the first question. */
  models?: ReadonlyArray<{ title: string; summary: string }>;
}

/** Allowed numbers: at least `min` for whole numbers (and with `zero`), otherwise above it. */
const LIMITS: Record<string, { min: number; max: number; int: boolean; zero?: boolean }> = {
  'team.teams': { min: 1, max: 1000, int: true },
  'team.engineers': { min: 1, max: 100000, int: true },
  'domain.boundedContexts': { min: 1, max: 500, int: true },
  'load.expectedRps': { min: 0, max: 10_000_000, int: false },
  'load.peakRps': { min: 0, max: 10_000_000, int: false },
  'load.p95BudgetMs': { min: 0, max: 600_000, int: false },
  // 0 is allowed, as in the answers schema: a team busy zero hours a day runs near idle all day.
  'load.busyHoursPerDay': { min: 0, max: 24, int: false, zero: true },
};

/**
 * Checks a typed number answer: true, or the message to show (the prompt asks again).
 * @example checkNumber(question, '0', answers) // true for load.busyHoursPerDay
 */
export function checkNumber(q: Question, raw: string, answers: Answers, canGoBack = false): true | string {
  const limits = LIMITS[q.path] ?? { min: 0, max: Number.MAX_SAFE_INTEGER, int: q.kind === 'int' };
  const inclusive = limits.int || limits.zero === true;
  const v = raw.trim().toLowerCase();
  if (v === '?' || v === UNKNOWN || (canGoBack && v === 'b')) return true;
  const n = Number(v);
  if (v === '' || !Number.isFinite(n)) return 'Please enter a number, "?" if unknown';
  if (limits.int && !Number.isInteger(n)) return 'Please enter a whole number';
  if (inclusive ? n < limits.min : n <= limits.min) return `Please enter a number ${inclusive ? 'of at least' : 'above'} ${limits.min}`;
  if (n > limits.max) return `Please enter at most ${limits.max}`;
  const expected = answers.load.expectedRps;
  if (q.path === 'load.peakRps' && typeof expected === 'number' && n < expected) return `The peak must be at least the expected rate (${expected} rps)`;
  if (q.path === 'team.engineers' && typeof answers.team.teams === 'number' && n < answers.team.teams)
    return `There must be at least one engineer per team (${answers.team.teams} teams)`;
  return true;
}

const BACK = Symbol('back');
type Step =
  | { kind: 'text'; key: 'name' | 'problem' | 'decisionMakers' | 'consulted' | 'informed'; message: string; optional: boolean }
  | { kind: 'question'; q: Question };

const TEXT_STEPS: Step[] = [
  { kind: 'text', key: 'name', message: 'What are you deciding for? (used in the ADR title)', optional: false },
  { kind: 'text', key: 'problem', message: 'The problem in a sentence or two (the ADR context; Enter to skip)', optional: true },
  { kind: 'text', key: 'decisionMakers', message: 'Who decides? (comma-separated names or roles; Enter to skip)', optional: true },
  { kind: 'text', key: 'consulted', message: 'Who is consulted? (comma-separated; Enter to skip)', optional: true },
  { kind: 'text', key: 'informed', message: 'Who is informed? (comma-separated; Enter to skip)', optional: true },
];
const STEPS: Step[] = [...TEXT_STEPS, ...QUESTIONS.map((q) => ({ kind: 'question' as const, q }))];

function textValue(answers: Answers, key: Extract<Step, { kind: 'text' }>['key']): string {
  if (key === 'name') return answers.project?.name ?? '';
  if (key === 'problem') return answers.project?.problem ?? '';
  return (answers.people?.[key] ?? []).join(', ');
}

function setText(answers: Answers, key: Extract<Step, { kind: 'text' }>['key'], value: string): Answers {
  const v = value.trim();
  if (key === 'name') return { ...answers, project: { ...answers.project, name: v } };
  if (key === 'problem') {
    const { problem: _drop, ...rest } = answers.project ?? { name: 'order-processing system' };
    return { ...answers, project: v ? { ...rest, problem: v } : rest };
  }
  const list = v
    ? v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
    : [];
  return { ...answers, people: { ...answers.people, [key]: list } };
}

type Ctx = { input?: NodeJS.ReadableStream; output?: NodeJS.WritableStream; clearPromptOnDone: boolean };

async function askStep(step: Step, answers: Answers, progress: string, ctx: Ctx, canGoBack: boolean): Promise<unknown> {
  const back = canGoBack ? ' ("b" goes back)' : '';
  if (step.kind === 'text') {
    const value = await input(
      {
        message: `${progress} ${step.message}${back}`,
        default: textValue(answers, step.key) || undefined,
        required: !step.optional,
      },
      ctx as Parameters<typeof input>[1],
    );
    return canGoBack && value.trim().toLowerCase() === 'b' ? BACK : value;
  }
  const q = step.q;
  const current = getAnswer(answers, q.path);
  if (q.kind === 'enum') {
    const choices: Array<{ value: string | symbol; name: string; description?: string }> = (q.choices ?? []).map((c) => ({
      value: c.value,
      name: c.name,
      description: `${c.description} ${q.help}`,
    }));
    choices.push({ value: UNKNOWN, name: "Don't know (scored from the model's prior, listed as an assumption)" });
    if (canGoBack) choices.push({ value: BACK, name: '← Back to the previous question' });
    return select({ message: `${progress} ${q.message}`, choices, default: current ?? UNKNOWN, pageSize: 8 }, ctx as Parameters<typeof select>[1]);
  }
  const value = await input(
    {
      message: `${progress} ${q.message} (${q.help}; "?" if unknown${canGoBack ? ', "b" goes back' : ''})`,
      default: current === undefined ? (q.optional ? '?' : undefined) : String(current === UNKNOWN ? '?' : current),
      required: true,
      validate: (raw) => checkNumber(q, raw, answers, canGoBack),
    },
    ctx as Parameters<typeof input>[1],
  );
  const v = value.trim().toLowerCase();
  if (canGoBack && v === 'b') return BACK;
  if (v === '?' || v === UNKNOWN) return UNKNOWN;
  return Number(v);
}

function apply(step: Step, answers: Answers, value: unknown): Answers {
  if (step.kind === 'text') return setText(answers, step.key, String(value));
  return withAnswer(answers, step.q.path, value);
}

function reviewLines(answers: Answers): string {
  const lines = ['', '── Review your answers ──', `  Deciding for: ${answers.project?.name ?? ''}`];
  if (answers.project?.problem) lines.push(`  Problem: ${answers.project.problem}`);
  for (const key of ['decisionMakers', 'consulted', 'informed'] as const)
    if (answers.people?.[key]?.length) lines.push(`  ${key}: ${answers.people[key]!.join(', ')}`);
  QUESTIONS.forEach((q, i) => lines.push(`  ${String(i + 1).padStart(2)}. ${q.message} ${answerLabel(q.path, getAnswer(answers, q.path))}`));
  return `${lines.join('\n')}\n\n`;
}

/**
 * Asks the questionnaire one question at a time ("question N of M"; "b" or the Back choice returns
 * to the previous one; "Don't know" / "?" answers unknown), then shows a review screen where any
 * answer can be changed before the decision is written. Returns null when cancelled at the review.
 * Ctrl+C rejects with @inquirer's ExitPromptError, which the CLI turns into exit code 130.
 * @example const answers = await runQuestionnaire({ output: process.stderr });
 */
export async function runQuestionnaire(options: QuestionnaireOptions = {}): Promise<Answers | null> {
  const out = options.output ?? process.stdout;
  let answers: Answers = structuredClone(options.defaults ?? DEFAULT_ANSWERS);
  const ctx: Ctx = { input: options.input, output: options.output, clearPromptOnDone: false };
  if (options.models?.length) {
    out.write('archbench weighs four ways to build the system:\n');
    for (const m of options.models) out.write(`  • ${m.title}: ${m.summary}\n`);
    out.write(`Answer ${STEPS.length} questions; any can be answered "don't know".\n\n`);
  }
  const total = STEPS.length;
  let i = 0;
  let group = '';
  while (i < total) {
    const step = STEPS[i]!;
    if (step.kind === 'question' && step.q.group !== group) {
      group = step.q.group;
      out.write(`\n── ${group} ──\n`);
    }
    const value = await askStep(step, answers, `[question ${i + 1} of ${total}]`, ctx, i > 0);
    if (value === BACK) {
      i -= 1;
      group = '';
      continue;
    }
    answers = apply(step, answers, value);
    i += 1;
  }
  for (;;) {
    out.write(reviewLines(answers));
    const action = await select(
      {
        message: 'Write the decision with these answers?',
        choices: [
          { value: 'write', name: 'Yes, score and write the decision' },
          { value: 'change', name: 'Change an answer' },
          { value: 'cancel', name: 'Cancel without writing anything' },
        ],
      },
      ctx as Parameters<typeof select>[1],
    );
    if (action === 'cancel') return null;
    if (action === 'write') {
      try {
        return parseAnswers(answers, 'questionnaire');
      } catch (error) {
        out.write(`${(error as Error).message}\nPlease change the answers above.\n`);
        continue;
      }
    }
    const which = await select(
      { message: 'Which answer?', choices: STEPS.map((s, n) => ({ value: n, name: s.kind === 'text' ? s.message : s.q.message })), pageSize: 10 },
      ctx as Parameters<typeof select>[1],
    );
    const step = STEPS[which]!;
    const value = await askStep(step, answers, `[question ${which + 1} of ${total}]`, ctx, false);
    answers = apply(step, answers, value);
  }
}
