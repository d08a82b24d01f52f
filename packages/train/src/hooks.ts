import type { EvaluationResult } from "./evaluate.js";
import type { StepEvent } from "./trainer.js";

/** Callbacks through which a Trainer reports; each may be async and is awaited. */
export interface TrainHooks {
  /** After every step. */
  onStep?(e: StepEvent): void | Promise<void>;
  /** Every displayStep steps; `line` is the tutorial's progress line. */
  onLog?(e: StepEvent & { line: string }): void | Promise<void>;
  /** Every summaryStep steps. */
  onSummary?(e: StepEvent): void | Promise<void>;
  /** After Trainer.evaluate() (and each validation of run(), split "validation"); `split` is the name it was given, `epoch` the completed passes over the training split. */
  onEvaluate?(e: EvaluationResult & { step: number; epoch: number; split: string }): void | Promise<void>;
  /** After a checkpoint is completely written into `dir`. */
  onCheckpoint?(e: { step: number; dir: string }): void | Promise<void>;
}

/** One set of hooks that calls each given set in order. */
export function combineHooks(...all: TrainHooks[]): TrainHooks {
  return {
    async onStep(e) {
      for (const hooks of all) await hooks.onStep?.(e);
    },
    async onLog(e) {
      for (const hooks of all) await hooks.onLog?.(e);
    },
    async onSummary(e) {
      for (const hooks of all) await hooks.onSummary?.(e);
    },
    async onEvaluate(e) {
      for (const hooks of all) await hooks.onEvaluate?.(e);
    },
    async onCheckpoint(e) {
      for (const hooks of all) await hooks.onCheckpoint?.(e);
    },
  };
}
