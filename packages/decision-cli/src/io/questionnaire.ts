import { input, number, select } from '@inquirer/prompts';
import { DEFAULT_ANSWERS, getAnswer, parseAnswers, withAnswer, type Answers } from '../core/answers';
import { QUESTION_GROUPS, QUESTIONS, type Question } from '../core/questions';

export interface QuestionnaireOptions {
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  /** Start from these answers instead of the defaults. */
  defaults?: Answers;
}

const LIMITS: Record<string, { min: number; max?: number }> = {
  'team.teams': { min: 1, max: 1000 },
  'team.engineers': { min: 1, max: 100000 },
  'domain.boundedContexts': { min: 1, max: 500 },
};

async function ask(q: Question, current: unknown, answers: Answers, ctx: { input?: NodeJS.ReadableStream; output?: NodeJS.WritableStream }): Promise<unknown> {
  const context = { input: ctx.input, output: ctx.output, clearPromptOnDone: false } as Parameters<typeof select>[1];
  if (q.kind === 'enum') {
    return select(
      {
        message: q.message,
        choices: (q.choices ?? []).map((c) => ({ value: c.value, name: c.name, description: `${c.description} ${q.help}` })),
        default: current,
        pageSize: 6,
      },
      context,
    );
  }
  const limits = LIMITS[q.path] ?? { min: 0 };
  const value = await number(
    {
      message: `${q.message} (${q.help})`,
      default: typeof current === 'number' ? current : undefined,
      required: true,
      min: q.kind === 'int' ? limits.min : undefined,
      max: limits.max,
      step: q.kind === 'int' ? 1 : 'any',
      validate: (v) => {
        if (v === undefined) return 'Please enter a number';
        if (q.kind === 'number' && v <= 0) return 'Please enter a number above 0';
        if (q.path === 'load.peakRps' && v < answers.load.expectedRps) return `The peak must be at least the expected rate (${answers.load.expectedRps} rps)`;
        return true;
      },
    },
    context,
  );
  return value;
}

/**
 * Asks the questionnaire group by group and returns validated answers. Ctrl+C rejects with
 * @inquirer's ExitPromptError, which the CLI turns into exit code 130.
 * @example const answers = await runQuestionnaire({ output: process.stderr });
 */
export async function runQuestionnaire(options: QuestionnaireOptions = {}): Promise<Answers> {
  const out = options.output ?? process.stdout;
  let answers = structuredClone(options.defaults ?? DEFAULT_ANSWERS);
  const ctx = { input: options.input, output: options.output };
  const name = await input(
    { message: 'What are you deciding for? (used in the ADR title)', default: answers.project?.name ?? 'order-processing system', required: true },
    { input: options.input, output: options.output, clearPromptOnDone: false } as Parameters<typeof input>[1],
  );
  answers = { ...answers, project: { ...answers.project, name: name.trim() } };
  for (const group of QUESTION_GROUPS) {
    out.write(`\n── ${group} ──\n`);
    for (const q of QUESTIONS.filter((x) => x.group === group)) {
      let current = getAnswer(answers, q.path);
      // Keep the suggested peak valid when the expected rate was raised above it.
      if (q.path === 'load.peakRps' && typeof current === 'number' && current < answers.load.expectedRps) current = answers.load.expectedRps;
      const value = await ask(q, current, answers, ctx);
      answers = withAnswer(answers, q.path, value);
    }
  }
  return parseAnswers(answers, 'questionnaire');
}
