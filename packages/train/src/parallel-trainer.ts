import * as tf from "@tensorflow/tfjs-core";
import type { MnistSplit } from "@mnist/data";
import type { SequenceClassifier } from "@mnist/rnn";
import type { TrainConfig } from "./config.js";
import { ConfigError } from "./errors.js";
import type { EvaluateOptions, EvaluationResult } from "./evaluate.js";
import type { TrainHooks } from "./hooks.js";
import type { MinibatchGradients, MinibatchInput } from "./minibatch.js";
import { WORKER_BACKENDS } from "./parallel-protocol.js";
import { Trainer, type ResumeBudget } from "./trainer.js";
import { WorkerPool } from "./worker-pool.js";

/** How ParallelTrainer spreads the work. */
export interface ParallelOptions {
  /** Threads that share each minibatch and evaluation, the calling thread included; 1 trains like Trainer; default 2. */
  workers?: number;
  /** The worker script; default the built parallel-worker.js beside this module (override when bundling). */
  workerScript?: URL;
}

/**
 * A Trainer whose minibatches are shared out among worker threads (Node
 * worker_threads), because TensorFlow.js runs its cpu and wasm backends on one
 * core under Node. Each step the calling thread and the workers compute
 * gradients of contiguous shares of the same minibatch, which are combined
 * into the gradient of the whole minibatch's mean loss; the model, Adam and the
 * batcher stay on the calling thread, so data order, checkpoints and resume are
 * those of Trainer. Call dispose() to stop the threads.
 */
export class ParallelTrainer extends Trainer {
  /** Threads sharing each minibatch, the calling thread included. */
  readonly workers: number;
  private readonly pool: WorkerPool | undefined;

  constructor(
    model: SequenceClassifier,
    train: MnistSplit,
    config: Partial<TrainConfig> = {},
    hooks: TrainHooks = {},
    options: ParallelOptions = {},
  ) {
    super(model, train, config, hooks);
    this.workers = options.workers ?? 2;
    if (!Number.isInteger(this.workers) || this.workers < 1) {
      throw new ConfigError("workers", "a positive integer (threads, the calling one included)", String(options.workers));
    }
    const backend = tf.getBackend();
    if (this.workers > 1 && WORKER_BACKENDS[backend] === undefined) {
      throw new ConfigError(
        "workers",
        `1 on the ${backend} backend (worker threads run ${Object.keys(WORKER_BACKENDS).join(" or ")})`,
        String(this.workers),
        "use workers: 1, or the wasm backend",
      );
    }
    this.pool =
      this.workers > 1
        ? new WorkerPool(model, this.workers, this.config.batchSize, options.workerScript ?? new URL("./parallel-worker.js", import.meta.url))
        : undefined;
  }

  protected override minibatch(batch: MinibatchInput): Promise<MinibatchGradients> {
    return this.pool === undefined ? super.minibatch(batch) : this.pool.minibatch(batch);
  }

  /** Evaluations (trainer.evaluate() and run()'s validations) with the split shared out among the threads, which take the model's current weights. */
  protected override evaluateSplit(split: MnistSplit, options: EvaluateOptions): Promise<EvaluationResult> {
    return this.pool === undefined ? super.evaluateSplit(split, options) : this.pool.evaluate(split, options);
  }

  /** Trainer.resume() into a ParallelTrainer; the workers take their weights from the restored model. */
  static override async resume(
    dir: string,
    train: MnistSplit,
    hooks: TrainHooks = {},
    budget: ResumeBudget = {},
    options: ParallelOptions = {},
  ): Promise<ParallelTrainer> {
    return ParallelTrainer.restore(dir, train, budget, (model, config) => new ParallelTrainer(model, train, config, hooks, options));
  }

  /** Frees the optimizer state and stops the worker threads; the model stays usable. */
  override dispose(): void {
    super.dispose();
    void this.pool?.terminate();
  }
}
