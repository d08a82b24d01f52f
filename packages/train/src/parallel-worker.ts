import { parentPort, workerData } from "node:worker_threads";
import { errorReply } from "./channel.js";
import { holdConsoleOutput } from "./engine-output.js";
import { serveGradients } from "./gradient-worker.js";
import { WORKER_BACKENDS, type WorkerRequest, type WorkerSetup } from "./parallel-protocol.js";

// One Node worker thread of workerThreads(): serveGradients() over parentPort, started with the setup as workerData.

// Before the engine starts, which binds console.warn: what it prints while a request fails goes into that
// request's one error reply (the wasm engine prints a line per failed allocation before it aborts).
const engineOutput = holdConsoleOutput(console, (text) => process.stderr.write(text));
const port = parentPort;
if (port === null) throw new Error("parallel-worker.js runs as a worker thread started by workerThreads(), not on its own");

async function loadBackend(name: string): Promise<void> {
  const backendPackage = WORKER_BACKENDS[name];
  if (backendPackage === undefined) throw new Error(`no worker support for the ${name} backend`);
  await import(backendPackage);
}

serveGradients(
  {
    post: (message, transfer) => port.postMessage(message, transfer),
    onRequest: (handler) => port.on("message", (request: WorkerRequest) => handler(request)),
  },
  workerData as WorkerSetup,
  loadBackend,
  engineOutput,
).catch((error: unknown) => port.postMessage(errorReply(error)));
