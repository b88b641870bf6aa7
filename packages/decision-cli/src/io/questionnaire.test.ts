import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ANSWERS } from '../core/answers';
import { InputError } from '../core/errors';
import { QUESTIONS } from '../core/questions';
import { answersTemplate } from '../core/template';
import { checkNumber, numberMessage, reviewLines, runQuestionnaire } from './questionnaire';

const question = (path: string) => QUESTIONS.find((q) => q.path === path)!;

describe('the questionnaire accepts the numbers the answers schema accepts', () => {
  it('busy hours a day: 0 to 24 (0 = near idle all day), not below or above', () => {
    const q = question('load.busyHoursPerDay');
    expect(checkNumber(q, '0', DEFAULT_ANSWERS)).toBe(true);
    expect(checkNumber(q, '24', DEFAULT_ANSWERS)).toBe(true);
    expect(checkNumber(q, '-1', DEFAULT_ANSWERS)).toBe('Please enter a number of at least 0');
    expect(checkNumber(q, '25', DEFAULT_ANSWERS)).toBe('Please enter at most 24');
    expect(answersTemplate()).toContain(
      'Hours a day at about the expected rate (0-24)? The rest of the day counts as near idle; the monthly cost estimate uses it. Unknown: derived from the traffic shape.\n  # A number from 0 to 24, or unknown. Optional.',
    );
  });

  it('rates and budgets stay above 0, counts at least 1', () => {
    expect(checkNumber(question('load.expectedRps'), '0', DEFAULT_ANSWERS)).toBe('Please enter a number above 0');
    expect(checkNumber(question('load.p95BudgetMs'), '0', DEFAULT_ANSWERS)).toBe('Please enter a number above 0');
    expect(checkNumber(question('team.teams'), '0', DEFAULT_ANSWERS)).toBe('Please enter a number of at least 1');
    expect(checkNumber(question('team.teams'), '?', DEFAULT_ANSWERS)).toBe(true);
  });

  it('takes decimal numbers only (0x10 was read as 16 engineers)', () => {
    for (const raw of ['0x10', '0b11', '1e3', 'Infinity', '+5', '5 5'])
      expect(checkNumber(question('team.engineers'), raw, DEFAULT_ANSWERS), raw).toBe('Please enter a number, "?" if unknown');
    for (const raw of ['16', ' 16 ', '2.5', '.5']) expect(checkNumber(question('load.expectedRps'), raw, DEFAULT_ANSWERS), raw).toBe(true);
  });
});

// eslint-disable-next-line no-control-regex -- stripping terminal escape sequences is the point
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** Runs the questionnaire with everything on stdin written at once (as a pipe delivers a prepared file). */
async function answerAtOnce(text: string, { end = true } = {}) {
  const stdin = new PassThrough();
  let screen = '';
  const stdout = new Writable({
    write(chunk: Buffer, _enc, done) {
      screen += String(chunk);
      done();
    },
  });
  // Each prompt ends the stream it is given (process.stdout ignores that); keep one screen for the session.
  stdout.end = (() => stdout) as typeof stdout.end;
  stdin.write(text);
  if (end) stdin.end();
  const result = await runQuestionnaire({ input: stdin, output: stdout }).then(
    (answers) => ({ answers, error: undefined }),
    (error: unknown) => ({ answers: undefined, error: error as Error }),
  );
  return { ...result, screen: screen.replace(ANSI, '') };
}

describe('answers typed ahead (a pipe delivers them in one go)', () => {
  it('every line answers the next question, a refused one asks again, and the review takes the last', async () => {
    const lines = ['Checkout', 'Orders time out.', 'Ana, Ben', '', 'Ops', '3', '12', ...Array<string>(5).fill(''), '20', '5', '100'];
    const { answers, error, screen } = await answerAtOnce(`${[...lines, ...Array<string>(16).fill('')].join('\n')}\n`);
    expect(error).toBeUndefined();
    expect(screen).toContain('The peak must be at least the expected rate (20 rps)');
    expect(answers).toMatchObject({
      project: { name: 'Checkout', problem: 'Orders time out.' },
      people: { decisionMakers: ['Ana', 'Ben'], consulted: [], informed: ['Ops'] },
      team: { teams: 3, engineers: 12 },
      load: { expectedRps: 20, peakRps: 100 },
    });
  });

  it('CRLF line ends count once, and a last line without a newline is still an answer', async () => {
    // 27 answers and "1" (the first choice: write) at the review, without a last newline.
    const { answers, error } = await answerAtOnce(`${Array<string>(27).fill('').join('\r\n')}\r\n1`);
    expect(error).toBeUndefined();
    expect(answers).toMatchObject({ project: { name: 'order-processing system' }, team: { teams: 2 } });
  });

  it('input that ends before the questionnaire is complete rejects at once with an InputError naming where (no prompt left waiting)', async () => {
    const early = await answerAtOnce('Checkout\n\n');
    expect(early.error).toBeInstanceOf(InputError);
    expect(early.error?.message).toBe('input ended at question 3 of 27, before the questionnaire was complete; nothing written');
    const atReview = await answerAtOnce(`${Array<string>(27).fill('').join('\n')}\n`);
    expect(atReview.error?.message).toBe('input ended at the review, before the questionnaire was complete; nothing written');
    // Ctrl+D (a terminal's end of input) ends it too, whether or not the stream itself ends.
    const ctrlD = await answerAtOnce('Checkout\n\x04', { end: false });
    expect(ctrlD.error?.message).toBe('input ended at question 2 of 27, before the questionnaire was complete; nothing written');
  });
});

describe('numbers and help texts agree between the questions, the review and "Which answer?"', () => {
  it('the help of a number question reads as one sentence before "?" if unknown', () => {
    expect(numberMessage(question('team.teams'), '[question 6 of 27]', true)).toBe(
      '[question 6 of 27] How many teams will build and run the system? (Count teams that would own a part of the system, not individuals; "?" if unknown, "b" goes back)',
    );
  });

  it('the review and the "Which answer?" list number answers as they were asked (1-27), and a number picks that answer', async () => {
    const defaults = Array<string>(27).fill('');
    // At the review: 2 = change an answer; 6 = question 6 (teams), then 4 teams; then write.
    const { answers, error, screen } = await answerAtOnce(`${[...defaults, '2', '6', '\x7f4', ''].join('\n')}\n`);
    expect(error).toBeUndefined();
    expect(answers?.team.teams).toBe(4);
    const review = reviewLines(DEFAULT_ANSWERS);
    expect(review).toContain('   1. Deciding for: order-processing system\n   2. Problem: (none)\n');
    expect(review).toContain('   6. How many teams will build and run the system? 2\n');
    expect(review).toContain(`  ${QUESTIONS.length + 5}. What pain triggered this decision? No particular pain\n`);
    expect(screen).toContain('Which answer? (the numbers of the review)');
    expect(screen).toMatch(/ {2}6\. How many teams will build and run the system\?\n/);
    expect(screen).toContain('[question 6 of 27] How many teams will build and run the system?');
  });
});
