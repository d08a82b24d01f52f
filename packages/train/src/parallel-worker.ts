import { parentPort, workerData } from "node:worker_threads";
import * as tf from "@tensorflow/tfjs-core";
import { SequenceClassifier } from "@mnist/rnn";
import { errorReply, type ErrorReply } from "./channel.js";
import { holdConsoleOutput } from "./engine-output.js";
import { evaluate } from "./evaluate.js";
import type { DropoutSpec } from "./dropout.js";
import { minibatchGradients } from "./minibatch.js";
import { WORKER_BACKENDS, type WorkerReply, type WorkerRequest, type WorkerSetup } from "./parallel-protocol.js";

// One worker thread of the worker-thread GradientSource (workerThreads()): its own TensorFlow.js engine and
// model copy, loaded with the calling thread's weights before each request.

const setup = workerData as WorkerSetup;
// Before the engine starts, which binds console.warn: what it prints while a request fails goes into that
// request's one error reply (the wasm engine prints a line per failed allocation before it aborts).
const engineOutput = holdConsoleOutput(console, (text) => process.stderr.write(text));
const port = parentPort;
if (port === null) throw new Error("parallel-worker.js runs as a worker thread started by workerThreads(), not on its own");

function reply(message: WorkerReply | ErrorReply): void {
  port?.postMessage(message);
}

async function start(): Promise<SequenceClassifier> {
  const backendPackage = WORKER_BACKENDS[setup.backend];
  if (backendPackage === undefined) throw new Error(`no worker support for the ${setup.backend} backend`);
  if (setup.prodMode) tf.enableProdMode();
  await import(backendPackage);
  if (!(await tf.setBackend(setup.backend))) throw new Error(`tf.setBackend("${setup.backend}") returned false in the worker`);
  const model = SequenceClassifier.create(setup.model);
  for (const slot of setup.variables) {
    const variable = model.variables[slot.name];
    if (variable === undefined || variable.shape.join(",") !== slot.shape.join(",")) {
      model.dispose();
      throw new Error(`the worker's model has no variable "${slot.name}" of shape [${slot.shape}]`);
    }
  }
  return model;
}

function loadWeights(model: SequenceClassifier): void {
  const weights = new Float32Array(setup.weights);
  tf.tidy(() => {
    for (const slot of setup.variables) {
      // slice(): a private copy, since a backend may keep the array it is given.
      model.variables[slot.name]?.assign(tf.tensor(weights.slice(slot.offset, slot.offset + slot.length), slot.shape));
    }
  });
}

async function step(model: SequenceClassifier, size: number, dropout: DropoutSpec | undefined): Promise<WorkerReply> {
  const { steps, inputSize } = setup.model;
  const images = new Float32Array(setup.images, 0, size * steps * inputSize).slice();
  const labels = new Int32Array(setup.labels, 0, size).slice();
  const { loss, accuracy, gradients } = await minibatchGradients(model, { size, images, labels, dropout });
  try {
    const out = new Float32Array(setup.gradients);
    for (const slot of setup.variables) {
      const gradient = gradients[slot.name];
      if (gradient === undefined) throw new Error(`the model returned no gradient for "${slot.name}"`);
      out.set(gradient.dataSync(), slot.offset);
    }
  } finally {
    tf.dispose(gradients);
  }
  return { kind: "step", loss, accuracy };
}

async function serve(): Promise<void> {
  const model = await start();
  // Requests arrive one at a time: the calling thread waits for each reply before the next.
  port?.on("message", (request: WorkerRequest) => {
    const work = async (): Promise<WorkerReply> => {
      loadWeights(model);
      if (request.kind === "step") return step(model, request.size, request.dropout);
      return { kind: "evaluate", result: await evaluate(model, request.split, { batchSize: request.batchSize }) };
    };
    work().then(
      (result) => {
        engineOutput.flush();
        reply(result);
      },
      (error: unknown) => reply(failed(error)),
    );
  });
  engineOutput.flush();
  reply({ kind: "ready" });
}

/** The error reply for `error`, with what the engine printed on the way. */
function failed(error: unknown): ErrorReply {
  const { message } = errorReply(error);
  return { kind: "error", message: `${message}${engineOutput.said()}` };
}

serve().catch((error: unknown) => reply(failed(error)));
