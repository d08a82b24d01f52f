import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { ChannelEndpoint } from "@mnist/train/node";

/** The tutorial's model in PyTorch (run and row modes), beside src/ and dist/ alike. */
export const PYTORCH_SCRIPT = fileURLToPath(new URL("../pytorch/tutorial_lstm.py", import.meta.url));

/** How to get PyTorch where it is missing, for the line that says the PyTorch row is skipped. */
export const PYTORCH_HINT = "on Debian: apt-get install python3-torch libopenblas0-pthread";

/**
 * One BLAS thread and one torch thread: PyTorch's fastest setting for this model on 2 cores
 * (two BLAS threads were 3x slower), so it is compared at its best.
 */
export const PYTORCH_THREADS = 1;
const PYTORCH_ENV = { ...process.env, OPENBLAS_NUM_THREADS: String(PYTORCH_THREADS), OMP_NUM_THREADS: String(PYTORCH_THREADS) };

/**
 * The first Python that imports torch: $MNIST_RNN_PYTHON, python3 on PATH, or Debian's
 * /usr/bin/python3 (where python3-torch installs, also when another python3 comes first on PATH).
 */
export function findPyTorch(): { python: string; version: string } | undefined {
  const candidates = [process.env.MNIST_RNN_PYTHON, "python3", "/usr/bin/python3"].filter((name): name is string => name !== undefined && name !== "");
  for (const python of candidates) {
    const probe = spawnSync(python, ["-c", "import torch; print(torch.__version__)"], { encoding: "utf8", env: PYTORCH_ENV });
    if (probe.status === 0) return { python, version: probe.stdout.trim() };
  }
  return undefined;
}

/** Starts the script in `mode` ("run" or "serve") on the MNIST IDX files in `dataDir`. */
export function startPyTorch(python: string, mode: "run" | "serve", dataDir: string, extra: string[] = []): ChildProcess {
  return spawn(python, [PYTORCH_SCRIPT, mode, "--data", dataDir, "--threads", String(PYTORCH_THREADS), ...extra], {
    stdio: ["pipe", "pipe", "pipe"],
    env: PYTORCH_ENV,
  });
}

/** A `serve` process as the far end of a RequestChannel: one JSON object a line each way. */
export function pytorchEndpoint<Request, Reply>(child: ChildProcess, output: { text: string }): ChannelEndpoint<Request, Reply> {
  child.stderr?.on("data", (chunk: Buffer) => (output.text += chunk.toString()));
  return {
    post: (request) => void child.stdin?.write(`${JSON.stringify(request)}\n`),
    listen(message, failure) {
      let buffered = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        buffered += chunk.toString();
        let end: number;
        while ((end = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, end);
          buffered = buffered.slice(end + 1);
          try {
            message(JSON.parse(line) as Reply);
          } catch {
            output.text += `${line}\n`;
          }
        }
      });
      child.on("exit", (code) => failure(`its process exited with code ${code}`));
      child.on("error", (error) => failure(`it could not start: ${error.message}`));
    },
    close: async () => {
      child.kill();
    },
  };
}
