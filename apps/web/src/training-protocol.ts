import type { ModelConfig, ModelFileFormat, ModelMetadata } from "@mnist/rnn";
import type { EvaluationResult, RunResult, StepEvent, TrainConfig } from "@mnist/train";

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
  | { kind: "modelFiles"; format: ModelFileFormat }
  | { kind: "eventFile" };

/** The answers, by the command's kind. */
export interface Answers {
  /** sharedMemory: whether the pool shares SharedArrayBuffers (a cross-origin isolated page) or passes messages. */
  start: { backend: string; threads: number; sharedMemory: boolean; trainCount: number; testCount: number };
  train: { model: ModelConfig; metadata: ModelMetadata; totalSteps: number; batchSize: number };
  run: RunResult & { completedSteps: number; finished: boolean };
  stop: null;
  evaluate: EvaluationResult;
  load: { model: ModelConfig };
  modelFiles: NamedFile[];
  eventFile: { name: string; bytes: Uint8Array };
}

export type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; message: string };

/** What the worker reports unasked, for the page to draw. */
export type Report =
  | { kind: "loading"; bytes: number }
  | { kind: "step"; event: StepEvent; totalSteps: number }
  | { kind: "log"; line: string }
  /** The trained model's current weights, for the drawing pad (after each log line and at the end of a run). */
  | { kind: "weights"; values: Record<string, Float32Array> }
  | { kind: "evaluating"; done: number; total: number };

export type FromWorker = Reply | { report: Report };
