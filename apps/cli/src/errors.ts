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

/** Exit codes: 0 success, 1 failure while working, 2 bad usage, 128+signal when interrupted. */
export const exitCodes = { ok: 0, failure: 1, usage: 2, SIGINT: 130, SIGTERM: 143 } as const;
