import * as tf from "@tensorflow/tfjs-core";
import { Batcher, type MnistSplit } from "@mnist/data";
import { SequenceClassifier } from "@mnist/rnn";
import { Adam } from "./adam.js";
import { readCheckpoint, writeCheckpoint, type TrainerState } from "./checkpoint.js";
import { clipByGlobalNorm, globalNorm } from "./clipping.js";
import { learningRateAt, resolveTrainConfig, totalSteps, type TrainConfig } from "./config.js";
import { CheckpointError, ConfigError, DivergenceError } from "./errors.js";
import { evaluate, type EvaluateOptions, type EvaluationResult } from "./evaluate.js";
import { formatIterationLine } from "./format.js";
import { minibatchGradients, type MinibatchGradients, type MinibatchInput } from "./minibatch.js";
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

/** Options of Trainer.run(). */
export interface RunOptions {
  /** Stops after the step in progress; with checkpointDir a checkpoint is written first. */
  signal?: AbortSignal;
  /** Folder for checkpoints; when set, one is also written when run() returns. */
  checkpointDir?: string;
  /** Steps between checkpoints (needs checkpointDir); default: only at the end. */
  checkpointEvery?: number;
  /** Split evaluated during training (reported to onEvaluate as "validation"); never the test split; default unset. */
  validation?: MnistSplit;
  /** Steps between validations (needs validation), plus one at the budget's last step; default once per epoch, ceil(trainCount / batchSize). */
  validateEvery?: number;
  /** Keep a copy of the weights with the best validation accuracy so far (the earlier on ties), for restoreBest(); needs validation; default false. */
  keepBest?: boolean;
}

/** A new sample or epoch budget for a resumed run; unset fields keep the saved ones. */
export type ResumeBudget = Partial<Pick<TrainConfig, "trainingIters" | "epochs">>;

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
 * or terminals. The trainer owns its optimizer state and best-weights copy
 * (dispose()), not the model.
 */
export class Trainer {
  readonly config: TrainConfig;
  /** Steps the config's budget allows for this training split. */
  readonly totalSteps: number;
  private batcher: Batcher;
  private readonly optimizer: Adam;
  private completed = 0;
  /** The best validation so far and a model holding its weights (run({ keepBest })). */
  private kept: { record: ValidationRecord; model: SequenceClassifier } | undefined;

  constructor(
    readonly model: SequenceClassifier,
    private readonly train: MnistSplit,
    config: Partial<TrainConfig> = {},
    private readonly hooks: TrainHooks = {},
  ) {
    this.config = resolveTrainConfig(config);
    this.checkSplit(train, "training split");
    this.totalSteps = totalSteps(this.config, train.count);
    this.batcher = new Batcher(train, { seed: this.config.seed, shuffle: true, maxShift: this.config.maxShift });
    this.optimizer = new Adam(model.variables);
  }

  private checkSplit(split: MnistSplit, what: string): void {
    const { steps, inputSize } = this.model.config;
    if (split.rows !== steps || split.cols !== inputSize) {
      throw new ConfigError(
        what,
        `images of ${steps} rows x ${inputSize} columns (the model's steps x inputSize)`,
        `${split.rows} x ${split.cols}`,
        "create the model with steps = rows and inputSize = cols of the images",
      );
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
    const { signal, checkpointDir, checkpointEvery, validation, keepBest = false } = options;
    if (checkpointEvery !== undefined && (checkpointDir === undefined || !Number.isInteger(checkpointEvery) || checkpointEvery < 1)) {
      throw new ConfigError(
        "checkpointEvery",
        "a positive integer, together with checkpointDir",
        `${checkpointEvery} with checkpointDir ${String(checkpointDir)}`,
      );
    }
    const validateEvery = options.validateEvery ?? Math.ceil(this.train.count / this.config.batchSize);
    if (validation === undefined && (options.validateEvery !== undefined || keepBest)) {
      throw new ConfigError("validation", "a split to validate on, which validateEvery and keepBest need", "none", "pass run({ validation })");
    }
    if (!Number.isInteger(validateEvery) || validateEvery < 1) {
      throw new ConfigError("validateEvery", "a positive integer (steps between validations)", String(validateEvery));
    }
    if (validation !== undefined) {
      if (validation.count === 0) throw new ConfigError("validation split", "at least one image", "0 images");
      this.checkSplit(validation, "validation split");
    }
    let steps = 0;
    let savedStep = -1;
    const validations: ValidationRecord[] = [];
    while (this.completed < this.totalSteps && signal?.aborted !== true) {
      await this.step();
      steps += 1;
      if (validation !== undefined && (this.completed % validateEvery === 0 || this.completed === this.totalSteps)) {
        validations.push(await this.validate(validation, keepBest));
      }
      if (checkpointDir !== undefined && checkpointEvery !== undefined && this.completed % checkpointEvery === 0) {
        await this.saveCheckpoint(checkpointDir);
        savedStep = this.completed;
      }
    }
    if (checkpointDir !== undefined && savedStep !== this.completed) await this.saveCheckpoint(checkpointDir);
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
    const { loss, accuracy, gradients } = await this.minibatch(input);
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

  /** Loss, accuracy and gradients of one minibatch; ParallelTrainer shares this out among threads. */
  protected minibatch(batch: MinibatchInput): Promise<MinibatchGradients> {
    return minibatchGradients(this.model, batch);
  }

  /** evaluate() on a split, reported to onEvaluate under `name` (e.g. "test"). */
  async evaluate(split: MnistSplit, name = "test", options: EvaluateOptions = {}): Promise<EvaluationResult> {
    const result = await this.evaluateSplit(split, options);
    await this.hooks.onEvaluate?.({ ...result, step: this.completed, epoch: this.completedEpochs, split: name });
    return result;
  }

  /** The model's evaluation on a split; ParallelTrainer shares it out among threads. */
  protected evaluateSplit(split: MnistSplit, options: EvaluateOptions): Promise<EvaluationResult> {
    return evaluate(this.model, split, options);
  }

  /** Writes model, Adam state, data position, step and kept best weights into `dir` atomically, then calls onCheckpoint. Node only (file system). */
  async saveCheckpoint(dir: string): Promise<void> {
    const state: TrainerState = { step: this.completed, config: this.config, batcher: this.batcher.state(), trainCount: this.train.count };
    if (this.kept !== undefined) state.best = { ...this.kept.record };
    await writeCheckpoint(dir, this.model, state, await this.optimizer.state(), this.kept?.model);
    await this.hooks.onCheckpoint?.({ step: this.completed, dir });
  }

  /**
   * A trainer that continues the run saved in `dir` exactly as if it had
   * never stopped (same split, same backend). Its model is new: dispose it
   * with trainer.model.dispose(). `budget` may extend (or shorten) the run:
   * a new trainingIters replaces the saved budget, epochs included, so that
   * `--iters N` then `--resume --iters 2N` ends where a straight 2N run ends.
   * Node only (file system).
   */
  static async resume(dir: string, train: MnistSplit, hooks: TrainHooks = {}, budget: ResumeBudget = {}): Promise<Trainer> {
    return Trainer.restore(dir, train, budget, (model, config) => new Trainer(model, train, config, hooks));
  }

  /** resume() for any kind of trainer: `create` makes it from the saved model and config, then its state is put back. */
  protected static async restore<T extends Trainer>(
    dir: string,
    train: MnistSplit,
    budget: ResumeBudget,
    create: (model: SequenceClassifier, config: Partial<TrainConfig>) => T,
  ): Promise<T> {
    const checkpoint = await readCheckpoint(dir);
    const config: Partial<TrainConfig> = { ...checkpoint.trainer.config };
    if (budget.trainingIters !== undefined) {
      config.trainingIters = budget.trainingIters;
      delete config.epochs;
    }
    if (budget.epochs !== undefined) config.epochs = budget.epochs;
    if (checkpoint.trainer.trainCount !== train.count) {
      throw new CheckpointError(
        dir,
        `a training split of ${checkpoint.trainer.trainCount} images, as when it was saved`,
        `${train.count} images`,
        "resume with the same training split (same validation size)",
      );
    }
    const model = await SequenceClassifier.load(checkpoint.modelFolder);
    let trainer: T | undefined;
    try {
      trainer = create(model, config);
      trainer.optimizer.restore(checkpoint.adam, checkpoint.folder);
      trainer.batcher = Batcher.restore(train, checkpoint.trainer.batcher);
      trainer.completed = checkpoint.trainer.step;
      if (checkpoint.best !== undefined) {
        trainer.kept = { record: checkpoint.best.record, model: await SequenceClassifier.load(checkpoint.best.modelFolder) };
      }
      return trainer;
    } catch (error) {
      trainer?.dispose();
      model.dispose();
      throw error;
    }
  }

  /** Frees the optimizer state and the kept best weights; the model stays usable. */
  dispose(): void {
    this.optimizer.dispose();
    this.kept?.model.dispose();
    this.kept = undefined;
  }
}

/** Makes `to`'s variables share `from`'s current values; later assignments to either replace, never alter, them. */
function copyWeights(from: SequenceClassifier, to: SequenceClassifier): void {
  for (const [name, variable] of Object.entries(from.variables)) to.variables[name]?.assign(variable);
}
