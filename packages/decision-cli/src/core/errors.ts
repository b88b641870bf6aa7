/**
 * Typed errors of the decision CLI. The one top-level catch in `cli/main.ts` maps them to exit
 * codes: input problems are 2, a failed `verify` is 1, anything unexpected is 70 (EX_SOFTWARE).
 */

/** Something the user gave us is wrong: a flag, an answers file, a comparison file, a k6 summary. */
export class InputError extends Error {
  override readonly name = 'InputError';
  readonly exitCode = 2;
}

/** A command was called the wrong way (unknown subcommand, missing argument). */
export class UsageError extends InputError {
  override readonly name = 'UsageError' as 'InputError';
  constructor(
    message: string,
    /** The command whose help text is worth pointing at. */
    readonly command?: string,
  ) {
    super(message);
  }
}

/** Refusing to write because a file already exists (an ADR is never overwritten). */
export class ConflictError extends InputError {
  override readonly name = 'ConflictError' as 'InputError';
}

/** `verify` found recorded confirmation criteria that no longer hold. */
export class VerificationFailedError extends Error {
  override readonly name = 'VerificationFailedError';
  readonly exitCode = 1;
}

/** Exit code for an error, following the mapping above. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof InputError) return error.exitCode;
  if (error instanceof VerificationFailedError) return error.exitCode;
  return 70;
}
