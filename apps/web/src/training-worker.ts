import { describeSequenceInput, modelSequenceInput, ROWS_INPUT, sequenceInputMetadata, splitValidation, toSequences, type MnistSplit } from "@mnist/data";
import { SequenceClassifier, writeModel } from "@mnist/rnn";
import { eventFileName, SummaryWriter } from "@mnist/summary";
import {
  combineHooks,
  DEFAULT_TRAIN_CONFIG,
  modelGraph,
  RUN_EXPERIMENT,
  runHParams,
  sharedMemoryAvailable,
  tensorBoardHooks,
  Trainer,
  webWorkers,
  type GradientSource,
  type GradientSourceFactory,
  type StepEvent,
} from "@mnist/train";
import { startBackend } from "./backend.js";
import { classifyDrawing, DRAWN_IMAGE_SIDE } from "./classify.js";
import { fetchMnist } from "./mnist.js";
import { modelFromFiles } from "./model-files.js";
import type { Answers, Command, FromWorker, NamedFile, Report } from "./training-protocol.js";

// The page's training worker: MNIST, the model, the Trainer (Adam, batches, TensorBoard writer),
// the pool of gradient workers and the drawing pad's classifier all live here, so the page's main
// thread only draws what this reports. The pad is read here, between the pool's replies, with the
// live weights: on the main thread one reading took 20-100 ms while both cores trained.

interface Session {
  trainer: Trainer;
  writer: SummaryWriter;
  records: Uint8Array[];
  startedSeconds: number;
  controller?: AbortController;
}

const scope = self as unknown as {
  postMessage(message: FromWorker): void;
  addEventListener(type: "message", listener: (event: MessageEvent<Command & { id: number }>) => void): void;
};
/**
 * The training images the CLI's `train` trains on: MNIST's 60000 less the last 5000, which it
 * holds out for validation (the tutorial's 55000), so that one seed trains the same model in both.
 */
const VALIDATION_SIZE = 5000;
let mnist: { train: MnistSplit; test: MnistSplit } | undefined;
let gradients: GradientSourceFactory | undefined;
let model: SequenceClassifier | undefined;
let session: Session | undefined;
/** The loaded model's evaluator (a pool when threads > 1), made on first use. */
let evaluator: GradientSource | undefined;

function report(message: Report): void {
  scope.postMessage({ report: message });
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} first`);
  return value;
}

/** One thread a core, up to 8: each holds a whole engine and model copy, and 8 shares of a minibatch of 128 are already 16 images each. */
const threadCount = (): number => Math.max(1, Math.min(8, navigator.hardwareConcurrency || 1));

/** A message-channel task: unlike setTimeout, never slowed down in a background tab. */
function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(null);
  });
}

function dropModel(): void {
  if (session !== undefined) {
    session.controller?.abort();
    void session.writer.close();
    session.trainer.dispose();
  }
  session = undefined;
  evaluator?.dispose();
  evaluator = undefined;
  model?.dispose();
  model = undefined;
}

const handlers: { [K in Command["kind"]]: (command: Extract<Command, { kind: K }>) => Promise<Answers[K]> } = {
  async start({ mnistUrl }) {
    const backend = await startBackend();
    const threads = threadCount();
    const sharedMemory = sharedMemoryAvailable();
    gradients = webWorkers({
      threads,
      sharedMemory,
      start: () => new Worker(new URL("./gradient-worker.ts", import.meta.url), { type: "module" }),
    });
    const all = await fetchMnist(new URL(mnistUrl), (bytes) => report({ kind: "loading", bytes }));
    mnist = { train: toSequences(splitValidation(all.train, VALIDATION_SIZE).train, ROWS_INPUT), test: all.test };
    return { backend, threads, sharedMemory, trainCount: mnist.train.count, testCount: mnist.test.count };
  },

  async train({ model: modelConfig, train }) {
    const data = need(mnist, "start");
    dropModel();
    const trained = SequenceClassifier.create(modelConfig, { metadata: sequenceInputMetadata(ROWS_INPUT) });
    model = trained;
    // flushMillis 0: every record goes straight to memory, so a download is always complete.
    const records: Uint8Array[] = [];
    const writer = new SummaryWriter((chunk) => void records.push(chunk), { flushMillis: 0 });
    const page = {
      async onStep(event: StepEvent) {
        report({ kind: "step", event, totalSteps: trainer.totalSteps });
        // On one thread a step never waits for a message; this pause lets "stop" and downloads in.
        await nextTask();
      },
      onLog: (e: { line: string }) => report({ kind: "log", line: e.line }),
    };
    const trainer = new Trainer(trained, data.train, train, { hooks: combineHooks(tensorBoardHooks(writer, trained), page), gradients });
    writer.graph(modelGraph(trained.config, trainer.config));
    writer.hparams(RUN_EXPERIMENT, runHParams({ model: trained.config, train: trainer.config, input: ROWS_INPUT, keepBest: false }));
    session = { trainer, writer, records, startedSeconds: Math.floor(Date.now() / 1000) };
    return { model: trained.config, totalSteps: trainer.totalSteps };
  },

  async run() {
    const active = need(session, "train");
    active.controller = new AbortController();
    try {
      const result = await active.trainer.run({ signal: active.controller.signal });
      const finished = active.trainer.completedSteps >= active.trainer.totalSteps;
      if (finished) active.writer.hparamsEnd("success");
      return { ...result, completedSteps: active.trainer.completedSteps, finished };
    } finally {
      active.controller = undefined;
    }
  },

  async stop() {
    session?.controller?.abort();
    return null;
  },

  async evaluate() {
    const test = need(mnist, "start").test;
    const current = need(model, "train or load a model");
    const onProgress = (done: number) => report({ kind: "evaluating", done, total: test.count });
    if (session !== undefined) return session.trainer.evaluate(test, "test", { onProgress });
    evaluator ??= need(gradients, "start")(current, DEFAULT_TRAIN_CONFIG);
    return evaluator.evaluate(test, { onProgress });
  },

  async load({ files }) {
    const loaded = await modelFromFiles(files);
    dropModel();
    model = loaded;
    return { model: loaded.config };
  },

  async classify({ image }) {
    return model === undefined ? undefined : classifyDrawing(model, image);
  },

  async modelFiles({ format }) {
    const current = need(model, "train or load a model");
    const files: NamedFile[] = [];
    const expectedInput = describeSequenceInput(modelSequenceInput(current, { rows: DRAWN_IMAGE_SIDE, cols: DRAWN_IMAGE_SIDE }), current.config);
    await writeModel(current, async (name, bytes) => void files.push({ name, bytes }), { format, expectedInput });
    return files;
  },

  async eventFile() {
    const active = need(session, "train");
    await active.writer.flush();
    const bytes = new Uint8Array(active.records.reduce((sum, record) => sum + record.length, 0));
    let at = 0;
    for (const record of active.records) {
      bytes.set(record, at);
      at += record.length;
    }
    return { name: eventFileName({ seconds: active.startedSeconds, host: "browser" }), bytes };
  },
};

scope.addEventListener("message", (event) => {
  const { id, ...command } = event.data;
  const handle = handlers[command.kind] as (command: Command) => Promise<unknown>;
  handle(command).then(
    (value) => scope.postMessage({ id, ok: true, value }),
    (error: unknown) => scope.postMessage({ id, ok: false, message: error instanceof Error ? error.message : String(error) }),
  );
});
