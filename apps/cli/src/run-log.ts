import { join } from "node:path";
import type { MnistSplit } from "@mnist/data";
import type { SequenceClassifier } from "@mnist/rnn";
import { markdownTable } from "@mnist/summary";
import { createFileWriter } from "@mnist/summary/node";
import { tensorBoardHooks, type TrainHooks } from "@mnist/train";
import { classify } from "./classify.js";
import { captionedDigits } from "./sample-grid.js";
import { permutedPixels, type SequenceInput } from "./sequence-input.js";

type FileWriter = Awaited<ReturnType<typeof createFileWriter>>;

/** What goes to TensorBoard besides the per-step scalars. */
export interface RunLogConfig {
  /** Steps between weight histograms: 500. */
  histogramStep: number;
  /** Test digits drawn, with their predicted labels, in the sample image: 10. */
  sampleCount: number;
}

export const defaultRunLogConfig: RunLogConfig = { histogramStep: 500, sampleCount: 10 };

/**
 * Default run folder name: start time, cell and width, then what differs from the tutorial's
 * input and depth, so runs side by side in TensorBoard say what they are, e.g.
 * 2026-11-27T12-30-05-lstm-h128 or 2026-11-27T12-30-05-lstm-h128-l2-pixels-permuted7.
 */
export function defaultRunName(model: { cell: string; hiddenSize: number; layers: number }, input: SequenceInput, now = new Date()): string {
  const stamp = now.toISOString().slice(0, 19).replace(/:/g, "-");
  const parts = [stamp, model.cell, `h${model.hiddenSize}`];
  if (model.layers > 1) parts.push(`l${model.layers}`);
  if (input.sequence !== "rows") parts.push(input.sequence);
  if (input.permute !== undefined) parts.push(`permuted${input.permute}`);
  return parts.join("-");
}

/**
 * One training run's TensorBoard event file in <logdir>/<run>: "accuracy" and "loss" every
 * summary step, weight histograms, "test/accuracy" and "test/loss" after the final evaluation
 * (all via @mnist/train's tensorBoardHooks), the hyper-parameters as text, and sample digits.
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

  hyperParameters(values: Record<string, unknown>, step: number): void {
    this.writer.text("hyperparameters", markdownTable(values, ["parameter", "value"]), step);
  }

  /** The first test digits (as images, whatever sequences the model reads) with the model's prediction drawn under each. */
  samples(model: SequenceClassifier, test: MnistSplit, input: SequenceInput, step: number): void {
    const count = Math.min(this.config.sampleCount, test.count);
    const pixels = Float32Array.from(test.images.subarray(0, count * test.rows * test.cols), (v) => v / 255);
    const labels = classify(model, permutedPixels(pixels, count, input), count).map((c) => c.digit);
    this.writer.image("samples/predicted", captionedDigits(pixels, count, test.rows, labels), step);
  }

  async close(): Promise<void> {
    await this.writer.close();
  }
}
