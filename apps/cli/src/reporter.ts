import cliProgress from "cli-progress";
import type { StepEvent } from "@mnist/train";

/** Where the CLI writes: process.stdout / process.stderr, or a buffer in tests. */
export interface Output {
  write(text: string): unknown;
  /** True for a terminal: progress bar instead of log lines. */
  isTTY?: boolean;
  columns?: number;
}

export type ReportMode = "bar" | "plain" | "json";

/**
 * How a command tells the user what is going on. The same calls produce a progress bar on a
 * terminal, the tutorial's plain lines in a pipe, or one JSON object per event with --json.
 */
export interface Reporter {
  readonly mode: ReportMode;
  /** A line for humans (omitted with --json) or a JSON event carrying `data` (omitted as text). */
  event(name: string, text: string | undefined, data?: Record<string, unknown>): void;
  /** Training started: `firstStep` is 0 unless resuming. */
  trainingStarted(totalSteps: number, firstStep: number): void;
  /** Every step: moves the bar. */
  step(e: StepEvent): void;
  /** Every display step: the tutorial line (plain) or a "log" event (json); the bar shows it already. */
  log(e: StepEvent & { line: string }): void;
  /** Removes the bar so that what follows prints cleanly. */
  stopProgress(): void;
}

export function reportMode(stdout: Output, json: boolean): ReportMode {
  if (json) return "json";
  return stdout.isTTY ? "bar" : "plain";
}

export function createReporter(stdout: Output, mode: ReportMode): Reporter {
  let bar: cliProgress.SingleBar | undefined;
  // Per-step speed jitters with the machine's load; the bar shows a smoothed figure.
  let speed: number | undefined;
  const line = (text: string): void => {
    stdout.write(`${text}\n`);
  };
  return {
    mode,
    event(name, text, data = {}) {
      if (mode === "json") {
        line(JSON.stringify({ event: name, ...data }));
        return;
      }
      if (text === undefined) return;
      if (bar) this.stopProgress();
      line(text);
    },
    trainingStarted(totalSteps, firstStep) {
      if (mode !== "bar") return;
      bar = new cliProgress.SingleBar(
        {
          // cli-progress only needs write/isTTY/columns and the cursor calls of a tty stream.
          stream: stdout as unknown as NodeJS.WritableStream,
          format:
            "{bar} step {value}/{total} | loss {loss} | accuracy {accuracy} | {speed} samples/s | ETA {eta_formatted}",
          etaBuffer: 50,
          hideCursor: true,
          clearOnComplete: false,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(totalSteps, firstStep, { loss: "-", accuracy: "-", speed: "-" });
    },
    step(e) {
      if (!bar) return;
      speed = speed === undefined ? e.samplesPerSecond : 0.9 * speed + 0.1 * e.samplesPerSecond;
      bar.update(e.step, {
        loss: e.loss.toFixed(4),
        accuracy: e.accuracy.toFixed(3),
        speed: Math.round(speed),
      });
    },
    log(e) {
      if (mode === "plain") line(e.line);
      else if (mode === "json") line(JSON.stringify({ event: "log", ...e }));
    },
    stopProgress() {
      bar?.stop();
      bar = undefined;
    },
  };
}
