import { describe, expect, it } from "vitest";
import { SummaryWriteError } from "@mnist/summary";
import { CheckpointError, ConfigError, WorkerThreadError } from "@mnist/train";
import { asCliError, isInputError, isOutOfMemory, UsageError } from "./errors.js";

describe("asCliError", () => {
  it("tells a config field's error as the train flag behind it, with the library's hint, as a usage error", () => {
    const error = asCliError(new ConfigError("minLearningRate", "a number from 0 to the learning rate (0.001)", "5"));
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe("--min-lr: expected a number from 0 to the learning rate (0.001), found 5. Hint: check the training options.");
    expect(isInputError(error)).toBe(true);
    expect((asCliError(new ConfigError("test split", "images of 28 x 28", "10 x 10")) as Error).message).toMatch(/^--data: the test split: expected/);
  });

  it("names --workers, not a library option, in a worker thread's failure", () => {
    const library = new WorkerThreadError(1, "minibatch", "the thread exiting with code 1");
    expect(library.message).not.toMatch(/threads:|--workers/);
    const message = (asCliError(library) as Error).message;
    expect(message).toBe("Worker thread 1 failed during minibatch: expected a reply, found the thread exiting with code 1. Hint: run with --workers 1 to train on one thread.");
  });

  it("names --logdir and the event file when summaries cannot be stored", () => {
    const cause = new Error("/logs/r/events.out.tfevents.1.host.2.0: ENOSPC: no space left on device, write");
    const message = (asCliError(new SummaryWriteError(120, cause)) as Error).message;
    expect(message).toBe(
      "--logdir: could not write the TensorBoard event file: /logs/r/events.out.tfevents.1.host.2.0: ENOSPC: no space left on device, write. Hint: free space on that disk, or choose another --logdir.",
    );
    expect(message).not.toContain("\n");
  });

  it("leaves other errors alone, and treats a damaged checkpoint as the user's input", () => {
    const other = new Error("something else");
    expect(asCliError(other)).toBe(other);
    const checkpoint = new CheckpointError("/run/latest.json", "JSON", "text");
    expect(checkpoint.message).not.toContain("checkpointWriter");
    expect(isInputError(checkpoint)).toBe(true);
  });
});

describe("isOutOfMemory", () => {
  it("recognises the engines' allocation failures and nothing else", () => {
    expect(isOutOfMemory(new RangeError("Array buffer allocation failed"))).toBe(true);
    expect(isOutOfMemory(new Error("Aborted(Cannot enlarge memory arrays to size 4294967296 bytes (OOM).)"))).toBe(true);
    expect(isOutOfMemory(new WorkerThreadError(1, "minibatch", 'the uncaught error "RuntimeError: Aborted(OOM)"'))).toBe(true);
    // A bare abort is out of memory when the engine said so first.
    expect(isOutOfMemory(new Error("RuntimeError: Aborted()"), ["xnn_create_fully_connected_nc_f32: failed to allocate 400000000 bytes"])).toBe(true);
    expect(isOutOfMemory(new Error("RuntimeError: Aborted()"))).toBe(false);
    expect(isOutOfMemory(new Error("no room left in the zoom table"))).toBe(false);
    expect(isOutOfMemory(new Error("Training diverged at step 3"))).toBe(false);
    expect(isOutOfMemory(new RangeError("Invalid array length"))).toBe(false);
  });
});

describe("run's error line", () => {
  it("folds what the engine printed into the one error line, as out of memory when it was", async () => {
    const { run } = await import("./run.js");
    let stderr = "";
    const printed = ["xnn_create_fully_connected_nc_f32: failed to allocate 400000000 bytes", "second line"];
    const engineOutput = { take: () => ({ lines: printed, count: 28 }) };
    const io = { stdout: { write: () => true }, stderr: { write: (text: string) => ((stderr += text), true) }, engineOutput };
    const code = await run(["evaluate", "--model", "/no/such/model/folder"], io);
    expect(code).toBe(2);
    expect(stderr).toBe(
      'error: the TensorFlow.js engine ran out of memory: --model: folder /no/such/model/folder does not exist (the engine printed "xnn_create_fully_connected_nc_f32: failed to allocate 400000000 bytes" and 27 more lines). Hint: use a smaller --hidden, --layers or --batch-size.\n',
    );
  });
});

describe("run's error line without an engine at fault", () => {
  it("adds what the engine printed, still in one line", async () => {
    const { run } = await import("./run.js");
    let stderr = "";
    const engineOutput = { take: () => ({ lines: ["some engine notice"], count: 1 }) };
    const io = { stdout: { write: () => true }, stderr: { write: (text: string) => ((stderr += text), true) }, engineOutput };
    expect(await run(["evaluate", "--model", "/no/such/model/folder"], io)).toBe(2);
    expect(stderr).toBe('error: --model: folder /no/such/model/folder does not exist (the engine printed "some engine notice")\n');
  });
});
