import type { MnistSplit } from "@mnist/data";
import { SequenceClassifier, type ModelConfig } from "@mnist/rnn";
import { eventFileName, SummaryWriter } from "@mnist/summary";
import {
  combineHooks,
  evaluate,
  tensorBoardHooks,
  Trainer,
  type EvaluationResult,
  type RunResult,
  type StepEvent,
  type TrainConfig,
  type TrainHooks,
} from "@mnist/train";

/** What the page shows while a session trains. */
export interface SessionListener {
  onStep(e: StepEvent): void;
  /** Every displayStep steps, with the tutorial's line. */
  onLog(line: string): void;
}

/**
 * One model trained in the page: its trainer, which can be stopped and continued, and its
 * TensorBoard event file, kept in memory for download.
 */
export class TrainingSession {
  readonly model: SequenceClassifier;
  readonly trainer: Trainer;
  private readonly writer: SummaryWriter;
  private readonly records: Uint8Array[] = [];
  private readonly tensorBoard: TrainHooks;
  private readonly startedSeconds = Math.floor(Date.now() / 1000);
  private controller: AbortController | undefined;

  constructor(train: MnistSplit, modelConfig: Partial<ModelConfig>, trainConfig: Partial<TrainConfig>, listener: SessionListener) {
    this.model = SequenceClassifier.create(modelConfig);
    // flushMillis 0: every record goes straight to memory, so a download is always complete.
    this.writer = new SummaryWriter((chunk) => void this.records.push(chunk), { flushMillis: 0 });
    this.tensorBoard = tensorBoardHooks(this.writer, this.model);
    const page: TrainHooks = {
      async onStep(e) {
        listener.onStep(e);
        // Steps are synchronous on wasm and cpu; without a pause the page would not repaint.
        await yieldToBrowser();
      },
      onLog: (e) => listener.onLog(e.line),
    };
    this.trainer = new Trainer(this.model, train, trainConfig, combineHooks(this.tensorBoard, page));
  }

  get running(): boolean {
    return this.controller !== undefined;
  }

  get finished(): boolean {
    return this.trainer.completedSteps >= this.trainer.totalSteps;
  }

  /** Trains until the step budget is spent or stop() is called; call again to continue. */
  async run(): Promise<RunResult> {
    this.controller = new AbortController();
    try {
      return await this.trainer.run({ signal: this.controller.signal });
    } finally {
      this.controller = undefined;
    }
  }

  /** Ends run() after the step in progress. */
  stop(): void {
    this.controller?.abort();
  }

  /** Test-set evaluation, also recorded in the event file as test/accuracy and test/loss. */
  async evaluate(test: MnistSplit, onProgress: (done: number) => void): Promise<EvaluationResult> {
    const result = await evaluateInSlices(this.model, test, onProgress);
    await this.tensorBoard.onEvaluate?.({ ...result, step: this.trainer.completedSteps, epoch: this.trainer.completedEpochs, split: "test" });
    return result;
  }

  /** The run's TensorBoard event file so far, named as TensorFlow names them. */
  async eventFile(): Promise<{ blob: Blob; name: string }> {
    await this.writer.flush();
    return {
      blob: new Blob(this.records as BlobPart[], { type: "application/octet-stream" }),
      name: eventFileName({ seconds: this.startedSeconds, host: "browser" }),
    };
  }

  dispose(): void {
    this.stop();
    void this.writer.close();
    this.trainer.dispose();
    this.model.dispose();
  }
}

/**
 * evaluate() over slices of the split with a pause between them, so the page stays
 * responsive and can show progress; the slices' results are combined exactly.
 */
export async function evaluateInSlices(
  model: SequenceClassifier,
  split: MnistSplit,
  onProgress: (done: number) => void,
  sliceSize = 1000,
): Promise<EvaluationResult> {
  const started = performance.now();
  const pixels = split.rows * split.cols;
  const parts: EvaluationResult[] = [];
  for (let start = 0; start < split.count; start += sliceSize) {
    const count = Math.min(sliceSize, split.count - start);
    const slice: MnistSplit = {
      ...split,
      count,
      images: split.images.subarray(start * pixels, (start + count) * pixels),
      labels: split.labels.subarray(start, start + count),
    };
    parts.push(await evaluate(model, slice));
    onProgress(start + count);
    await yieldToBrowser();
  }
  const classes = model.config.classes;
  const confusion = Array.from({ length: classes }, (_, label) =>
    Array.from({ length: classes }, (_, predicted) => parts.reduce((sum, part) => sum + (part.confusion[label]?.[predicted] ?? 0), 0)),
  );
  const count = parts.reduce((sum, part) => sum + part.count, 0);
  const correct = confusion.reduce((sum, row, label) => sum + (row[label] ?? 0), 0);
  return {
    accuracy: correct / count,
    loss: parts.reduce((sum, part) => sum + part.loss * part.count, 0) / count,
    count,
    confusion,
    perClassAccuracy: confusion.map((row, label) => {
      const total = row.reduce((sum, n) => sum + n, 0);
      return total === 0 ? Number.NaN : (row[label] ?? 0) / total;
    }),
    imagesPerSecond: count / ((performance.now() - started) / 1000),
  };
}

/**
 * Lets the browser paint and handle input. A message-channel task, unlike setTimeout,
 * is not slowed to one per second when the tab is in the background.
 */
export function yieldToBrowser(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(null);
  });
}
