import type { ModelFileFormat } from "@mnist/rnn";
import { formatTestLine, type EvaluationResult } from "@mnist/train";
import { TrainingChart } from "./chart.js";
import { DRAWN_IMAGE_SIDE, type Reading } from "./classify.js";
import { DrawingPad } from "./drawing-pad.js";
import { download, downloadFiles, readChosenFiles } from "./model-files.js";
import { TrainingClient } from "./training-client.js";
import type { Report } from "./training-protocol.js";
import { paintDigit, ProbabilityBars, renderConfusion } from "./views.js";

// The page's main thread only draws: training, evaluation, model files and reading the drawing
// pad are the training worker's (training-worker.ts), which reports steps and log lines.

const element = <T extends HTMLElement>(id: string): T => {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`index.html has no #${id}`);
  return found as T;
};
const buttons = {
  train: element<HTMLButtonElement>("train"),
  stop: element<HTMLButtonElement>("stop"),
  continue: element<HTMLButtonElement>("continue"),
  evaluate: element<HTMLButtonElement>("evaluate"),
  clear: element<HTMLButtonElement>("clear"),
  downloadModel: element<HTMLButtonElement>("download-model"),
  downloadLayers: element<HTMLButtonElement>("download-layers"),
  downloadEvents: element<HTMLButtonElement>("download-events"),
};
const progress = element<HTMLProgressElement>("progress");
const progressText = element("progress-text");
const log = element("log");
const chart = new TrainingChart(element<HTMLCanvasElement>("chart"));
const bars = new ProbabilityBars(element("probabilities"), 10);
const prediction = element<HTMLOutputElement>("prediction");
const modelView = element<HTMLCanvasElement>("model-view");
const LOG_LINES = 5;

const client = new TrainingClient(onReport, (message) => setStatus(message, true));
let ready = false;
/** Whether the worker has a model (trained or loaded). */
let hasModel = false;
/** The run in the worker, if the current model is being trained. */
let session: { totalSteps: number; finished: boolean } | undefined;
let running = false;
/** The current run or evaluation, so that starting something else waits for it. */
let busy: Promise<unknown> | undefined;

function setStatus(text: string, isError = false): void {
  const status = element("status");
  status.textContent = text;
  status.classList.toggle("error", isError);
  if (isError) console.error(text);
}

/** Page state as data attributes, which the end-to-end test waits on. */
function setState(name: string, value: string): void {
  document.body.dataset[name] = value;
}

/** Counts finished actions of a kind ("evaluations", "modelLoads") in a data attribute, so a waiter can tell a new one from an old one. */
function countDone(name: string): void {
  setState(name, String(Number(document.body.dataset[name] ?? 0) + 1));
}

function updateButtons(): void {
  const idle = !running && busy === undefined;
  buttons.train.disabled = !ready || !idle;
  buttons.stop.disabled = !running;
  buttons.continue.disabled = session === undefined || session.finished || !idle;
  buttons.evaluate.disabled = !hasModel || !idle;
  buttons.downloadModel.disabled = !hasModel;
  buttons.downloadLayers.disabled = !hasModel;
  buttons.downloadEvents.disabled = session === undefined;
}

const pad = new DrawingPad(element<HTMLCanvasElement>("pad"), requestReading);
/** A reading is being computed; `stale`: the pad changed since it was asked for. */
let reading: { stale: boolean } | undefined;

/**
 * Asks the worker to read the pad with the current weights; while one reading is in flight,
 * later changes make one more request when it returns. data-reading says whether what is shown
 * is the pad as it is now ("current") or not yet ("pending").
 */
function requestReading(): void {
  setState("reading", "pending");
  if (reading !== undefined) {
    reading.stale = true;
    return;
  }
  const asked = { stale: false };
  reading = asked;
  const { width, height, data } = pad.pixels();
  client
    .ask({ kind: "classify", image: { width, height, data } }, [data.buffer])
    .then(showReading, (error: unknown) => setStatus(`Cannot classify the drawing: ${(error as Error).message}`, true))
    .finally(() => {
      reading = undefined;
      if (asked.stale) requestReading();
      else setState("reading", "current");
    });
}

function showReading(shown: Reading | undefined): void {
  if (shown !== undefined) paintDigit(modelView, shown.pixels, DRAWN_IMAGE_SIDE);
  prediction.textContent = shown?.digit === undefined ? "" : String(shown.digit);
  bars.show(shown?.probabilities, shown?.digit);
}

/** The tutorial's console output, last lines only. */
function appendLog(line: string): void {
  const lines = (log.textContent ?? "").split("\n").filter(Boolean);
  log.textContent = [...lines, line].slice(-LOG_LINES).join("\n");
}

function onReport(report: Report): void {
  switch (report.kind) {
    case "loading":
      setStatus(`Loading MNIST… ${(report.bytes / 1e6).toFixed(1)} MB`);
      break;
    case "step": {
      const { event, totalSteps } = report;
      progress.max = totalSteps;
      progress.value = event.step;
      progressText.textContent = `step ${event.step} / ${totalSteps} · epoch ${event.epoch} · ${Math.round(event.samplesPerSecond)} images/s`;
      chart.add(event.step, event.loss, event.accuracy);
      setState("step", String(event.step));
      break;
    }
    case "log":
      appendLog(report.line);
      // The weights moved on: read the pad again with them.
      requestReading();
      break;
    case "evaluating":
      progress.max = report.total;
      progress.value = report.done;
      progressText.textContent = `evaluating: ${report.done} / ${report.total} test images`;
      break;
  }
}

function numberInput(id: string): number {
  return Number(element<HTMLInputElement>(id).value);
}

/**
 * Runs `work` as the page's one background job, keeping buttons and errors in order.
 * A training run in progress is stopped first (after its current step).
 */
async function exclusive(work: () => Promise<void>): Promise<void> {
  while (busy !== undefined) {
    if (running) void client.ask({ kind: "stop" });
    await busy;
  }
  const job = work().catch((error: unknown) => setStatus((error as Error).message, true));
  busy = job;
  updateButtons();
  await job;
  busy = undefined;
  updateButtons();
}

async function train(): Promise<void> {
  const active = session;
  if (active === undefined) return;
  setState("training", "running");
  setStatus(`Training on ${element("threads").textContent}…`);
  running = true;
  updateButtons();
  let result;
  try {
    result = await client.ask({ kind: "run" });
  } finally {
    running = false;
  }
  active.finished = result.finished;
  setState("training", result.finished ? "finished" : "stopped");
  setStatus(`${result.finished ? "Finished" : "Stopped"} after ${result.completedSteps} steps (${result.seconds.toFixed(1)} s for the last ${result.steps}).`);
  setState("trainSeconds", result.seconds.toFixed(3));
  requestReading();
  if (result.finished) await evaluateTest();
}

async function evaluateTest(): Promise<void> {
  const result: EvaluationResult = await client.ask({ kind: "evaluate" });
  element("test-accuracy").textContent = `${result.accuracy.toFixed(4)} (loss ${result.loss.toFixed(4)}, ${result.count} images, ${Math.round(result.imagesPerSecond)} images/s)`;
  renderConfusion(element<HTMLTableElement>("confusion"), result.confusion);
  appendLog(formatTestLine(result.accuracy));
  countDone("evaluations");
}

buttons.train.addEventListener("click", () => {
  void exclusive(async () => {
    const started = await client.ask({
      kind: "train",
      model: { hiddenSize: numberInput("hidden-size") },
      train: { batchSize: numberInput("batch-size"), learningRate: numberInput("learning-rate"), trainingIters: numberInput("training-iters"), summaryStep: 10 },
    });
    hasModel = true;
    session = { totalSteps: started.totalSteps, finished: false };
    chart.reset(started.totalSteps);
    log.textContent = "";
    await train();
  });
});
buttons.stop.addEventListener("click", () => void client.ask({ kind: "stop" }));
buttons.continue.addEventListener("click", () => void exclusive(train));
buttons.evaluate.addEventListener("click", () => void exclusive(evaluateTest));
buttons.clear.addEventListener("click", () => {
  pad.clear();
  requestReading();
});
const downloadModel = (format: ModelFileFormat) => () =>
  void client.ask({ kind: "modelFiles", format }).then(downloadFiles, (error: unknown) => setStatus((error as Error).message, true));
buttons.downloadModel.addEventListener("click", downloadModel("mnist-rnn"));
buttons.downloadLayers.addEventListener("click", downloadModel("tfjs-layers"));
buttons.downloadEvents.addEventListener("click", () => {
  void client.ask({ kind: "eventFile" }).then(
    ({ bytes, name }) => download(new Blob([bytes as BlobPart], { type: "application/octet-stream" }), name),
    (error: unknown) => setStatus((error as Error).message, true),
  );
});

async function loadModel(chosen: FileList | null): Promise<void> {
  if (chosen === null || chosen.length === 0) return;
  await exclusive(async () => {
    const files = await readChosenFiles(Array.from(chosen));
    const { model } = await client.ask({ kind: "load", files });
    hasModel = true;
    session = undefined;
    const { cell, hiddenSize } = model;
    setStatus(`Loaded a ${cell.toUpperCase()} model with ${hiddenSize} hidden units from ${files.length} files.`);
    countDone("modelLoads");
    requestReading();
  });
}
for (const id of ["model-files", "model-folder"]) {
  const input = element<HTMLInputElement>(id);
  input.addEventListener("change", () => void loadModel(input.files));
}

async function start(): Promise<void> {
  setStatus("Loading MNIST…");
  const started = await client.ask({ kind: "start", mnistUrl: new URL("mnist/", document.baseURI).href });
  element("backend").textContent = started.backend;
  const threads = `${started.threads} thread${started.threads === 1 ? "" : "s"}, ${started.sharedMemory ? "SharedArrayBuffer" : "message passing"}`;
  element("threads").textContent = threads;
  setState("threads", String(started.threads));
  setState("memory", started.sharedMemory ? "shared" : "messages");
  setStatus(`MNIST loaded: ${started.trainCount} training images (5000 held out, as the CLI's train does) and ${started.testCount} test images. Train a model, or load one.`);
  ready = true;
  setState("mnist", "loaded");
  updateButtons();
}

updateButtons();
start().catch((error: unknown) => setStatus(`Could not start: ${(error as Error).message}`, true));
