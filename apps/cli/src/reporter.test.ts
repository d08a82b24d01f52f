import { describe, expect, it } from "vitest";
import type { StepEvent } from "@mnist/train";
import { createReporter, reportMode } from "./reporter.js";

function capture(isTTY: boolean): { text: () => string; stream: { write: (s: string) => void; isTTY: boolean; columns: number } } {
  let text = "";
  return { text: () => text, stream: { write: (s) => (text += s), isTTY, columns: 160 } };
}

const step = (n: number): StepEvent => ({ step: n, samples: n * 128, loss: 2 / n, accuracy: n / 10, samplesPerSecond: 1000, epoch: 0, learningRate: 0.001, gradientNorm: 1 });

describe("reporter", () => {
  it("picks a bar for a terminal, plain lines for a pipe, JSON when asked", () => {
    expect(reportMode({ write: () => undefined, isTTY: true }, false)).toBe("bar");
    expect(reportMode({ write: () => undefined }, false)).toBe("plain");
    expect(reportMode({ write: () => undefined, isTTY: true }, true)).toBe("json");
  });

  it("draws steps, loss, accuracy, samples/s and ETA on a terminal, without tutorial lines", () => {
    const out = capture(true);
    const reporter = createReporter(out.stream, "bar");
    reporter.trainingStarted(10, 0);
    for (let n = 1; n <= 10; n++) {
      reporter.step(step(n));
      if (n % 5 === 0) reporter.log({ ...step(n), line: `Iteration ${n * 128}` });
    }
    reporter.event("finished", "Optimization Finished!");
    const text = out.text();
    expect(text).toContain("step 10/10 | loss 0.2000 | accuracy 1.000 | 1000 samples/s | ETA");
    expect(text).not.toContain("Iteration");
    expect(text.trimEnd().endsWith("Optimization Finished!")).toBe(true);
  });

  it("prints the tutorial lines in a pipe and JSON objects with --json", () => {
    const plain = capture(false);
    const json = capture(false);
    for (const [out, mode] of [[plain, "plain"], [json, "json"]] as const) {
      const reporter = createReporter(out.stream, mode);
      reporter.trainingStarted(10, 0);
      reporter.step(step(5));
      reporter.log({ ...step(5), line: "Iteration 640, Minibatch Loss= 0.400000, Training Accuracy= 0.50000" });
      reporter.event("finished", "Optimization Finished!", { steps: 10 });
      reporter.stopProgress();
    }
    expect(plain.text()).toBe("Iteration 640, Minibatch Loss= 0.400000, Training Accuracy= 0.50000\nOptimization Finished!\n");
    const events = json.text().trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events).toEqual([
      { event: "log", ...step(5), line: "Iteration 640, Minibatch Loss= 0.400000, Training Accuracy= 0.50000" },
      { event: "finished", steps: 10 },
    ]);
  });
});
