/**
 * Typed errors of the decision CLI. The one top-level catch in `cli/main.ts` maps them to exit
 * codes: input problems are 2, a failed `verify` is 1, anything unexpected is 70 (EX_SOFTWARE).
 */

/**
 * Something the user gave us is wrong: a flag, an answers file, a comparison file, a k6 summary.
 * @example throw new InputError('answers.yaml: team.teams: must be a whole number >= 1 (got 0)');
 */
export class InputError extends Error {
  override name = 'InputError';
  readonly exitCode: number = 2;
}

/**
 * A command was called the wrong way (unknown subcommand, missing argument).
 * @example throw new UsageError('verify needs exactly one ADR', 'verify');
 */
export class UsageError extends InputError {
  override name = 'UsageError';
  constructor(
    message: string,
    /** The command whose help text is worth pointing at. */
    readonly command?: string,
  ) {
    super(message);
  }
}

/**
 * Refusing to write because a file already exists (an ADR is never overwritten).
 * @example throw new ConflictError('docs/decisions/0001-x.md already exists; refusing to overwrite it');
 */
export class ConflictError extends InputError {
  override name = 'ConflictError';
}

/**
 * `verify` found recorded confirmation criteria that no longer hold.
 * @example throw new VerificationFailedError('2 of 7 confirmation criteria no longer hold');
 */
export class VerificationFailedError extends Error {
  override name = 'VerificationFailedError';
  readonly exitCode: number = 1;
}

/**
 * Exit code for an error, following the mapping above.
 * @example process.exitCode = exitCodeOf(error);
 */
export function exitCodeOf(error: unknown): number {
  if (error instanceof InputError || error instanceof VerificationFailedError) return error.exitCode;
  return 70;
}
