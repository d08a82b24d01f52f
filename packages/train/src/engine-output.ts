import { format } from "node:util";

/** Lines kept to report; an engine that runs out of memory prints dozens of near-identical ones. */
const KEPT_LINES = 20;

/** What TensorFlow.js engines printed to the console, held back (holdConsoleOutput). */
export interface EngineOutput {
  /** The lines held so far (the first KEPT_LINES) and how many there were in all; they will not be printed. */
  take(): { lines: string[]; count: number };
  /** take() as words to append to a one-line error: ` (the engine printed "<first line>" and N more lines)`, or "". */
  said(): string;
  /** Prints what is held now, and holds on. */
  flush(): void;
  /** Prints what is held and gives the console back. */
  release(): void;
}

/**
 * Holds what is printed through `target`'s warn and error (the console) until taken or flushed.
 * The wasm engine prints there, through a console.warn it binds when it starts, so this must be
 * installed before a backend is selected: a failed allocation is one line per operator before the
 * engine aborts. Held, those lines go into the one line that reports the failure; `write` prints
 * them when nothing failed.
 */
export function holdConsoleOutput(target: Pick<Console, "warn" | "error">, write: (text: string) => void): EngineOutput {
  let lines: string[] = [];
  let count = 0;
  const hold = (...args: unknown[]): void => {
    for (const line of format(...args).split("\n")) {
      if (line.trim() === "") continue;
      count += 1;
      if (lines.length < KEPT_LINES) lines.push(line);
    }
  };
  const original = { warn: target.warn, error: target.error };
  target.warn = hold;
  target.error = hold;
  const take = (): { lines: string[]; count: number } => {
    const taken = { lines, count };
    lines = [];
    count = 0;
    return taken;
  };
  const flush = (): void => {
    const { lines: held, count: all } = take();
    if (held.length > 0) write(`${held.join("\n")}${all > held.length ? `\n(${all - held.length} more lines)` : ""}\n`);
  };
  return {
    take,
    said() {
      const { lines: held, count: all } = take();
      return all === 0 ? "" : ` (the engine printed "${held[0]}"${all > 1 ? ` and ${all - 1} more lines` : ""})`;
    },
    flush,
    release() {
      target.warn = original.warn;
      target.error = original.error;
      flush();
    },
  };
}
