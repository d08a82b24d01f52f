import { join, resolve } from "node:path";
import { modelSequenceInput, sequenceInputMetadata, splitValidation, toSequences, type MnistSplit, type SequenceInput } from "@mnist/data";
import { loadMnist } from "@mnist/data/node";
import * as tf from "@tensorflow/tfjs-core";
import { DEFAULT_MODEL_CONFIG, MODEL_JSON, SequenceClassifier, type ModelConfig } from "@mnist/rnn";
import { saveModel } from "@mnist/rnn/node";
import {
  checkTrainingPlan,
  combineHooks,
  formatTestLine,
  formatValidationLine,
  OPTIMIZATION_FINISHED,
  resolveTrainConfig,
  Trainer,
  withBudget,
  type Checkpoint,
  type TrainConfig,
  type TrainerState,
  type TrainHooks,
} from "@mnist/train";
import { checkpointWriter, readCheckpoint, workerThreads } from "@mnist/train/node";
import { selectBackend } from "../backend.js";
import { asCliError, UsageError } from "../errors.js";
import { watchInterrupts } from "../interrupt.js";
import { checkTrainingMemory } from "../memory.js";
import { DEFAULT_MAX_INPUT_MB, decodeLimitsOf, type TrainOptions, type ValidationSchedule } from "../options.js";
import { requireCheckpoint, requireMnistFolder, requireWritableFolder } from "../folder-flags.js";
import { createReporter, reportMode } from "../reporter.js";
import { defaultRunLogConfig, defaultRunName, RunLog } from "../run-log.js";
import type { CliIo } from "../run.js";
import { shellQuote } from "../shell.js";
import { checkWorkerFlag, workerCount } from "../worker-count.js";

/** The tutorial's reader held out the first 5000 training images for validation. */
const validationSize = 5000;

export async function trainCommand(options: TrainOptions, io: CliIo): Promise<number> {
  await checkTrainOptions(options);
  const reporter = createReporter(io.stdout, reportMode(io.stdout, options.json));
  const interruption = watchInterrupts(io.signals ?? process, io.exit ?? ((code) => process.exit(code)));
  let runLog: RunLog | undefined;
  let model: SequenceClassifier | undefined;
  let restored: TrainerState | undefined;
  let trainer: Trainer | undefined;
  try {
    const backend = await selectBackend(options.backend);
    reporter.event("backend", `Backend: ${backend.name}`, { backend: backend.name, skipped: backend.skipped });

    const mnist = await loadMnist(options.data, decodeLimitsOf(options));
    // A resumed run continues its checkpoint's model and config (with a new budget, if given).
    const checkpoint = options.resume ? await readCheckpoint(options.resume) : undefined;
    model = checkpoint?.model;
    restored = checkpoint?.state;
    // A resumed run reads images the way its model was trained, whatever the flags say.
    const input = checkpoint ? modelSequenceInput(checkpoint.model, mnist.train, join(checkpoint.folder, "model", MODEL_JSON)) : flagSequenceInput(options);
    if (mnist.train.count <= validationSize) {
      throw new UsageError(
        "--data",
        `expected more than ${validationSize} training images (the first ${validationSize} are held out for validation), found ${mnist.train.count}`,
      );
    }
    const held = splitValidation(mnist.train, validationSize);
    const train = toSequences(held.train, input);
    const validation = toSequences(held.validation, input);
    const testSequences = toSequences(mnist.test, input);
    const modelConfig: ModelConfig =
      checkpoint?.model.config ??
      ({
        ...DEFAULT_MODEL_CONFIG,
        cell: options.cell,
        hiddenSize: options.hidden,
        layers: options.layers,
        recurrentInit: options.recurrentInit,
        denseInit: options.denseInit,
        outputBias: options.outputBias,
        seed: options.seed,
        steps: train.rows,
        inputSize: train.cols,
      });
    const typed = (name: keyof TrainOptions): boolean => options.typed?.has(name) ?? false;
    const config: Partial<TrainConfig> = checkpoint
      ? withBudget(checkpoint.config, { trainingIters: typed("iters") ? options.iters : undefined, epochs: options.epochs })
      : trainConfigOf(options);
    const schedule = runSchedule(options, checkpoint, typed);
    // Everything is checked against the data before anything is built or written.
    const workers = workerCount(options.workers, backend.name);
    if (schedule.keepBest && schedule.validateEvery === "off") throw keepBestWithoutValidation();
    const plan = asFlags(() =>
      checkTrainingPlan({
        model: modelConfig,
        config,
        train,
        evaluated: schedule.validateEvery === "off" ? { test: testSequences } : { validation, test: testSequences },
        ...(restored === undefined ? {} : { resumed: restored }),
      }),
    );
    checkTrainingMemory({ model: modelConfig, batchSize: plan.config.batchSize, threads: workers, backend: backend.name, resumed: checkpoint !== undefined });

    const progressHooks: TrainHooks = {
      onStep: async (e) => {
        reporter.step(e);
        // On cpu and wasm a step never returns to the event loop on its own, so without this
        // a signal (and piped output) would wait until training ends.
        await new Promise((resolve) => setImmediate(resolve));
      },
      onLog: reporter.log.bind(reporter),
      onEvaluate: (e) => {
        if (e.split !== "validation") return;
        reporter.event("validation", formatValidationLine(e.epoch, e.loss, e.accuracy), {
          step: e.step,
          epoch: e.epoch,
          accuracy: e.accuracy,
          loss: e.loss,
        });
      },
    };
    model ??= SequenceClassifier.create(modelConfig, { metadata: sequenceInputMetadata(input) });
    if (checkpoint !== undefined) reportEngineChange(reporter, checkpoint.engine, workers);
    const run = options.run ?? defaultRunName(model.config, input);
    runLog = await RunLog.open(options.logdir, run, { projectorSize: options.projectorSize });
    trainer = new Trainer(model, train, config, {
      hooks: combineHooks(runLog.hooks(model), progressHooks),
      gradients: workerThreads({ threads: workers }),
      restored,
    });
    // From here the trainer owns the kept best weights.
    restored = undefined;
    const firstStep = trainer.completedSteps;
    const { keepBest, checkpointEvery } = schedule;
    runLog.hyperParameters({ ...model.config, ...input, ...trainer.config, keepBest, backend: backend.name, workers, resumedFrom: options.resume ?? "-" }, firstStep);
    await runLog.graph(model.config, trainer.config);
    await runLog.hparams({ model: model.config, train: trainer.config, input, keepBest, ...(options.resume ? {} : { preset: options.preset }) });
    reporter.event("start", `TensorBoard run: ${runLog.dir}`, {
      runDir: runLog.dir,
      eventFile: runLog.path,
      model: model.config,
      input,
      train: trainer.config,
      workers,
      firstStep,
      totalSteps: trainer.totalSteps,
    });

    reporter.trainingStarted(trainer.totalSteps, firstStep);
    // With --save, run() checkpoints every --checkpoint-every steps and once more when it
    // returns (also when interrupted), so a crash or a diverging step loses little.
    const result = await trainer.run({
      signal: interruption.signal,
      checkpoint: options.save ? checkpointWriter(options.save) : undefined,
      checkpointEvery: options.save ? checkpointEvery : undefined,
      ...validationOptions(schedule.validateEvery, validation),
      keepBest,
    });
    reporter.stopProgress();

    if (result.stoppedEarly) {
      const step = trainer.completedSteps;
      if (options.save) {
        const command = resumeCommand(io.invocation ?? "mnist-rnn", options, run);
        reporter.event(
          "interrupted",
          `Interrupted by ${interruption.received} at step ${step}/${trainer.totalSteps}; checkpoint saved to ${options.save}.\nResume with:\n  ${command}`,
          { signal: interruption.received, step, totalSteps: trainer.totalSteps, checkpoint: options.save, resume: command },
        );
      } else {
        reporter.event(
          "interrupted",
          `Interrupted by ${interruption.received} at step ${step}/${trainer.totalSteps}; nothing saved because --save was not given (run with --save DIR to be able to resume).`,
          { signal: interruption.received, step, totalSteps: trainer.totalSteps },
        );
      }
      return interruption.exitCode;
    }

    reporter.event("finished", OPTIMIZATION_FINISHED, { steps: trainer.completedSteps, seconds: result.seconds });
    if (keepBest && result.best !== undefined && trainer.restoreBest()) {
      const { best } = result;
      reporter.event(
        "restored",
        `Testing the weights of step ${best.step} (epoch ${best.epoch}), the best validation accuracy: ${best.accuracy.toFixed(5)}`,
        { ...best },
      );
    }
    const test = await trainer.evaluate(testSequences, "test");
    reporter.event("test", formatTestLine(test.accuracy), { accuracy: test.accuracy, loss: test.loss, count: test.count });
    runLog.samples(model, mnist.test, input, trainer.completedSteps);
    await runLog.projector(model, mnist.test, input);
    runLog.end("success");
    if (options.save) {
      // Beside the final checkpoint that run() wrote, the folder holds the final model at its
      // top, where evaluate, predict, the web page and tfjs tools look for model.json.
      await saveModel(model, options.save);
      reporter.event("saved", `Model saved to ${options.save}`, { dir: options.save });
    }
    return interruption.received ? interruption.exitCode : 0;
  } finally {
    interruption.dispose();
    reporter.stopProgress();
    await runLog?.close();
    trainer?.dispose();
    restored?.best?.model.dispose();
    model?.dispose();
  }
}

/** Trainer.run's validation options for a --validate-every value; "epoch" is the trainer's own default. */
function validationOptions(schedule: ValidationSchedule, validation: MnistSplit): { validation?: MnistSplit; validateEvery?: number } {
  if (schedule === "off") return {};
  return schedule === "epoch" ? { validation } : { validation, validateEvery: schedule };
}

function flagSequenceInput(options: TrainOptions): SequenceInput {
  return options.permute === undefined ? { order: options.sequence } : { order: options.sequence, permute: options.permute };
}

/** Every flag problem is reported before anything is loaded or written. */
async function checkTrainOptions(options: TrainOptions): Promise<void> {
  // A resumed run may validate by its checkpoint's schedule; that is checked once the checkpoint is read.
  if (!options.resume && options.keepBest && options.validateEvery === "off") throw keepBestWithoutValidation();
  if (options.maxShift > 0 && (options.sequence !== "rows" || options.permute !== undefined)) {
    throw new UsageError("--max-shift", "moves images read a row per step; use it with --sequence rows and without --permute");
  }
  checkWorkerFlag(options.workers);
  // The flags alone (--min-lr above --lr, say) are checked before any data is read.
  if (!options.resume) asFlags(() => resolveTrainConfig(trainConfigOf(options)));
  if (options.data) await requireMnistFolder("--data", options.data);
  if (options.resume) await requireCheckpoint("--resume", options.resume);
  if (options.save) {
    // Resuming into the checkpoint's own folder is the normal way to continue a run.
    const continuing = options.resume !== undefined && resolve(options.resume) === resolve(options.save);
    await requireWritableFolder("--save", options.save, { mustBeEmpty: !continuing, force: options.force });
  }
  await requireWritableFolder("--logdir", options.logdir);
  if (options.run !== undefined && (options.run.trim() === "" || options.run.split(/[\\/]/).includes(".."))) {
    throw new UsageError("--run", `"${options.run}" is not a usable folder name`);
  }
}

function keepBestWithoutValidation(): UsageError {
  return new UsageError("--keep-best", "needs validations to choose from: add --validate-every epoch (or a step count)");
}

/** The training config the flags ask for (a new run's). */
function trainConfigOf(options: TrainOptions): Partial<TrainConfig> {
  return {
    learningRate: options.lr,
    warmupSteps: options.warmupSteps,
    decay: options.decay,
    minLearningRate: options.minLr,
    clipNorm: options.clipNorm,
    dropout: options.dropout,
    maxShift: options.maxShift,
    batchSize: options.batchSize,
    trainingIters: options.iters,
    epochs: options.epochs,
    displayStep: options.displayStep,
    seed: options.seed,
  };
}

/** When the run checkpoints and validates: a resumed run keeps its checkpoint's schedule, except for the flags typed now. */
function runSchedule(
  options: TrainOptions,
  checkpoint: Pick<Checkpoint, "schedule"> | undefined,
  typed: (name: keyof TrainOptions) => boolean,
): { checkpointEvery: number; validateEvery: ValidationSchedule; keepBest: boolean } {
  const saved = checkpoint?.schedule;
  const keep = <T>(name: keyof TrainOptions, flag: T, kept: T | undefined): T => (typed(name) || kept === undefined ? flag : kept);
  return {
    checkpointEvery: keep("checkpointEvery", options.checkpointEvery, saved?.checkpointEvery),
    validateEvery: keep("validateEvery", options.validateEvery, saved?.validation),
    keepBest: keep("keepBest", options.keepBest, saved?.keepBest),
  };
}

/** Runs one of @mnist/train's checks, its ConfigErrors told as the flags behind them (exit 2). */
function asFlags<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    throw asCliError(error);
  }
}

/** One line when a resumed run computes on another backend or thread count than its checkpoint's. */
function reportEngineChange(reporter: ReturnType<typeof createReporter>, saved: Checkpoint["engine"], threads: number): void {
  const backend = tf.getBackend();
  if (saved.backend === backend && saved.threads === threads) return;
  const on = (name: string, count: number): string => `${name} with ${count} thread${count === 1 ? "" : "s"}`;
  reporter.event(
    "engine",
    `Resuming on ${on(backend, threads)}, the checkpoint was written on ${on(saved.backend, saved.threads)}: the run continues equal to an uninterrupted one up to float rounding, not bit for bit.`,
    { backend, threads, checkpointBackend: saved.backend, checkpointThreads: saved.threads },
  );
}

/**
 * The command line that continues this run from the checkpoint in --save, into the same TensorBoard
 * run. The checkpoint keeps the model, the training config and the schedule (--checkpoint-every,
 * --validate-every, --keep-best); every other flag that shapes where the run reads, writes and
 * reports is repeated here when it differs from its default.
 */
function resumeCommand(invocation: string, options: TrainOptions, run: string): string {
  const save = resolve(options.save as string);
  const args = ["train", "--resume", save, "--save", save, "--logdir", resolve(options.logdir), "--run", run];
  if (options.backend !== "auto") args.push("--backend", options.backend);
  if (options.data) args.push("--data", resolve(options.data));
  if (options.workers !== undefined) args.push("--workers", String(options.workers));
  if (options.maxInputMb !== DEFAULT_MAX_INPUT_MB) args.push("--max-input-mb", String(options.maxInputMb));
  if (options.projectorSize !== defaultRunLogConfig.projectorSize) args.push("--projector-size", String(options.projectorSize));
  if (options.json) args.push("--json");
  return [invocation, ...args.map(shellQuote)].join(" ");
}
