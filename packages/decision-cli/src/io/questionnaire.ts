import { PassThrough } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { input, select } from '@inquirer/prompts';
import { InputError } from '../core/errors';
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
  // Decimal digits only: Number() would also take 0x10 (16), 0b11, 1e3 and Infinity.
  const n = /^-?(\d+(\.\d*)?|\.\d+)$/.test(v) ? Number(v) : NaN;
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

type Ctx = { input: NodeJS.ReadableStream; output?: NodeJS.WritableStream; clearPromptOnDone: boolean; signal: AbortSignal };

const ENTER = /\r\n|\r|\n/;
const CTRL_D = '\x04';
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Reads the questionnaire's input once for the whole session and hands it to one prompt at a
 * time, a line (up to and including Enter) at a time. @inquirer/prompts opens a readline per
 * prompt, and a readline takes everything already buffered, so answers piped in one go (`yes '' |
 * archbench decide --interactive`) went to the first prompt and were lost with it. When the input
 * ends (end of a pipe, or Ctrl+D) the pending prompt is aborted, so nothing waits for ever.
 */
class SessionInput {
  private buffer = '';
  private ended = false;
  private readonly decoder = new StringDecoder('utf8');
  private wake: (() => void) | undefined;
  private readonly wasRaw: boolean | undefined;
  private readonly tty: boolean;
  private readonly onData = (chunk: Buffer | string) => this.push(typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
  private readonly onEnd = () => {
    this.push(this.decoder.end());
    this.ended = true;
    this.notify();
  };

  constructor(
    private readonly source: NodeJS.ReadableStream & { isTTY?: boolean; isRaw?: boolean; setRawMode?: (mode: boolean) => unknown },
    private readonly output: NodeJS.WritableStream | undefined,
  ) {
    this.tty = source.isTTY === true;
    // A terminal sends keys as typed (raw mode, as each prompt would set it); Ctrl+D arrives as a key.
    if (source.isTTY && typeof source.setRawMode === 'function') {
      this.wasRaw = source.isRaw;
      source.setRawMode(true);
    }
    source.on('data', this.onData);
    source.on('end', this.onEnd);
    source.resume();
  }

  /** Stops reading (the process can exit; a terminal leaves raw mode). */
  close(): void {
    this.source.removeListener('data', this.onData);
    this.source.removeListener('end', this.onEnd);
    this.source.pause();
    if (this.wasRaw !== undefined) this.source.setRawMode?.(this.wasRaw);
  }

  /**
   * Runs one prompt on a stream of its own, fed from the session's input.
   * @throws InputError naming `where` when the input ends before the prompt is answered.
   */
  async ask<T>(where: string, prompt: (ctx: Ctx) => Promise<T>): Promise<T> {
    const stream = new PassThrough();
    const abort = new AbortController();
    let settled = false;
    const answered = prompt({ input: stream, output: this.output, clearPromptOnDone: false, signal: abort.signal });
    const done = answered.then(
      () => undefined,
      () => undefined,
    );
    void done.then(() => (settled = true));
    void this.feed(stream, abort, () => settled, done);
    try {
      return await answered;
    } catch (error) {
      if (abort.signal.aborted) throw new InputError(`input ended ${where}, before the questionnaire was complete; nothing written`);
      throw error;
    } finally {
      settled = true;
      this.notify();
    }
  }

  private push(text: string): void {
    if (!text) return;
    this.buffer += text;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** The next piece to type: up to and including the first Enter (\r\n as one, typed as \r), else up to Ctrl+D or all there is. */
  private take(): string {
    const ctrlD = this.buffer.indexOf(CTRL_D);
    const match = ENTER.exec(this.buffer);
    if (match && (ctrlD < 0 || match.index < ctrlD)) {
      const piece = `${this.buffer.slice(0, match.index)}\r`;
      this.buffer = this.buffer.slice(match.index + match[0].length);
      return piece;
    }
    const end = ctrlD < 0 ? this.buffer.length : ctrlD;
    const piece = this.buffer.slice(0, end);
    this.buffer = this.buffer.slice(end);
    return piece;
  }

  private async feed(stream: PassThrough, abort: AbortController, isSettled: () => boolean, done: Promise<unknown>): Promise<void> {
    let partLine = false; // typed without Enter yet
    let refused = false; // an Enter that left the prompt waiting: the answer was refused
    while (!isSettled()) {
      if (this.buffer.startsWith(CTRL_D) || (this.buffer === '' && this.ended && !partLine)) {
        // Ctrl+D, or the end of the input: the prompt cannot be answered any more.
        this.buffer = '';
        this.ended = true;
        abort.abort();
        return;
      }
      let piece: string;
      if (this.buffer === '' && this.ended)
        piece = '\r'; // a last line without a newline (`printf 'x'`) is still an answer
      else if (this.buffer === '') {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      } else piece = this.take();
      // A pipe's next line replaces a refused one (Ctrl+U clears the line), as a typist would; keys typed at a terminal edit it.
      stream.write(refused && !partLine && !this.tty ? `\x15${piece}` : piece);
      partLine = !piece.endsWith('\r');
      // Let the prompt take the answer (or show why not and wait again) before typing the next line.
      if (!partLine) {
        await Promise.race([done, nextTurn().then(nextTurn).then(nextTurn)]);
        refused = true;
      }
    }
  }
}

async function askStep(step: Step, answers: Answers, n: number, session: SessionInput, canGoBack: boolean): Promise<unknown> {
  const progress = `[question ${n} of ${STEPS.length}]`;
  const where = `at question ${n} of ${STEPS.length}`;
  const back = canGoBack ? ' ("b" goes back)' : '';
  if (step.kind === 'text') {
    const value = await session.ask(where, (ctx) =>
      input(
        {
          message: `${progress} ${step.message}${back}`,
          default: textValue(answers, step.key) || undefined,
          required: !step.optional,
        },
        ctx,
      ),
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
    return session.ask(where, (ctx) => select({ message: `${progress} ${q.message}`, choices, default: current ?? UNKNOWN, pageSize: 8 }, ctx));
  }
  const value = await session.ask(where, (ctx) =>
    input(
      {
        message: numberMessage(q, progress, canGoBack),
        default: current === undefined ? (q.optional ? '?' : undefined) : String(current === UNKNOWN ? '?' : current),
        required: true,
        validate: (raw) => checkNumber(q, raw, answers, canGoBack),
      },
      ctx,
    ),
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

const TEXT_LABELS: Record<Extract<Step, { kind: 'text' }>['key'], string> = {
  name: 'Deciding for',
  problem: 'Problem',
  decisionMakers: 'Decision makers',
  consulted: 'Consulted',
  informed: 'Informed',
};

/** A number question's prompt: its help (without the full stop) and what else may be typed. */
export function numberMessage(q: Question, progress: string, canGoBack: boolean): string {
  return `${progress} ${q.message} (${q.help.replace(/\.$/, '')}; "?" if unknown${canGoBack ? ', "b" goes back' : ''})`;
}

/** Step n's line (1-based, the number it was asked under: "question n of 27"), for the review and "Which answer?". */
function stepLine(step: Step, n: number, answers?: Answers): string {
  const number = `${String(n).padStart(2)}.`;
  if (step.kind === 'text') return answers ? `${number} ${TEXT_LABELS[step.key]}: ${textValue(answers, step.key) || '(none)'}` : `${number} ${step.message}`;
  return answers ? `${number} ${step.q.message} ${answerLabel(step.q.path, getAnswer(answers, step.q.path))}` : `${number} ${step.q.message}`;
}

/** The review screen: every answer under the number it was asked as. */
export function reviewLines(answers: Answers): string {
  const lines = ['', '── Review your answers ──', ...STEPS.map((step, i) => `  ${stepLine(step, i + 1, answers)}`)];
  return `${lines.join('\n')}\n\n`;
}

/**
 * Asks the questionnaire one question at a time ("question N of M"; "b" or the Back choice returns
 * to the previous one; "Don't know" / "?" answers unknown), then shows a review screen where any
 * answer can be changed before the decision is written. Returns null when cancelled at the review.
 * Ctrl+C rejects with @inquirer's ExitPromptError, which the CLI turns into exit code 130; input that
 * ends first (end of a pipe, Ctrl+D) rejects with an InputError naming the question (exit code 2).
 * The input is read line by line for the whole session, so answers piped in one go all count.
 * @example const answers = await runQuestionnaire({ output: process.stderr });
 */
export async function runQuestionnaire(options: QuestionnaireOptions = {}): Promise<Answers | null> {
  const out = options.output ?? process.stdout;
  const answers: Answers = structuredClone(options.defaults ?? DEFAULT_ANSWERS);
  if (options.models?.length) {
    out.write('archbench weighs four ways to build the system:\n');
    for (const m of options.models) out.write(`  • ${m.title}: ${m.summary}\n`);
    out.write(`Answer ${STEPS.length} questions; any can be answered "don't know".\n\n`);
  }
  const session = new SessionInput(options.input ?? process.stdin, options.output);
  try {
    return await ask(session, answers, out);
  } finally {
    session.close();
  }
}

async function ask(session: SessionInput, initial: Answers, out: NodeJS.WritableStream): Promise<Answers | null> {
  let answers = initial;
  const total = STEPS.length;
  let i = 0;
  let group = '';
  while (i < total) {
    const step = STEPS[i]!;
    if (step.kind === 'question' && step.q.group !== group) {
      group = step.q.group;
      out.write(`\n── ${group} ──\n`);
    }
    const value = await askStep(step, answers, i + 1, session, i > 0);
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
    const action = await session.ask('at the review', (ctx) =>
      select(
        {
          message: 'Write the decision with these answers?',
          choices: [
            { value: 'write', name: 'Yes, score and write the decision' },
            { value: 'change', name: 'Change an answer' },
            { value: 'cancel', name: 'Cancel without writing anything' },
          ],
        },
        ctx,
      ),
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
    const which = await session.ask('at the review', (ctx) =>
      select(
        { message: 'Which answer? (the numbers of the review)', choices: STEPS.map((s, n) => ({ value: n, name: stepLine(s, n + 1) })), pageSize: 10 },
        ctx,
      ),
    );
    const step = STEPS[which]!;
    const value = await askStep(step, answers, which + 1, session, false);
    answers = apply(step, answers, value);
  }
}
