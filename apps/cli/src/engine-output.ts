import { format } from "node:util";

/** Lines kept to report; an engine that runs out of memory prints dozens of near-identical ones. */
const KEPT_LINES = 20;

/** What TensorFlow.js engines printed to the console while a command ran. */
export interface EngineOutput {
  /** The lines held so far and how many there were in all; they are not printed again. */
  take(): { lines: string[]; count: number };
}

/**
 * Holds what is printed through console.warn and console.error until the command ends. The wasm
 * engine prints there (bound when it starts, so this must be installed before a backend is
 * selected): a failed allocation is one line per operator before the engine aborts. Held, those
 * lines go into the command's one error line; if the command succeeds, release() prints them.
 */
export function holdConsoleOutput(target: Pick<Console, "warn" | "error">, write: (text: string) => void): EngineOutput & { release(): void } {
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
  return {
    take,
    release() {
      target.warn = original.warn;
      target.error = original.error;
      const { lines: left, count: all } = take();
      if (left.length > 0) write(`${left.join("\n")}${all > left.length ? `\n(${all - left.length} more lines)` : ""}\n`);
    },
  };
}
