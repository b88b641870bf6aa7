import { AssertionError } from 'node:assert';
import { setTimeout as sleep } from 'node:timers/promises';
import type { z } from 'zod';
import { PROBLEM_BASE, PROBLEM_CODES, PROBLEM_CONTENT_TYPE } from '../problems';
import type { ProblemCode } from '../problems';
import { Problem } from '../schemas';
import type { ApiResponse } from './client';

/** Throws an AssertionError with the message as the whole story (no diff noise). */
export function fail(message: string): never {
  throw new AssertionError({ message });
}

/** Asserts a condition; the message is what the report shows when it does not hold. */
export function check(condition: unknown, message: string): asserts condition {
  if (!condition) fail(message);
}

/** A short, single-line excerpt of a response body for failure messages. */
function excerpt(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat || '(empty body)';
}

function describe(res: ApiResponse): string {
  return `${res.method} ${res.path}`;
}

function statusList(expected: number | readonly number[]): readonly number[] {
  return typeof expected === 'number' ? [expected] : expected;
}

function parseJson(res: ApiResponse): unknown {
  try {
    return JSON.parse(res.text);
  } catch {
    fail(`${describe(res)}: answered ${res.status} with a body that is not JSON: ${excerpt(res.text)}`);
  }
}

/**
 * Asserts a successful JSON answer with one of the expected statuses and validates the body
 * with a contract schema; returns the parsed body.
 */
export function expectBody<S extends z.ZodType>(res: ApiResponse, expected: number | readonly number[], schema: S): z.infer<S> {
  const statuses = statusList(expected);
  if (!statuses.includes(res.status)) {
    fail(`${describe(res)}: expected ${statuses.join(' or ')}, got ${res.status}: ${excerpt(res.text)}`);
  }
  const type = res.headers.get('content-type') ?? '';
  check(/^application\/json\b/i.test(type), `${describe(res)}: expected Content-Type application/json, got ${JSON.stringify(type)}`);
  const parsed = schema.safeParse(parseJson(res));
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
    fail(`${describe(res)}: body does not match the contract schema: ${issues.join('; ')}; body: ${excerpt(res.text)}`);
  }
  return parsed.data;
}

/** Things that must never reach a client: stack frames and server file paths. */
const LEAKS: Array<[RegExp, string]> = [
  [/\bat\s+[\w$.<>]+\s*\(?[^)\s]*:\d+:\d+\)?/, 'a stack frame'],
  [/(?:^|[\s"'(])\/(?:home|work|usr|src|opt|var|tmp|app)\/[\w./-]+/, 'a server file path'],
  [/[\w-]+\.(?:ts|js|mjs|cjs):\d+/, 'a source file location'],
  [/node_modules/, 'a node_modules path'],
  [/[A-Za-z]:\\\\/, 'a Windows path'],
];

/** Asserts a body leaks no stack trace or file path. */
function expectNoLeak(res: ApiResponse): void {
  for (const [pattern, what] of LEAKS) {
    const match = pattern.exec(res.text);
    if (match) fail(`${describe(res)}: the ${res.status} body leaks ${what} (${JSON.stringify(match[0])}): ${excerpt(res.text)}`);
  }
}

export interface ExpectProblemOptions {
  /** The problem code(s) the contract prescribes. */
  code?: ProblemCode | readonly ProblemCode[];
}

/**
 * Asserts an RFC 9457 problem answer: one of the expected statuses, `application/problem+json`,
 * a body matching the Problem schema whose `status` equals the HTTP status, whose `code` is one
 * of the contract's codes sent with that status, and no stack trace or file path.
 */
export function expectProblem(res: ApiResponse, expected: number | readonly number[], options: ExpectProblemOptions = {}): Problem {
  const statuses = statusList(expected);
  if (!statuses.includes(res.status)) {
    fail(`${describe(res)}: expected a ${statuses.join(' or ')} problem, got ${res.status}: ${excerpt(res.text)}`);
  }
  expectNoLeak(res);
  const type = res.headers.get('content-type') ?? '';
  check(
    type.toLowerCase().startsWith(PROBLEM_CONTENT_TYPE),
    `${describe(res)}: a ${res.status} must be ${PROBLEM_CONTENT_TYPE}, got Content-Type ${JSON.stringify(type)}`,
  );
  const parsed = Problem.safeParse(parseJson(res));
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
    fail(`${describe(res)}: problem body does not match the Problem schema: ${issues.join('; ')}; body: ${excerpt(res.text)}`);
  }
  const problem = parsed.data;
  check(problem.status === res.status, `${describe(res)}: problem.status ${problem.status} differs from the HTTP status ${res.status}`);
  check(problem.title.trim().length > 0 && problem.detail.trim().length > 0, `${describe(res)}: problem title and detail must not be empty`);
  const known = PROBLEM_CODES[problem.code as ProblemCode] as number | undefined;
  check(known !== undefined, `${describe(res)}: problem code ${JSON.stringify(problem.code)} is not one of the contract's codes`);
  check(known === res.status, `${describe(res)}: problem code ${problem.code} belongs with status ${known}, not ${res.status}`);
  check(
    problem.type === `${PROBLEM_BASE}${problem.code}`,
    `${describe(res)}: problem type should be ${PROBLEM_BASE}${problem.code}, got ${JSON.stringify(problem.type)}`,
  );
  if (options.code !== undefined) {
    const codes = typeof options.code === 'string' ? [options.code] : options.code;
    check(codes.includes(problem.code as ProblemCode), `${describe(res)}: expected problem code ${codes.join(' or ')}, got ${problem.code}: ${problem.detail}`);
  }
  return problem;
}

export interface EventuallyOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Retries an assertion until it passes or the time is up, for state that a distributed
 * implementation settles asynchronously (shipments, restocks). Rethrows the last failure.
 */
export async function eventually<T>(assertion: () => Promise<T>, options: EventuallyOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await assertion();
    } catch (error) {
      if (Date.now() >= deadline) {
        if (error instanceof Error) error.message = `${error.message} (still so after ${timeoutMs} ms)`;
        throw error;
      }
    }
    await sleep(options.intervalMs ?? 100);
  }
}
