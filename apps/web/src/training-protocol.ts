import type { ModelConfig, ModelFileFormat } from "@mnist/rnn";
import type { EvaluationResult, RunResult, StepEvent, TrainConfig } from "@mnist/train";
import type { Reading } from "./classify.js";

/** A model file as bytes, named as in its folder (model.json, weights.bin). */
export interface NamedFile {
  name: string;
  bytes: Uint8Array;
}

/** What the page asks the training worker; each gets one Reply with its id. */
export type Command =
  | { kind: "start"; mnistUrl: string }
  | { kind: "train"; model: Partial<ModelConfig>; train: Partial<TrainConfig> }
  | { kind: "run" }
  | { kind: "stop" }
  | { kind: "evaluate" }
  | { kind: "load"; files: NamedFile[] }
  /** The drawing pad's pixels (RGBA), read with the current model's latest weights. */
  | { kind: "classify"; image: { width: number; height: number; data: Uint8ClampedArray } }
  | { kind: "modelFiles"; format: ModelFileFormat }
  | { kind: "eventFile" };

/** The answers, by the command's kind. */
export interface Answers {
  /** sharedMemory: whether the pool shares SharedArrayBuffers (a cross-origin isolated page) or passes messages. */
  start: { backend: string; threads: number; sharedMemory: boolean; trainCount: number; testCount: number };
  train: { model: ModelConfig; totalSteps: number };
  run: RunResult & { completedSteps: number; finished: boolean };
  stop: null;
  evaluate: EvaluationResult;
  load: { model: ModelConfig };
  /** undefined: no model yet. */
  classify: Reading | undefined;
  modelFiles: NamedFile[];
  eventFile: { name: string; bytes: Uint8Array };
}

export type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; message: string };

/** What the worker reports unasked, for the page to draw. */
export type Report =
  | { kind: "loading"; bytes: number }
  | { kind: "step"; event: StepEvent; totalSteps: number }
  | { kind: "log"; line: string }
  | { kind: "evaluating"; done: number; total: number };

export type FromWorker = Reply | { report: Report };
