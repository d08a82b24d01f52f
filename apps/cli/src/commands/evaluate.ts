import { join } from "node:path";
import { loadMnist } from "@mnist/data/node";
import { MODEL_JSON } from "@mnist/rnn";
import { modelSequenceInput, toSequences } from "@mnist/data";
import * as tf from "@tensorflow/tfjs-core";
import { formatTestLine, resolveTrainConfig, type EvaluationResult } from "@mnist/train";
import { workerThreads } from "@mnist/train/node";
import { decodeLimitsOf, type EvaluateOptions } from "../options.js";
import { requireMnistFolder, requireWritableFolder, resolveModelFolder } from "../folder-flags.js";
import { createReporter, reportMode } from "../reporter.js";
import { defaultRunName, RunLog } from "../run-log.js";
import type { CliIo } from "../run.js";
import { loadSavedModel } from "../saved-model.js";
import { checkWorkerFlag, workerCount } from "../worker-count.js";

export async function evaluateCommand(options: EvaluateOptions, io: CliIo): Promise<number> {
  checkWorkerFlag(options.workers);
  const resolved = await resolveModelFolder("--model", options.model);
  const modelFolder = resolved.folder;
  if (options.data) await requireMnistFolder("--data", options.data);
  if (options.logdir) await requireWritableFolder("--logdir", options.logdir);
  const reporter = createReporter(io.stdout, reportMode(io.stdout, options.json));

  const model = await loadSavedModel(resolved, options, reporter, true);
  try {
    const mnist = await loadMnist(options.data, decodeLimitsOf(options));
    const input = modelSequenceInput(model, mnist.test, join(modelFolder, MODEL_JSON));
    const threads = workerCount(options.workers, tf.getBackend());
    const source = workerThreads({ threads })(model, resolveTrainConfig({}));
    let result: EvaluationResult;
    try {
      result = await source.evaluate(toSequences(mnist.test, input), {});
    } finally {
      source.dispose();
    }
    reporter.event("evaluation", formatEvaluation(result), {
      model: modelFolder,
      accuracy: result.accuracy,
      loss: result.loss,
      count: result.count,
      confusion: result.confusion,
      perClassAccuracy: result.perClassAccuracy,
      imagesPerSecond: result.imagesPerSecond,
    });
    if (options.logdir) {
      const runLog = await RunLog.open(options.logdir, `${defaultRunName(model.config, input)}-evaluate`, { projectorSize: options.projectorSize });
      try {
        await runLog.graph(model.config);
        runLog.evaluation("test", result, 0);
        const projector = await runLog.projector(model, mnist.test, input);
        reporter.event("tensorboard", `TensorBoard run: ${runLog.dir} (projector: ${projector})`, { runDir: runLog.dir, eventFile: runLog.path, projector });
      } finally {
        await runLog.close();
      }
    }
    return 0;
  } finally {
    model.dispose();
  }
}

/** Tutorial accuracy line, loss, and the confusion matrix with per-class accuracy. */
export function formatEvaluation(result: EvaluationResult): string {
  const width = Math.max(4, ...result.confusion.flat().map((n) => String(n).length)) + 1;
  const cell = (text: string | number): string => String(text).padStart(width);
  const classes = result.confusion.map((_, k) => k);
  const lines = [
    formatTestLine(result.accuracy),
    `Testing Loss= ${result.loss.toFixed(6)} (${result.count} images, ${Math.round(result.imagesPerSecond)} images/s)`,
    "",
    "Confusion matrix (rows: true digit, columns: predicted digit)",
    `${cell("")}${classes.map(cell).join("")}${"accuracy".padStart(10)}`,
    ...result.confusion.map(
      (row, label) => `${cell(label)}${row.map(cell).join("")}${(result.perClassAccuracy[label] ?? Number.NaN).toFixed(4).padStart(10)}`,
    ),
  ];
  return lines.join("\n");
}
