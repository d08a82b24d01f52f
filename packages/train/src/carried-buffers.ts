import type { ChannelEndpoint } from "./channel.js";
import type { CarriedBuffers, WorkerReply, WorkerRequest, WorkerSetup } from "./parallel-protocol.js";

/**
 * The calling side of a thread that shares no memory with it (WorkerSetup.shared false): every
 * request carries copies of the weights (and of a step's images and labels), and a step reply's
 * gradients are copied into setup.gradients, so the pool reads and writes its buffers the same
 * way in both modes.
 */
export function carryBuffers(endpoint: ChannelEndpoint<WorkerRequest, WorkerReply>, setup: WorkerSetup): ChannelEndpoint<WorkerRequest, WorkerReply> {
  const pixels = setup.model.steps * setup.model.inputSize;
  const weights = setup.weights as ArrayBuffer;
  return {
    post(request) {
      const carried: CarriedBuffers = { weights: weights.slice(0) };
      if (request.kind === "step") {
        carried.images = (setup.images as ArrayBuffer).slice(0, request.size * pixels * 4);
        carried.labels = (setup.labels as ArrayBuffer).slice(0, request.size * 4);
      }
      endpoint.post({ ...request, carried }, Object.values(carried));
    },
    listen(message, failure) {
      endpoint.listen((reply) => {
        if (reply.kind === "step" && reply.gradients !== undefined) new Float32Array(setup.gradients).set(new Float32Array(reply.gradients));
        message(reply);
      }, failure);
    },
    ...(endpoint.hold === undefined ? {} : { hold: (held: boolean) => endpoint.hold?.(held) }),
    close: () => endpoint.close(),
  };
}
