import type { MnistSplit } from "@mnist/data";
import { SequenceClassifier, type ModelConfig } from "@mnist/rnn";
import { eventFileName, SummaryWriter } from "@mnist/summary";
import {
  combineHooks,
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
  private readonly startedSeconds = Math.floor(Date.now() / 1000);
  private controller: AbortController | undefined;

  constructor(train: MnistSplit, modelConfig: Partial<ModelConfig>, trainConfig: Partial<TrainConfig>, listener: SessionListener) {
    this.model = SequenceClassifier.create(modelConfig);
    // flushMillis 0: every record goes straight to memory, so a download is always complete.
    this.writer = new SummaryWriter((chunk) => void this.records.push(chunk), { flushMillis: 0 });
    const page: TrainHooks = {
      async onStep(e) {
        listener.onStep(e);
        // Steps are synchronous on wasm and cpu; without a pause the page would not repaint.
        await yieldToBrowser();
      },
      onLog: (e) => listener.onLog(e.line),
    };
    this.trainer = new Trainer(this.model, train, trainConfig, { hooks: combineHooks(tensorBoardHooks(this.writer, this.model), page) });
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

  /** Test-set evaluation, also recorded in the event file as test/accuracy and test/loss; onProgress is awaited after each batch of images. */
  evaluate(test: MnistSplit, onProgress: (done: number) => void | Promise<void>): Promise<EvaluationResult> {
    return this.trainer.evaluate(test, "test", { onProgress });
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
