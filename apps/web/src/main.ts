import type { Mnist } from "@mnist/data";
import type { SequenceClassifier } from "@mnist/rnn";
import { evaluate, formatTestLine, type EvaluationResult } from "@mnist/train";
import { startBackend } from "./backend.js";
import { TrainingChart } from "./chart.js";
import { classifyDrawing, DRAWN_IMAGE_SIDE } from "./classify.js";
import { DrawingPad } from "./drawing-pad.js";
import { fetchMnist } from "./mnist.js";
import { download, downloadModel, modelFromFiles } from "./model-files.js";
import { TrainingSession, yieldToBrowser } from "./session.js";
import { paintDigit, ProbabilityBars, renderConfusion } from "./views.js";

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

let mnist: Mnist | undefined;
let session: TrainingSession | undefined;
/** A model loaded from files; used when no session is training one. */
let loadedModel: SequenceClassifier | undefined;
/** The current run() or evaluation, so that starting something else waits for it. */
let busy: Promise<unknown> | undefined;

const currentModel = (): SequenceClassifier | undefined => session?.model ?? loadedModel;

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
  const running = session?.running === true;
  const idle = !running && busy === undefined;
  buttons.train.disabled = mnist === undefined || !idle;
  buttons.stop.disabled = !running;
  buttons.continue.disabled = session === undefined || session.finished || !idle;
  buttons.evaluate.disabled = mnist === undefined || currentModel() === undefined || !idle;
  buttons.downloadModel.disabled = currentModel() === undefined || running;
  buttons.downloadEvents.disabled = session === undefined;
}

const pad = new DrawingPad(element<HTMLCanvasElement>("pad"), showReading);

function showReading(): void {
  const model = currentModel();
  if (model === undefined) {
    prediction.textContent = "";
    bars.show(undefined, undefined);
    return;
  }
  try {
    const reading = classifyDrawing(model, pad.pixels());
    paintDigit(modelView, reading.pixels, DRAWN_IMAGE_SIDE);
    prediction.textContent = reading.digit === undefined ? "" : String(reading.digit);
    bars.show(reading.probabilities, reading.digit);
  } catch (error) {
    setStatus(`Cannot classify the drawing: ${(error as Error).message}`, true);
  }
}

/** The tutorial's console output, last lines only. */
function appendLog(line: string): void {
  const lines = (log.textContent ?? "").split("\n").filter(Boolean);
  log.textContent = [...lines, line].slice(-LOG_LINES).join("\n");
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
    session?.stop();
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
  setStatus(`Training (hidden ${active.model.config.hiddenSize}, batch ${active.trainer.config.batchSize})…`);
  const running = active.run();
  updateButtons();
  const result = await running;
  setState("training", active.finished ? "finished" : "stopped");
  setStatus(`${active.finished ? "Finished" : "Stopped"} after ${active.trainer.completedSteps} steps (${result.seconds.toFixed(1)} s for the last ${result.steps}).`);
  showReading();
  if (active.finished) await evaluateTest();
}

async function evaluateTest(): Promise<void> {
  const model = currentModel();
  if (mnist === undefined || model === undefined) return;
  const test = mnist.test;
  progress.max = test.count;
  const onProgress = async (done: number) => {
    progress.value = done;
    progressText.textContent = `evaluating: ${done} / ${test.count} test images`;
    // A pause between batches keeps the page responsive and lets the progress bar repaint.
    await yieldToBrowser();
  };
  const result: EvaluationResult = session !== undefined ? await session.evaluate(test, onProgress) : await evaluate(model, test, { onProgress });
  element("test-accuracy").textContent = `${result.accuracy.toFixed(4)} (loss ${result.loss.toFixed(4)}, ${result.count} images, ${Math.round(result.imagesPerSecond)} images/s)`;
  renderConfusion(element<HTMLTableElement>("confusion"), result.confusion);
  appendLog(formatTestLine(result.accuracy));
  countDone("evaluations");
}

/** Frees whatever model the page has, to make room for a new one. */
function dropModels(): void {
  session?.dispose();
  session = undefined;
  loadedModel?.dispose();
  loadedModel = undefined;
}

buttons.train.addEventListener("click", () => {
  const data = mnist;
  if (data === undefined) return;
  void exclusive(async () => {
    dropModels();
    session = new TrainingSession(
      data.train,
      { hiddenSize: numberInput("hidden-size") },
      { batchSize: numberInput("batch-size"), learningRate: numberInput("learning-rate"), trainingIters: numberInput("training-iters"), summaryStep: 10 },
      {
        onStep(e) {
          const total = session?.trainer.totalSteps ?? e.step;
          progress.max = total;
          progress.value = e.step;
          progressText.textContent = `step ${e.step} / ${total} · epoch ${e.epoch} · ${Math.round(e.samplesPerSecond)} images/s`;
          chart.add(e.step, e.loss, e.accuracy);
          setState("step", String(e.step));
        },
        onLog(line) {
          appendLog(line);
          showReading();
        },
      },
    );
    chart.reset(session.trainer.totalSteps);
    log.textContent = "";
    await train();
  });
});
buttons.stop.addEventListener("click", () => session?.stop());
buttons.continue.addEventListener("click", () => void exclusive(train));
buttons.evaluate.addEventListener("click", () => void exclusive(evaluateTest));
buttons.clear.addEventListener("click", () => {
  pad.clear();
  showReading();
});
buttons.downloadModel.addEventListener("click", () => {
  const model = currentModel();
  if (model !== undefined) void downloadModel(model).catch((error: unknown) => setStatus((error as Error).message, true));
});
buttons.downloadEvents.addEventListener("click", () => {
  void session?.eventFile().then(({ blob, name }) => download(blob, name));
});

async function loadModel(files: FileList | null): Promise<void> {
  if (files === null || files.length === 0) return;
  await exclusive(async () => {
    const model = await modelFromFiles(Array.from(files));
    dropModels();
    loadedModel = model;
    const { cell, hiddenSize } = model.config;
    setStatus(`Loaded a ${cell.toUpperCase()} model with ${hiddenSize} hidden units from ${files.length} files.`);
    countDone("modelLoads");
    showReading();
  });
}
for (const id of ["model-files", "model-folder"]) {
  const input = element<HTMLInputElement>(id);
  input.addEventListener("change", () => void loadModel(input.files));
}

async function start(): Promise<void> {
  element("backend").textContent = await startBackend();
  setStatus("Loading MNIST…");
  mnist = await fetchMnist(new URL("mnist/", document.baseURI), (bytes) => setStatus(`Loading MNIST… ${(bytes / 1e6).toFixed(1)} MB`));
  setStatus(`MNIST loaded: ${mnist.train.count} training and ${mnist.test.count} test images. Train a model, or load one.`);
  setState("mnist", "loaded");
  updateButtons();
}

updateButtons();
start().catch((error: unknown) => setStatus(`Could not start: ${(error as Error).message}`, true));
