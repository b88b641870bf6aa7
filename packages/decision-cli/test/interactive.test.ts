import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { parseAnswers } from '../src/core/answers';
import { BIN, tempDir } from './helpers';

// The real CLI in a child process, its stdin a pipe: @inquirer/prompts reads keypresses from any
// readable stream, so no pseudo-terminal is needed. Each step waits until its prompt is on screen
// before typing, which keeps the test independent of machine speed.
const TSX = import.meta.resolve('tsx');
// eslint-disable-next-line no-control-regex -- stripping terminal escape sequences is the point
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;
const ENTER = '\r';
const FIXTURE = fileURLToPath(new URL('fixtures/measured-comparison.json', import.meta.url));

class Session {
  output = '';
  private consumed = 0;
  readonly exited: Promise<number | null>;
  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.on('data', (d) => (this.output += String(d)));
    child.stderr.on('data', (d) => (this.output += String(d)));
    this.exited = new Promise((resolve) => child.on('close', resolve));
  }
  get screen() {
    return this.output.replace(ANSI, '');
  }
  /** Waits for text to appear after everything already answered. */
  async waitFor(text: string, timeoutMs = 30_000): Promise<void> {
    const start = Date.now();
    for (;;) {
      const at = this.screen.indexOf(text, this.consumed);
      if (at >= 0) {
        this.consumed = at + text.length;
        return;
      }
      if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${JSON.stringify(text)}; screen so far:\n${this.screen.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  type(keys: string) {
    this.child.stdin.write(keys);
  }
  async answer(prompt: string, keys: string) {
    await this.waitFor(prompt);
    this.type(keys);
  }
}

function start(args: string[], cwd: string): Session {
  return new Session(spawn(process.execPath, ['--import', TSX, BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' } }));
}

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir()));
afterEach(() => tmp.cleanup());

describe('interactive questionnaire (child process, keystrokes piped to stdin)', () => {
  it('explains the options, counts questions, goes back, reviews, and writes the ADR with the answers beside it', async () => {
    const s = start(['decide', '--interactive', '--date', '2025-05-01'], tmp.dir);
    await s.waitFor('archbench weighs four ways to build the system:');
    await s.waitFor('Serverless: Managed functions');
    await s.answer('[question 1 of 27] What are you deciding for?', `Checkout MVP${ENTER}`);
    await s.answer('[question 2 of 27] The problem in a sentence or two', `Orders time out at peak.${ENTER}`);
    await s.answer('[question 3 of 27] Who decides?', `Ana, Ben${ENTER}`);
    await s.answer('[question 4 of 27] Who is consulted?', ENTER);
    await s.answer('[question 5 of 27] Who is informed?', `Ops${ENTER}`);
    await s.waitFor('── Team and organisation ──');
    await s.answer('[question 6 of 27] How many teams will build and run the system?', `\x7f1${ENTER}`);
    // Go back from engineers to teams, change the answer, then carry on.
    await s.answer('[question 7 of 27] How many engineers are in those teams?', `\x7f\x7fb${ENTER}`);
    await s.answer('[question 6 of 27] How many teams will build and run the system?', `\x7f1${ENTER}`);
    await s.answer('[question 7 of 27] How many engineers are in those teams?', `\x7f\x7f4${ENTER}`);
    await s.answer('Who is on call when production breaks?', `1${ENTER}`); // 1st choice: none
    await s.answer('How mature is your delivery platform?', `1${ENTER}`); // none
    await s.answer('How many bounded contexts does the domain have?', `\x7f3${ENTER}`);
    await s.answer('How consistent must changes across contexts be?', `1${ENTER}`); // strong
    await s.answer('How do parts of the system mostly interact?', ENTER); // default: request-response
    await s.answer('Expected request rate at the public API', `\x7f\x7f20${ENTER}`);
    await s.answer('Peak request rate you must serve', `\x7f\x7f\x7f5${ENTER}`);
    await s.waitFor('The peak must be at least the expected rate (20 rps)');
    s.type(`\x7f100${ENTER}`);
    await s.answer('What does traffic look like over a day?', ENTER); // default: daily-peaks
    await s.answer('Do some parts need far more capacity than others?', `1${ENTER}`); // uniform
    await s.answer('p95 latency budget of a public request (ms)?', `\x7f\x7f\x7f250${ENTER}`);
    await s.answer('Hours a day at about the expected rate', ENTER); // default: ? (unknown)
    await s.answer('How often do you release to production?', ENTER); // weekly
    await s.answer('Must parts of the system be released independently', `1${ENTER}`); // none
    await s.answer('What is your Kubernetes', `1${ENTER}`);
    await s.answer('What observability do you have today?', ENTER);
    await s.answer('How much does running cost weigh in this decision?', ENTER);
    await s.answer('How urgent is the first release?', `3${ENTER}`); // urgent
    await s.answer('What runs today?', `1${ENTER}`); // none
    // The Back choice of a list question returns to the previous one.
    await s.answer('[question 26 of 27] Is a message broker', `4${ENTER}`); // 4th choice: back
    await s.answer('[question 25 of 27] What runs today?', `1${ENTER}`);
    await s.answer('[question 26 of 27] Is a message broker', `1${ENTER}`); // none
    await s.answer('What pain triggered this decision?', `1${ENTER}`); // none
    await s.waitFor('── Review your answers ──');
    await s.waitFor('Who is on call when production breaks? Nobody (best effort)');
    await s.answer('Write the decision with these answers?', ENTER);
    expect(await s.exited).toBe(0);

    expect(s.screen).toMatch(/Recommendation: Modular monolith/);
    const adrFile = 'docs/decisions/0001-use-a-modular-monolith-for-the-checkout-mvp.md';
    expect(s.screen).toContain(`Wrote ${adrFile}`);
    const adr = readFileSync(join(tmp.dir, adrFile), 'utf8');
    expect(adr).toContain('| Load | Peak request rate you must serve (requests/s)? | 100 rps | `load.peakRps` |');
    expect(adr).toContain('Orders time out at peak.');
    expect(adr).toContain('decision-makers: Ana, Ben');
    expect(adr).toContain('The team answered the archbench questionnaire (`docs/decisions/0001-use-a-modular-monolith-for-the-checkout-mvp.answers.yaml`)');
    const saved = parseAnswers(YAML.parse(readFileSync(join(tmp.dir, 'docs/decisions/0001-use-a-modular-monolith-for-the-checkout-mvp.answers.yaml'), 'utf8')));
    expect(saved).toMatchObject({
      project: { name: 'Checkout MVP', problem: 'Orders time out at peak.' },
      people: { decisionMakers: ['Ana', 'Ben'], consulted: [], informed: ['Ops'] },
      team: { teams: 1, engineers: 4, onCall: 'none', platformMaturity: 'none' },
      domain: { boundedContexts: 3, crossContextConsistency: 'strong', interaction: 'request-response' },
      load: { expectedRps: 20, peakRps: 100, burstiness: 'daily-peaks', scalingProfile: 'uniform', p95BudgetMs: 250, busyHoursPerDay: 'unknown' },
      change: { releaseFrequency: 'weekly', independentReleases: 'none' },
      operations: { kubernetes: 'none', tracing: 'logs-metrics' },
      cost: { sensitivity: 'medium' },
      timeToMarket: 'urgent',
      today: { architecture: 'none', broker: 'none', pain: 'none' },
    });
  }, 180_000);

  it('refuses a non-interactive stdin without --answers: a clear message, exit 2, nothing written', async () => {
    const s = start(['decide'], tmp.dir);
    s.child.stdin.end();
    expect(await s.exited).toBe(2);
    expect(s.screen).toMatch(/stdin is not a terminal, so the questionnaire cannot be asked; pass --answers FILE/);
    expect(s.screen).not.toContain('Cancelled');
    expect(readdirSync(tmp.dir)).toEqual([]);
  }, 60_000);

  it('Ctrl+C cancels with exit code 130 and writes nothing', async () => {
    const s = start(['decide', '--interactive'], tmp.dir);
    await s.answer('What are you deciding for?', `x${ENTER}`);
    await s.waitFor('The problem in a sentence or two');
    s.type('\x03');
    expect(await s.exited).toBe(130);
    expect(s.screen).toContain('Cancelled; nothing written.');
    expect(readdirSync(tmp.dir)).toEqual([]);
    expect(existsSync(join(tmp.dir, 'docs'))).toBe(false);
  }, 60_000);

  it('answers piped in one go (`yes "" | head -40`) all count: the questionnaire completes and decides, exit 0', async () => {
    const s = start(['decide', '--interactive', '--dry-run', '--comparison', FIXTURE], tmp.dir);
    s.child.stdin.end('\n'.repeat(40));
    expect(await s.exited).toBe(0);
    expect(s.screen).toContain('[question 27 of 27] What pain triggered this decision?');
    expect(s.screen).toMatch(/Recommendation: Modular monolith/);
    expect(s.screen).not.toContain('Cancelled');
    expect(readdirSync(tmp.dir)).toEqual([]);
  }, 60_000);

  it('input that ends early (`printf "\\n\\n"`, or Ctrl+D) says so, exit 2, no unsettled-await warning, nothing written', async () => {
    const s = start(['decide', '--interactive'], tmp.dir);
    s.child.stdin.end('\n\n');
    expect(await s.exited).toBe(2);
    expect(s.screen).toContain('archbench: input ended at question 3 of 27, before the questionnaire was complete; nothing written');
    expect(s.screen).not.toMatch(/Cancelled|unsettled top-level await|Warning/);
    expect(readdirSync(tmp.dir)).toEqual([]);

    const d = start(['decide', '--interactive'], tmp.dir);
    await d.answer('What are you deciding for?', `x${ENTER}`);
    await d.waitFor('The problem in a sentence or two');
    d.type('\x04');
    expect(await d.exited).toBe(2);
    expect(d.screen).toContain('archbench: input ended at question 2 of 27, before the questionnaire was complete; nothing written');
    expect(d.screen).not.toMatch(/Cancelled|unsettled/);
    expect(readdirSync(tmp.dir)).toEqual([]);
  }, 60_000);
});
