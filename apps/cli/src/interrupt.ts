import { exitCodes } from "./errors.js";

export type StopSignal = "SIGINT" | "SIGTERM";

/** Where signals come from: `process` in the CLI, an EventEmitter in tests. */
export interface SignalSource {
  on(signal: StopSignal, listener: () => void): unknown;
  off(signal: StopSignal, listener: () => void): unknown;
}

/** A graceful stop request: the first signal aborts `signal`; a second one calls `exitNow`. */
export interface Interruption {
  readonly signal: AbortSignal;
  /** The first signal received, if any. */
  readonly received: StopSignal | undefined;
  /** Exit code for the received signal (130 SIGINT, 143 SIGTERM). */
  readonly exitCode: number;
  dispose(): void;
}

/**
 * Turns the first SIGINT/SIGTERM into an abort, so training finishes its step and saves;
 * an impatient second Ctrl-C must still work, so it exits at once.
 */
export function watchInterrupts(source: SignalSource, exitNow: (code: number) => void): Interruption {
  const controller = new AbortController();
  let received: StopSignal | undefined;
  const listeners = (["SIGINT", "SIGTERM"] as const).map((name) => {
    const listener = (): void => {
      if (received) {
        exitNow(exitCodes[name]);
        return;
      }
      received = name;
      controller.abort(name);
    };
    source.on(name, listener);
    return { name, listener };
  });
  return {
    signal: controller.signal,
    get received() {
      return received;
    },
    get exitCode() {
      return received ? exitCodes[received] : exitCodes.ok;
    },
    dispose() {
      for (const { name, listener } of listeners) source.off(name, listener);
    },
  };
}
