import { describeNetworkError } from './client';
import { parseCliArgs, USAGE } from './cli-args';
import { CHECK_NAMES, UnknownCheckError, conformanceChecks, runConformance } from './index';

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** Exit codes of the conformance CLI. */
export const EXIT = { passed: 0, failed: 1, usage: 2 } as const;

/**
 * The conformance CLI without the process: returns the exit code.
 * @example process.exitCode = await runCli(process.argv.slice(2), process.env, { out, err })
 */
export async function runCli(argv: readonly string[], env: Record<string, string | undefined>, io: CliIo): Promise<number> {
  const args = parseCliArgs(argv, env);
  if (args.kind === 'help') {
    io.out(`${USAGE}\n`);
    return EXIT.passed;
  }
  if (args.kind === 'list') {
    io.out(`${CHECK_NAMES.join('\n')}\n`);
    return EXIT.passed;
  }
  if (args.kind === 'error') {
    io.err(`conformance: ${args.message}\n\n${USAGE}\n`);
    return EXIT.usage;
  }
  const { options } = args;
  try {
    conformanceChecks(options); // validates --only before anything is sent
  } catch (error) {
    if (error instanceof UnknownCheckError) {
      io.err(`conformance: ${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  }
  try {
    await fetch(`${options.baseUrl}/health`, { signal: AbortSignal.timeout(5000) });
  } catch (error) {
    io.err(`conformance: cannot reach ${options.baseUrl}: ${describeNetworkError(error)}. Is the server running?\n`);
    return EXIT.usage;
  }
  io.out(`conformance suite against ${options.baseUrl}\n`);
  const started = performance.now();
  const report = await runConformance({ ...options, log: (line) => io.out(`${line}\n`) });
  const failed = report.checks.filter((c) => !c.passed);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  io.out(`\nconformance: ${report.checks.length - failed.length} passed, ${failed.length} failed\n`);
  io.out(`${report.checks.length} checks in ${seconds} s${failed.length ? `; failed: ${failed.map((c) => c.name).join(', ')}` : ''}\n`);
  return report.passed ? EXIT.passed : EXIT.failed;
}
