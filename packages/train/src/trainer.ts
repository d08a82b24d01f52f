import * as tf from "@tensorflow/tfjs-core";
import { Batcher, type BatcherState, type MnistSplit } from "@mnist/data";
import { SequenceClassifier } from "@mnist/rnn";
import { Adam, type AdamState } from "./adam.js";
import { clipByGlobalNorm, globalNorm } from "./clipping.js";
import { learningRateAt, resolveTrainConfig, totalSteps, type TrainConfig } from "./config.js";
import { ConfigError, DivergenceError } from "./errors.js";
import type { EvaluateOptions, EvaluationResult } from "./evaluate.js";
import { formatIterationLine } from "./format.js";
import { checkResumedSplit, checkSplitImages } from "./plan.js";
import { onThisThread, type GradientSource, type GradientSourceFactory } from "./gradient-source.js";
import type { MinibatchInput } from "./minibatch.js";
import type { TrainHooks } from "./hooks.js";

/** What one training step did. */
export interface StepEvent {
  /** Steps completed, counting from 1 like the tutorial. */
  step: number;
  /** Training images consumed so far (step * batchSize), the tutorial's "Iter". */
  samples: number;
  /** Mean cross-entropy of this step's minibatch, from the forward pass the gradients came from. */
  loss: number;
  /** Fraction of this step's minibatch classified correctly by that same forward pass. */
  accuracy: number;
  /** Images per second over this step, including the host round trip. */
  samplesPerSecond: number;
  /** Completed passes over the training split. */
  epoch: number;
  /** Step size Adam used for this step (learningRateAt). */
  learningRate: number;
  /** Global L2 norm of this step's gradients before clipping. */
  gradientNorm: number;
}

/** One evaluation of the validation split during run(). */
export interface ValidationRecord {
  /** Steps completed when it ran. */
  step: number;
  /** Completed passes over the training split then. */
  epoch: number;
  /** Fraction of the validation split classified correctly. */
  accuracy: number;
  /** Mean cross-entropy over the validation split. */
  loss: number;
}

/**
 * What a Trainer holds besides its model and config: enough to continue the run exactly as if
 * it had never stopped. A checkpoint holds it (Checkpoint.state), and a Trainer made with it
 * (TrainerOptions.restored) continues from it.
 */
export interface TrainerState {
  /** Steps completed. */
  step: number;
  /** Size of the training split the run used; resuming on another split would not be the same run. */
  trainCount: number;
  /** Position and RNG state of the shuffled training data. */
  batcher: BatcherState;
  /** Adam's moments and beta powers. */
  adam: AdamState;
  /** The best validation so far and a model holding its weights (run({ keepBest })); a Trainer made with it owns that model. */
  best?: { record: ValidationRecord; model: SequenceClassifier };
}

/** Where a run computed its steps; a run resumed elsewhere matches a straight run only up to float rounding. */
export interface EngineRecord {
  /** The TensorFlow.js backend (tf.getBackend()). */
  backend: string;
  /** Threads sharing each minibatch, the calling one included. */
  threads: number;
}

/**
 * The run() options that decide when a run checkpoints and validates, which a resumed run must
 * keep: a resumed run that forgot checkpointEvery would lose more steps to a crash.
 */
export interface RunSchedule {
  /** RunOptions.checkpointEvery; unset: only when run() returns. */
  checkpointEvery?: number;
  /** "off" (no validation split), "epoch" (the default interval) or RunOptions.validateEvery. */
  validation: "off" | "epoch" | number;
  /** RunOptions.keepBest. */
  keepBest: boolean;
}

/** A run at one step: what a CheckpointWriter writes, and what reading a checkpoint gives back. */
export interface Checkpoint {
  model: SequenceClassifier;
  config: TrainConfig;
  state: TrainerState;
  engine: EngineRecord;
  /** The schedule of the run() that wrote it; unset when saveCheckpoint() was called on its own. */
  schedule?: RunSchedule;
}

/** Where run() and saveCheckpoint() put checkpoints (e.g. checkpointWriter(dir) from @mnist/train/node). */
export interface CheckpointWriter {
  /** Where the checkpoints go, reported to onCheckpoint. */
  readonly dir: string;
  /** Writes one complete checkpoint, which replaces the previous one only once it is whole. */
  write(checkpoint: Checkpoint): Promise<void>;
}

/** What differs between trainers besides model, data and config: all optional. */
export interface TrainerOptions {
  /** How the trainer reports progress, summaries, evaluations and checkpoints; default none. */
  hooks?: TrainHooks;
  /** Where minibatch gradients and evaluations are computed (e.g. workerThreads() from @mnist/train/node); default the calling thread. */
  gradients?: GradientSourceFactory;
  /** The state of a run to continue (Checkpoint.state, with the checkpoint's model and config); default a new run. */
  restored?: TrainerState;
}

/** Options of Trainer.run(). */
export interface RunOptions {
  /** Stops after the step in progress; with checkpoint a checkpoint is written first. */
  signal?: AbortSignal;
  /** Where checkpoints go; when set, one is also written when run() returns. */
  checkpoint?: CheckpointWriter;
  /** Steps between checkpoints (needs checkpoint); default: only at the end. */
  checkpointEvery?: number;
  /** Split evaluated during training (reported to onEvaluate as "validation"); never the test split; default unset. */
  validation?: MnistSplit;
  /** Steps between validations (needs validation), plus one at the budget's last step; default once per epoch, ceil(trainCount / batchSize). */
  validateEvery?: number;
  /** Keep a copy of the weights with the best validation accuracy so far (the earlier on ties), for restoreBest(); needs validation; default false. */
  keepBest?: boolean;
}

/** What Trainer.run() did. */
export interface RunResult {
  /** Steps run by this call. */
  steps: number;
  /** True when the signal stopped the run before the step budget was spent. */
  stoppedEarly: boolean;
  /** Wall time of this call. */
  seconds: number;
  /** The validations of this call, in order. */
  validations: ValidationRecord[];
  /** The validation of the kept best weights (including those before a resume), if any. */
  best?: ValidationRecord;
}

/**
 * The tutorial's training loop: seeded shuffled minibatches, Adam, a log
 * line every displayStep steps. Progress, summaries and checkpoints reach
 * the outside world only through hooks, so the loop knows nothing of files
 * or terminals; checkpoints only through the CheckpointWriter given to run().
 * Where gradients are computed (this thread, worker threads) and the state of
 * a run to continue come in as TrainerOptions. The trainer owns its optimizer
 * state, best-weights copy and gradient source (dispose()), not the model.
 */
export class Trainer {
  readonly config: TrainConfig;
  /** Steps the config's budget allows for this training split. */
  readonly totalSteps: number;
  private readonly batcher: Batcher;
  private readonly optimizer: Adam;
  private readonly hooks: TrainHooks;
  private readonly gradients: GradientSource;
  private completed: number;
  /** The best validation so far and a model holding its weights (run({ keepBest })). */
  private kept: { record: ValidationRecord; model: SequenceClassifier } | undefined;

  /**
   * A trainer of `model` on `train`. With options.restored it continues that run exactly as
   * if it had never stopped (same split, same backend): pass the checkpoint's model and
   * config (withBudget() sets a new budget); once made, it owns restored.best's model.
   */
  constructor(
    readonly model: SequenceClassifier,
    private readonly train: MnistSplit,
    config: Partial<TrainConfig> = {},
    options: TrainerOptions = {},
  ) {
    this.config = resolveTrainConfig(config);
    checkSplitImages("training split", train, model.config);
    this.totalSteps = totalSteps(this.config, train.count);
    this.hooks = options.hooks ?? {};
    const { restored } = options;
    if (restored !== undefined) checkResumedSplit(restored, train);
    this.batcher =
      restored === undefined
        ? new Batcher(train, { seed: this.config.seed, shuffle: true, maxShift: this.config.maxShift })
        : Batcher.restore(train, restored.batcher);
    this.completed = restored?.step ?? 0;
    this.optimizer = new Adam(model.variables);
    if (restored !== undefined) {
      try {
        this.optimizer.restore(restored.adam, "TrainerOptions.restored");
      } catch (error) {
        this.optimizer.dispose();
        throw error;
      }
      if (restored.best !== undefined) this.kept = { record: { ...restored.best.record }, model: restored.best.model };
    }
    // Last: a worker-thread source starts threads, which nothing above may leave behind by throwing.
    try {
      this.gradients = (options.gradients ?? onThisThread)(model, this.config);
    } catch (error) {
      this.optimizer.dispose();
      throw error;
    }
  }

  /** Steps completed so far (including those before a resume). */
  get completedSteps(): number {
    return this.completed;
  }

  /** Completed passes over the training split so far (StepEvent.epoch of the last step). */
  get completedEpochs(): number {
    return this.batcher.epoch;
  }

  /** The validation whose weights restoreBest() puts back, if run({ keepBest }) kept one. */
  get best(): ValidationRecord | undefined {
    return this.kept === undefined ? undefined : { ...this.kept.record };
  }

  /**
   * Runs steps until the budget is spent or the signal aborts. After a step
   * come its validation (if due), then its checkpoint (if due), so that a
   * checkpoint holds the best weights up to its step.
   */
  async run(options: RunOptions = {}): Promise<RunResult> {
    const started = performance.now();
    const { signal, checkpoint, checkpointEvery, validation, keepBest = false } = options;
    if (checkpointEvery !== undefined && (checkpoint === undefined || !Number.isInteger(checkpointEvery) || checkpointEvery < 1)) {
      throw new ConfigError(
        "checkpointEvery",
        "a positive integer, together with checkpoint",
        `${checkpointEvery} with checkpoint ${checkpoint === undefined ? "unset" : checkpoint.dir}`,
      );
    }
    const validateEvery = options.validateEvery ?? Math.ceil(this.train.count / this.config.batchSize);
    if (validation === undefined && (options.validateEvery !== undefined || keepBest)) {
      throw new ConfigError("validation", "a split to validate on, which validateEvery and keepBest need", "none", "give a validation split");
    }
    if (!Number.isInteger(validateEvery) || validateEvery < 1) {
      throw new ConfigError("validateEvery", "a positive integer (steps between validations)", String(validateEvery));
    }
    if (validation !== undefined) {
      if (validation.count === 0) throw new ConfigError("validation split", "at least one image", "0 images");
      checkSplitImages("validation split", validation, this.model.config);
    }
    const schedule: RunSchedule = { validation: validation === undefined ? "off" : (options.validateEvery ?? "epoch"), keepBest };
    if (checkpointEvery !== undefined) schedule.checkpointEvery = checkpointEvery;
    let steps = 0;
    let savedStep = -1;
    const validations: ValidationRecord[] = [];
    while (this.completed < this.totalSteps && signal?.aborted !== true) {
      await this.step();
      steps += 1;
      if (validation !== undefined && (this.completed % validateEvery === 0 || this.completed === this.totalSteps)) {
        validations.push(await this.validate(validation, keepBest));
      }
      if (checkpoint !== undefined && checkpointEvery !== undefined && this.completed % checkpointEvery === 0) {
        await this.saveCheckpoint(checkpoint, schedule);
        savedStep = this.completed;
      }
    }
    if (checkpoint !== undefined && savedStep !== this.completed) await this.saveCheckpoint(checkpoint, schedule);
    const result: RunResult = { steps, stoppedEarly: this.completed < this.totalSteps, seconds: (performance.now() - started) / 1000, validations };
    const best = this.best;
    if (best !== undefined) result.best = best;
    return result;
  }

  private async validate(split: MnistSplit, keepBest: boolean): Promise<ValidationRecord> {
    const { accuracy, loss } = await this.evaluate(split, "validation");
    const record: ValidationRecord = { step: this.completed, epoch: this.completedEpochs, accuracy, loss };
    if (keepBest && (this.kept === undefined || accuracy > this.kept.record.accuracy)) {
      // One model's worth of variables, made once and then reassigned, so the tensor count stays flat;
      // with the model's metadata, so that best/ in a checkpoint is a complete model of its own.
      const copy = this.kept?.model ?? SequenceClassifier.create(this.model.config, { metadata: this.model.metadata });
      copyWeights(this.model, copy);
      this.kept = { record, model: copy };
    }
    return { ...record };
  }

  /**
   * Puts the kept best weights back into the model (run({ keepBest })); false
   * when none were kept. Adam's state stays that of the last step.
   */
  restoreBest(): boolean {
    if (this.kept === undefined) return false;
    copyWeights(this.kept.model, this.model);
    return true;
  }

  /**
   * One minibatch: forward, gradients, one host read of loss and accuracy
   * together, one of the gradients' global norm, clipping, then the Adam
   * update at the scheduled rate. A non-finite loss throws DivergenceError
   * before the update, so the weights stay those of the last good step.
   */
  async step(): Promise<StepEvent> {
    const started = performance.now();
    const step = this.completed + 1;
    const batch = this.batcher.nextBatch(this.config.batchSize);
    const { dropout, seed } = this.config;
    const input: MinibatchInput = dropout > 0 ? { ...batch, dropout: { rate: dropout, seed, step, firstExample: 0 } } : batch;
    const { loss, accuracy, gradients } = await this.gradients.minibatch(input);
    if (!Number.isFinite(loss)) {
      tf.dispose(gradients);
      throw new DivergenceError(step, loss);
    }
    const norm = globalNorm(gradients);
    const [gradientNorm = Number.NaN] = await norm.data();
    norm.dispose();
    const applied = clipByGlobalNorm(gradients, gradientNorm, this.config.clipNorm);
    const learningRate = learningRateAt(this.config, step, this.totalSteps);
    this.optimizer.apply(applied, learningRate);
    tf.dispose(applied);
    this.completed = step;
    const seconds = (performance.now() - started) / 1000;
    const event: StepEvent = {
      step,
      samples: step * this.config.batchSize,
      loss,
      accuracy,
      samplesPerSecond: seconds > 0 ? batch.size / seconds : Number.POSITIVE_INFINITY,
      epoch: this.batcher.epoch,
      learningRate,
      gradientNorm,
    };
    await this.hooks.onStep?.(event);
    if (step % this.config.displayStep === 0) {
      await this.hooks.onLog?.({ ...event, line: formatIterationLine(event.samples, loss, accuracy) });
    }
    if (step % this.config.summaryStep === 0) await this.hooks.onSummary?.(event);
    return event;
  }

  /** evaluate() on a split (computed where the gradients are), reported to onEvaluate under `name` (e.g. "test"). */
  async evaluate(split: MnistSplit, name = "test", options: EvaluateOptions = {}): Promise<EvaluationResult> {
    const result = await this.gradients.evaluate(split, options);
    await this.hooks.onEvaluate?.({ ...result, step: this.completed, epoch: this.completedEpochs, split: name });
    return result;
  }

  /**
   * Writes model, config, Adam state, data position, step, kept best weights, the engine and
   * (from run()) its schedule through `writer`, then calls onCheckpoint.
   */
  async saveCheckpoint(writer: CheckpointWriter, schedule?: RunSchedule): Promise<void> {
    const state: TrainerState = { step: this.completed, trainCount: this.train.count, batcher: this.batcher.state(), adam: await this.optimizer.state() };
    if (this.kept !== undefined) state.best = { record: { ...this.kept.record }, model: this.kept.model };
    const engine: EngineRecord = { backend: tf.getBackend(), threads: this.gradients.size ?? 1 };
    await writer.write({ model: this.model, config: this.config, state, engine, ...(schedule === undefined ? {} : { schedule: { ...schedule } }) });
    await this.hooks.onCheckpoint?.({ step: this.completed, dir: writer.dir });
  }

  /** Frees the optimizer state and the kept best weights and stops the gradient source (worker threads); the model stays usable. */
  dispose(): void {
    this.gradients.dispose();
    this.optimizer.dispose();
    this.kept?.model.dispose();
    this.kept = undefined;
  }
}

/** Makes `to`'s variables share `from`'s current values; later assignments to either replace, never alter, them. */
function copyWeights(from: SequenceClassifier, to: SequenceClassifier): void {
  for (const [name, variable] of Object.entries(from.variables)) to.variables[name]?.assign(variable);
}
