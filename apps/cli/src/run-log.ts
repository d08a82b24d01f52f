import { join } from "node:path";
import { sequencePixels, toSequences, type MnistSplit, type SequenceInput } from "@mnist/data";
import type { ModelConfig, SequenceClassifier } from "@mnist/rnn";
import { markdownTable, type SessionStatus } from "@mnist/summary";
import { createFileWriter, writeProjector } from "@mnist/summary/node";
import { hiddenStates, modelGraph, RUN_EXPERIMENT, runHParams, tensorBoardHooks, type RunSettings, type TrainConfig, type TrainHooks } from "@mnist/train";
import { classify } from "./classify.js";
import { captionedDigits } from "./sample-grid.js";

type FileWriter = Awaited<ReturnType<typeof createFileWriter>>;

/** What goes to TensorBoard besides the per-step scalars. */
export interface RunLogConfig {
  /** Steps between weight histograms: 500. */
  histogramStep: number;
  /** Test digits drawn, with their predicted labels, in the sample image: 10. */
  sampleCount: number;
  /** Test digits whose last hidden states go to the embedding projector: 1000. */
  projectorSize: number;
}

export const defaultRunLogConfig: RunLogConfig = { histogramStep: 500, sampleCount: 10, projectorSize: 1000 };

/**
 * Default run folder name: start time, cell and width, then what differs from the default
 * model's input, depth and dense layers, so runs side by side in TensorBoard say what they are,
 * e.g. 2026-11-27T12-30-05-lstm-h128, 2026-11-27T12-30-05-lstm-h128-l2-pixels-permuted7 or
 * 2026-11-27T12-30-05-lstm-h128-normalinit (--preset tutorial-exact).
 */
export function defaultRunName(
  model: Pick<ModelConfig, "cell" | "hiddenSize" | "layers" | "denseInit" | "outputBias">,
  input: SequenceInput,
  now = new Date(),
): string {
  const stamp = now.toISOString().slice(0, 19).replace(/:/g, "-");
  const parts = [stamp, model.cell, `h${model.hiddenSize}`];
  if (model.layers > 1) parts.push(`l${model.layers}`);
  if (input.order !== "rows") parts.push(input.order);
  if (input.permute !== undefined) parts.push(`permuted${input.permute}`);
  if (model.denseInit === "normal") parts.push("normalinit");
  if (model.outputBias === "in-weights") parts.push("biasinweights");
  return parts.join("-");
}

/**
 * One training run's TensorBoard folder <logdir>/<run>. Its event file holds the model's graph
 * and the run's HParams row (written first, so even a killed run has them), "accuracy" and
 * "loss" every summary step, weight histograms, "test/accuracy" and "test/loss" after the final
 * evaluation (all via @mnist/train's tensorBoardHooks), the hyper-parameters as text, and sample
 * digits; beside it, the projector files of the test digits' last hidden states.
 */
export class RunLog {
  private constructor(
    readonly dir: string,
    private readonly writer: FileWriter,
    private readonly config: RunLogConfig,
  ) {}

  static async open(logdir: string, run: string, config: Partial<RunLogConfig> = {}): Promise<RunLog> {
    const dir = join(logdir, run);
    return new RunLog(dir, await createFileWriter(dir), { ...defaultRunLogConfig, ...config });
  }

  /** The event file being written. */
  get path(): string {
    return this.writer.path;
  }

  hooks(model: SequenceClassifier): TrainHooks {
    return tensorBoardHooks(this.writer, model, { histogramStep: this.config.histogramStep });
  }

  /** The model's graph (with its training ops when `train` is given), on disk once this resolves. */
  async graph(model: ModelConfig, train?: TrainConfig): Promise<void> {
    this.writer.graph(modelGraph(model, train));
    await this.writer.flush();
  }

  /**
   * The run's row in the HParams table, on disk once this resolves. TensorBoard keeps the first
   * row a run folder holds, so a resumed run's row stays the one its first part wrote.
   */
  async hparams(settings: RunSettings): Promise<void> {
    this.writer.hparams(RUN_EXPERIMENT, runHParams(settings));
    await this.writer.flush();
  }

  /**
   * The run's status in the HParams table. TensorBoard keeps a run's first status, so call
   * this once, when the run is over for good: not when it stops to be resumed.
   */
  end(status: SessionStatus): void {
    this.writer.hparamsEnd(status);
  }

  /** "<split>/accuracy" and "<split>/loss" of an evaluation not made through the training hooks. */
  evaluation(split: string, result: { accuracy: number; loss: number }, step: number): void {
    this.writer.scalar(`${split}/accuracy`, result.accuracy, step);
    this.writer.scalar(`${split}/loss`, result.loss, step);
  }

  /**
   * The embedding projector's files in the run folder: the last hidden state of the first
   * projectorSize test digits, labelled with their label and the model's prediction, drawn from
   * a sprite of the digits. Resolves to the config file's path.
   */
  async projector(model: SequenceClassifier, test: MnistSplit, input: SequenceInput): Promise<string> {
    const states = await hiddenStates(model, toSequences(test, input), this.config.projectorSize);
    const rows = Array.from(states.labels, (label, n) => [label, states.predictions[n]!, label === states.predictions[n] ? "yes" : "no"]);
    const paths = await writeProjector(this.dir, {
      name: `${model.config.cell}/last_hidden`,
      values: states.values,
      dimension: model.config.hiddenSize,
      metadata: { columns: ["label", "prediction", "correct"], rows },
      sprite: { images: test.images.subarray(0, states.count * test.rows * test.cols), rows: test.rows, cols: test.cols },
    });
    return paths.at(-1)!;
  }

  hyperParameters(values: Record<string, unknown>, step: number): void {
    this.writer.text("hyperparameters", markdownTable(values, ["parameter", "value"]), step);
  }

  /** The first test digits (as images, whatever sequences the model reads) with the model's prediction drawn under each. */
  samples(model: SequenceClassifier, test: MnistSplit, input: SequenceInput, step: number): void {
    const count = Math.min(this.config.sampleCount, test.count);
    const pixels = Float32Array.from(test.images.subarray(0, count * test.rows * test.cols), (v) => v / 255);
    const labels = classify(model, sequencePixels(pixels, count, input), count).map((c) => c.digit);
    this.writer.image("samples/predicted", captionedDigits(pixels, count, test.rows, labels), step);
  }

  async close(): Promise<void> {
    await this.writer.close();
  }
}
