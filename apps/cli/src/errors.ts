import { IdxFormatError, InputTooLargeError, PngFormatError, SequenceInputError } from "@mnist/data";
import { ModelFormatError, ModelTooLargeError } from "@mnist/rnn";

/** A bad flag or argument, found before any work starts; the CLI exits with code 2. */
export class UsageError extends Error {
  constructor(
    /** The flag or argument at fault, as typed: "--save", "image". */
    readonly flag: string,
    /** What is wrong with it and what would be accepted. */
    readonly problem: string,
  ) {
    super(`${flag}: ${problem}`);
    this.name = "UsageError";
  }
}

/**
 * Errors that mean a file the user named is not what it must be (damaged, too large, of another
 * kind): like a bad flag they are the user's input, found before any work is done, so they exit 2.
 */
const INPUT_ERRORS = [IdxFormatError, InputTooLargeError, PngFormatError, SequenceInputError, ModelFormatError, ModelTooLargeError];

export function isInputError(error: unknown): boolean {
  return error instanceof UsageError || INPUT_ERRORS.some((kind) => error instanceof kind);
}

/** Exit codes: 0 success, 1 failure while working, 2 bad usage, 128+signal when interrupted. */
export const exitCodes = { ok: 0, failure: 1, usage: 2, SIGINT: 130, SIGTERM: 143 } as const;
