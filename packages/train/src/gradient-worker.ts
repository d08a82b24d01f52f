import * as tf from "@tensorflow/tfjs-core";
import { SequenceClassifier } from "@mnist/rnn";
import { errorReply, type ErrorReply } from "./channel.js";
import type { DropoutSpec } from "./dropout.js";
import type { EngineOutput } from "./engine-output.js";
import { evaluate } from "./evaluate.js";
import { minibatchGradients } from "./minibatch.js";
import type { WorkerReply, WorkerRequest, WorkerSetup } from "./parallel-protocol.js";

/** The worker's side of its link to the pool, whatever carries the messages (a Node worker thread, a Web Worker). */
export interface GradientWorkerPort {
  /** Sends a reply; the `transfer` buffers are moved, not copied. */
  post(message: WorkerReply | ErrorReply, transfer: ArrayBuffer[]): void;
  /** Called once, with the handler of every request. */
  onRequest(handler: (request: WorkerRequest) => void): void;
}

/**
 * Registers the named tfjs backend in this worker (an import of its package); the app decides
 * how, as only it knows where a browser finds the wasm binaries.
 */
export type LoadBackend = (name: string) => Promise<void>;

/**
 * One worker of a WorkerPool: its own TensorFlow.js engine and model copy, loaded with the
 * calling thread's weights before each request, answering "step" with the gradients of its share
 * and "evaluate" with evaluate() of its part of the split. Replies "ready" once up, or an
 * ErrorReply saying why it could not start.
 */
export async function serveGradients(
  port: GradientWorkerPort,
  setup: WorkerSetup,
  loadBackend: LoadBackend,
  engineOutput?: Pick<EngineOutput, "flush" | "said">,
): Promise<void> {
  const reply = (message: WorkerReply | ErrorReply, transfer: ArrayBuffer[] = []): void => port.post(message, transfer);
  // A failure's reply carries what the engine printed on the way (held, where the worker holds it).
  const failed = (error: unknown): ErrorReply => {
    const { message } = errorReply(error);
    return { kind: "error", message: `${message}${engineOutput?.said() ?? ""}` };
  };
  let model: SequenceClassifier;
  try {
    model = await startModel(setup, loadBackend);
  } catch (error) {
    reply(failed(error));
    return;
  }
  // Requests arrive one at a time: the calling thread waits for each reply before the next.
  port.onRequest((request) => {
    const work = async (): Promise<WorkerReply> => {
      if (request.carried !== undefined) {
        new Float32Array(setup.weights).set(new Float32Array(request.carried.weights));
        if (request.carried.images !== undefined) new Float32Array(setup.images).set(new Float32Array(request.carried.images));
        if (request.carried.labels !== undefined) new Int32Array(setup.labels).set(new Int32Array(request.carried.labels));
      }
      loadWeights(model, setup);
      if (request.kind === "step") return step(model, setup, request.size, request.dropout);
      return { kind: "evaluate", result: await evaluate(model, request.split, { batchSize: request.batchSize }) };
    };
    work().then(
      // Without shared memory the gradients go back in the reply: a copy, since the buffer is reused.
      (message) => {
        engineOutput?.flush();
        if (message.kind === "step" && !setup.shared) {
          const gradients = (setup.gradients as ArrayBuffer).slice(0);
          reply({ ...message, gradients }, [gradients]);
        } else {
          reply(message);
        }
      },
      (error: unknown) => reply(failed(error)),
    );
  });
  engineOutput?.flush();
  reply({ kind: "ready" });
}

async function startModel(setup: WorkerSetup, loadBackend: LoadBackend): Promise<SequenceClassifier> {
  if (setup.prodMode) tf.enableProdMode();
  await loadBackend(setup.backend);
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

function loadWeights(model: SequenceClassifier, setup: WorkerSetup): void {
  const weights = new Float32Array(setup.weights);
  tf.tidy(() => {
    for (const slot of setup.variables) {
      // slice(): a private copy, since a backend may keep the array it is given.
      model.variables[slot.name]?.assign(tf.tensor(weights.slice(slot.offset, slot.offset + slot.length), slot.shape));
    }
  });
}

async function step(model: SequenceClassifier, setup: WorkerSetup, size: number, dropout: DropoutSpec | undefined): Promise<WorkerReply> {
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
