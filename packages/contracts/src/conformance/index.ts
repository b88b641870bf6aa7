import { ApiClient } from './client';
import { CheckContext } from './context';
import { authChecks } from './checks/auth';
import { badInputChecks } from './checks/bad-input';
import { cancelChecks } from './checks/cancel';
import { idempotencyChecks } from './checks/idempotency';
import { metaChecks } from './checks/meta';
import { methodChecks } from './checks/methods';
import { orderChecks } from './checks/orders';
import { paginationChecks } from './checks/pagination';
import { paymentChecks } from './checks/payments';
import { productChecks } from './checks/products';
import { providerChecks } from './checks/provider';
import { stockChecks } from './checks/stock';
import type { CheckDefinition } from './checks/types';

/**
 * The API conformance suite: the definition of "equivalent" for the archbench reference apps.
 * It talks HTTP to any base URL, so the monolith and the microservices gateway run the same
 * checks. Each check uses fresh customer ids, so the suite can run again and again against one
 * server (it does add orders and move stock of a few SKUs).
 */
export interface ConformanceOptions {
  /** Where the API is served, e.g. http://127.0.0.1:3000 (no trailing path needed). */
  baseUrl: string;
  /** The server's AUTH_SECRET: the suite mints customer and admin tokens with it. */
  authSecret: string;
  /** Receives one line per finished check and notes from checks. */
  log?: (line: string) => void;
  /** Run only these checks: exact names, or group prefixes such as `orders` or `bad-input`. */
  only?: string[];
}

/** One check; `run` throws an Error with a clear message when the API does not conform. */
export interface ConformanceCheck {
  name: string;
  run: () => Promise<void>;
}

export interface ConformanceReport {
  passed: boolean;
  checks: Array<{ name: string; passed: boolean; durationMs: number; error?: string }>;
}

const ALL_CHECKS: readonly CheckDefinition[] = [
  ...metaChecks,
  ...methodChecks,
  ...productChecks,
  ...orderChecks,
  ...cancelChecks,
  ...paymentChecks,
  ...authChecks,
  ...idempotencyChecks,
  ...paginationChecks,
  ...stockChecks,
  ...badInputChecks,
  ...providerChecks,
];

/** Names of every check, in run order. */
export const CHECK_NAMES: readonly string[] = ALL_CHECKS.map((c) => c.name);

/** Thrown when `only` names no known check; the CLI maps it to exit code 2. */
export class UnknownCheckError extends Error {
  override readonly name = 'UnknownCheckError';
}

function matches(name: string, selector: string): boolean {
  return name === selector || name.startsWith(`${selector}.`);
}

/**
 * The checks, bound to a server, in run order (filtered by `only`). Nothing is sent until a
 * check's `run` is called.
 * @example
 * for (const check of conformanceChecks({ baseUrl, authSecret })) it(check.name, check.run);
 */
export function conformanceChecks(options: ConformanceOptions): ConformanceCheck[] {
  const selectors = (options.only ?? []).map((s) => s.trim()).filter(Boolean);
  const unknown = selectors.filter((s) => !ALL_CHECKS.some((c) => matches(c.name, s)));
  if (unknown.length > 0) {
    throw new UnknownCheckError(`unknown check(s): ${unknown.join(', ')}; known checks: ${CHECK_NAMES.join(', ')}`);
  }
  const selected = selectors.length === 0 ? ALL_CHECKS : ALL_CHECKS.filter((c) => selectors.some((s) => matches(c.name, s)));
  const log = options.log ?? (() => {});
  const context = new CheckContext(new ApiClient(options.baseUrl, options.authSecret), (line) => log(`    ${line}`));
  return selected.map((definition) => ({ name: definition.name, run: () => definition.run(context) }));
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs the checks one after another and reports each; never throws for a failing check.
 * @example
 * const report = await runConformance({ baseUrl: 'http://127.0.0.1:3000', authSecret, log: console.log });
 * if (!report.passed) process.exitCode = 1;
 */
export async function runConformance(options: ConformanceOptions): Promise<ConformanceReport> {
  const log = options.log ?? (() => {});
  const report: ConformanceReport = { passed: true, checks: [] };
  for (const check of conformanceChecks(options)) {
    const started = performance.now();
    try {
      await check.run();
      const durationMs = Math.round(performance.now() - started);
      report.checks.push({ name: check.name, passed: true, durationMs });
      log(`✓ ${check.name} (${durationMs} ms)`);
    } catch (error) {
      const durationMs = Math.round(performance.now() - started);
      report.passed = false;
      report.checks.push({ name: check.name, passed: false, durationMs, error: errorMessage(error) });
      log(`✗ ${check.name} (${durationMs} ms)`);
      log(`    ${errorMessage(error)}`);
    }
  }
  return report;
}
