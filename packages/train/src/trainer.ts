import * as tf from "@tensorflow/tfjs-core";
import { Batcher, type Batch, type MnistSplit } from "@mnist/data";
import { SequenceClassifier } from "@mnist/rnn";
import { Adam } from "./adam.js";
import { readCheckpoint, writeCheckpoint } from "./checkpoint.js";
import { resolveTrainConfig, totalSteps, type TrainConfig } from "./config.js";
import { CheckpointError, ConfigError, DivergenceError } from "./errors.js";
import { evaluate, type EvaluateOptions, type EvaluationResult } from "./evaluate.js";
import { formatIterationLine } from "./format.js";
import { minibatchGradients, type MinibatchGradients } from "./minibatch.js";
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
}

/** Options of Trainer.run(). */
export interface RunOptions {
  /** Stops after the step in progress; with checkpointDir a checkpoint is written first. */
  signal?: AbortSignal;
  /** Folder for checkpoints; when set, one is also written when run() returns. */
  checkpointDir?: string;
  /** Steps between checkpoints (needs checkpointDir); default: only at the end. */
  checkpointEvery?: number;
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
}

/**
 * The tutorial's training loop: seeded shuffled minibatches, Adam, a log
 * line every displayStep steps. Progress, summaries and checkpoints reach
 * the outside world only through hooks, so the loop knows nothing of files
 * or terminals. The trainer owns its optimizer state (dispose()), not the model.
 */
export class Trainer {
  readonly config: TrainConfig;
  /** Steps the config's budget allows for this training split. */
  readonly totalSteps: number;
  private batcher: Batcher;
  private readonly optimizer: Adam;
  private completed = 0;

  constructor(
    readonly model: SequenceClassifier,
    private readonly train: MnistSplit,
    config: Partial<TrainConfig> = {},
    private readonly hooks: TrainHooks = {},
  ) {
    this.config = resolveTrainConfig(config);
    const { steps, inputSize } = model.config;
    if (train.rows !== steps || train.cols !== inputSize) {
      throw new ConfigError(
        "training split",
        `images of ${steps} rows x ${inputSize} columns (the model's steps x inputSize)`,
        `${train.rows} x ${train.cols}`,
        "create the model with steps = rows and inputSize = cols of the images",
      );
    }
    this.totalSteps = totalSteps(this.config, train.count);
    this.batcher = new Batcher(train, { seed: this.config.seed, shuffle: true });
    this.optimizer = new Adam(model.variables, this.config.learningRate);
  }

  /** Steps completed so far (including those before a resume). */
  get completedSteps(): number {
    return this.completed;
  }

  /** Runs steps until the budget is spent or the signal aborts. */
  async run(options: RunOptions = {}): Promise<RunResult> {
    const started = performance.now();
    const { signal, checkpointDir, checkpointEvery } = options;
    if (checkpointEvery !== undefined && (checkpointDir === undefined || !Number.isInteger(checkpointEvery) || checkpointEvery < 1)) {
      throw new ConfigError(
        "checkpointEvery",
        "a positive integer, together with checkpointDir",
        `${checkpointEvery} with checkpointDir ${String(checkpointDir)}`,
      );
    }
    let steps = 0;
    let savedStep = -1;
    while (this.completed < this.totalSteps && signal?.aborted !== true) {
      await this.step();
      steps += 1;
      if (checkpointDir !== undefined && checkpointEvery !== undefined && this.completed % checkpointEvery === 0) {
        await this.saveCheckpoint(checkpointDir);
        savedStep = this.completed;
      }
    }
    if (checkpointDir !== undefined && savedStep !== this.completed) await this.saveCheckpoint(checkpointDir);
    return { steps, stoppedEarly: this.completed < this.totalSteps, seconds: (performance.now() - started) / 1000 };
  }

  /**
   * One minibatch: forward, gradients, one host read of loss and accuracy
   * together, then the Adam update. A non-finite loss throws DivergenceError
   * before the update, so the weights stay those of the last good step.
   */
  async step(): Promise<StepEvent> {
    const started = performance.now();
    const step = this.completed + 1;
    const batch = this.batcher.nextBatch(this.config.batchSize);
    const { loss, accuracy, gradients } = await this.minibatch(batch);
    if (!Number.isFinite(loss)) {
      tf.dispose(gradients);
      throw new DivergenceError(step, loss);
    }
    this.optimizer.apply(gradients);
    tf.dispose(gradients);
    this.completed = step;
    const seconds = (performance.now() - started) / 1000;
    const event: StepEvent = {
      step,
      samples: step * this.config.batchSize,
      loss,
      accuracy,
      samplesPerSecond: seconds > 0 ? batch.size / seconds : Number.POSITIVE_INFINITY,
      epoch: this.batcher.epoch,
    };
    await this.hooks.onStep?.(event);
    if (step % this.config.displayStep === 0) {
      await this.hooks.onLog?.({ ...event, line: formatIterationLine(event.samples, loss, accuracy) });
    }
    if (step % this.config.summaryStep === 0) await this.hooks.onSummary?.(event);
    return event;
  }

  /** Loss, accuracy and gradients of one minibatch; ParallelTrainer shares this out among threads. */
  protected minibatch(batch: Batch): Promise<MinibatchGradients> {
    return minibatchGradients(this.model, batch);
  }

  /** evaluate() on a split, reported to onEvaluate under `name` (e.g. "test"). */
  async evaluate(split: MnistSplit, name = "test", options: EvaluateOptions = {}): Promise<EvaluationResult> {
    const result = await evaluate(this.model, split, options);
    await this.hooks.onEvaluate?.({ ...result, step: this.completed, split: name });
    return result;
  }

  /** Writes model, Adam state, data position and step into `dir` atomically, then calls onCheckpoint. Node only (file system). */
  async saveCheckpoint(dir: string): Promise<void> {
    await writeCheckpoint(
      dir,
      this.model,
      { step: this.completed, config: this.config, batcher: this.batcher.state(), trainCount: this.train.count },
      await this.optimizer.state(),
    );
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
      return trainer;
    } catch (error) {
      trainer?.dispose();
      model.dispose();
      throw error;
    }
  }

  /** Frees the optimizer state; the model stays usable. */
  dispose(): void {
    this.optimizer.dispose();
  }
}
