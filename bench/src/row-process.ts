import { fork, type ChildProcess } from "node:child_process";
import * as tf from "@tensorflow/tfjs-core";
import { loadMnist } from "@mnist/data/node";
import { errorReply, RequestChannel, type ChannelEndpoint, type ErrorReply } from "@mnist/train/node";
import { pytorchEndpoint, startPyTorch } from "./pytorch.js";
import { createRowStep, type Implementation, type RowKind } from "./rows.js";

// Each benchmark row runs in a process of its own, as a user's training would: no row shares a
// wasm heap, a garbage-collected heap or tfjs's tensor registry with another, and each row's
// peak RSS is its own. The parent only says what to run next; rows still take turns.

type RowRequest =
  | { kind: "warmup"; steps: number; seconds: number }
  | { kind: "block"; steps: number }
  | { kind: "finish" };

type RowReply =
  | { kind: "ready" }
  | { kind: "warmedUp"; steps: number }
  | { kind: "timings"; milliseconds: number[] }
  | { kind: "finished"; peakRssKiB: number };

/** One row's process as the far end of a RequestChannel; its console is collected for the error of a failed row. */
function rowEndpoint(child: ChildProcess, output: { text: string }): ChannelEndpoint<RowRequest, RowReply> {
  // The children's console (tfjs's banner, warnings) is shown only when a row fails.
  child.stdout?.on("data", (chunk: Buffer) => (output.text += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output.text += chunk.toString()));
  return {
    post: (request) => child.send(request),
    listen(message, failure) {
      child.on("message", message);
      child.on("exit", (code) => failure(`its process exited with code ${code}`));
    },
    close: async () => {
      child.kill();
    },
  };
}

/** The parent's handle on one row's process. */
export class RowProcess {
  private constructor(
    readonly implementation: Implementation | RowKind,
    readonly backend: string,
    private readonly channel: RequestChannel<RowRequest, RowReply>,
  ) {}

  /** Starts `script` (this benchmark's entry) as the row's process and waits until its model is built. */
  static async start(script: string, implementation: RowKind, backend: string): Promise<RowProcess> {
    const child = fork(script, ["--row", `${implementation}/${backend}`], { stdio: ["ignore", "pipe", "pipe", "ipc"] });
    const output = { text: "" };
    return RowProcess.connect(rowEndpoint(child, output), output, implementation, backend);
  }

  /** The PyTorch row: the same requests and replies, as JSON lines to the Python script's `serve` mode. */
  static async startPyTorch(python: string, dataDir: string): Promise<RowProcess> {
    const output = { text: "" };
    return RowProcess.connect(pytorchEndpoint(startPyTorch(python, "serve", dataDir), output), output, "pytorch", "pytorch");
  }

  private static async connect(
    endpoint: ChannelEndpoint<RowRequest, RowReply>,
    output: { text: string },
    implementation: Implementation | RowKind,
    backend: string,
  ): Promise<RowProcess> {
    const channel = new RequestChannel(
      endpoint,
      (operation, reason) => new Error(`benchmark row ${implementation}/${backend} failed during ${operation}: ${reason}\n${output.text}`),
    );
    await channel.started();
    return new RowProcess(implementation, backend, channel);
  }

  /** Untimed steps until both `steps` and `seconds` have passed; resolves to the steps taken. */
  async warmUp(steps: number, seconds: number): Promise<number> {
    const reply = await this.channel.request({ kind: "warmup", steps, seconds });
    return reply.kind === "warmedUp" ? reply.steps : 0;
  }

  /** `steps` consecutive timed steps; resolves to each one's milliseconds. */
  async block(steps: number): Promise<number[]> {
    const reply = await this.channel.request({ kind: "block", steps });
    return reply.kind === "timings" ? reply.milliseconds : [];
  }

  /** Frees the row and ends its process; resolves to the process's peak RSS in KiB. */
  async finish(): Promise<number> {
    const reply = await this.channel.request({ kind: "finish" });
    return reply.kind === "finished" ? reply.peakRssKiB : 0;
  }

  /** Stops the process whatever it is doing (after a failure elsewhere). */
  kill(): void {
    void this.channel.close();
  }
}

/** The row's side: builds the row on `backend`, then serves the parent's requests one at a time. */
export async function serveRow(implementation: RowKind, backend: string): Promise<void> {
  // The last reply closes the channel once sent, so the process can end.
  const send = (reply: RowReply | ErrorReply, last = false): void => {
    process.send?.(reply, undefined, undefined, () => {
      if (last) process.disconnect();
    });
  };
  const fail = (error: unknown): void => send(errorReply(error), true);
  try {
    if (!(await tf.setBackend(backend))) throw new Error(`backend "${backend}" failed to initialise`);
    const { train } = await loadMnist();
    const row = createRowStep(implementation, train);
    const timedSteps = async (count: number): Promise<number[]> => {
      const milliseconds: number[] = [];
      for (let step = 0; step < count; step++) {
        const started = performance.now();
        await row.step();
        milliseconds.push(performance.now() - started);
      }
      return milliseconds;
    };
    const handle = async (request: RowRequest): Promise<void> => {
      if (request.kind === "warmup") {
        const started = performance.now();
        let steps = 0;
        while (steps < request.steps || performance.now() - started < request.seconds * 1000) {
          await row.step();
          steps++;
        }
        send({ kind: "warmedUp", steps });
      } else if (request.kind === "block") {
        send({ kind: "timings", milliseconds: await timedSteps(request.steps) });
      } else {
        row.dispose();
        send({ kind: "finished", peakRssKiB: process.resourceUsage().maxRSS }, true);
      }
    };
    process.on("message", (request: RowRequest) => void handle(request).catch(fail));
    send({ kind: "ready" });
  } catch (error) {
    fail(error);
  }
}
