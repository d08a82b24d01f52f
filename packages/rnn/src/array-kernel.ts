import * as tf from "@tensorflow/tfjs-core";

/**
 * Kernels written in plain JavaScript over a backend's float32 arrays, for the backends that
 * keep their tensors in memory JavaScript can read (cpu: typed arrays; wasm: views of its heap).
 * A kernel reads its inputs and returns new outputs; it never writes into an input, which
 * TensorFlow.js treats as immutable.
 */
export const FAST_BACKENDS = ["cpu", "wasm"] as const;

export type TensorInfo = tf.TensorInfo;

/** What a kernel needs from a backend: float32 views of inputs, and new outputs with views. */
export interface ArrayAccess {
  /** A new [shape] float32 output and a writable view of its values (not cleared on wasm). */
  allocate(shape: number[]): { info: TensorInfo; values: Float32Array };
  /** A view of a tensor's values; on wasm only valid until the next allocation, so allocate first. */
  read(info: TensorInfo): Float32Array;
}

interface CpuBackendLike {
  data: { get(dataId: object): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: "float32", values: Float32Array): TensorInfo;
}

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: "float32"): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

function accessFor(backendName: string, backend: unknown): ArrayAccess {
  if (backendName === "cpu") {
    const cpu = backend as CpuBackendLike;
    return {
      allocate(shape) {
        const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
        return { info: cpu.makeTensorInfo(shape, "float32", values), values };
      },
      read: (info) => cpu.data.get(info.dataId).values as Float32Array,
    };
  }
  const wasm = backend as WasmBackendLike;
  return {
    allocate(shape) {
      const info = wasm.makeOutput(shape, "float32");
      return { info, values: wasm.typedArrayFromHeap(info) };
    },
    read: (info) => wasm.typedArrayFromHeap(info),
  };
}

type Attrs = Record<string, number | boolean | number[]>;

/** Registers `run` under `name` for every fast backend, once, on first use (importing the package leaves tf alone). */
function registerOnce(name: string, run: (access: ArrayAccess, inputs: tf.NamedTensorInfoMap, attrs: Attrs) => TensorInfo[]): () => void {
  let registered = false;
  return () => {
    if (registered) return;
    registered = true;
    for (const backendName of FAST_BACKENDS) {
      tf.registerKernel({
        kernelName: name,
        backendName,
        kernelFunc: ({ inputs, backend, attrs }) => run(accessFor(backendName, backend), inputs, attrs as Attrs),
      });
    }
  };
}

/** The tensors a caller passes for a kernel whose inputs are `Infos`; an optional input may be left out. */
type InputTensors<Infos> = { [K in keyof Infos]: Infos[K] extends TensorInfo ? tf.Tensor : tf.Tensor | undefined };

/**
 * A kernel with named inputs, as a function of tensors: `run` gets the inputs by name (an
 * optional one absent when the caller passes undefined) and returns its outputs in order.
 */
export function namedKernel<Infos extends { [name: string]: TensorInfo | undefined }, A extends Attrs>(
  name: string,
  run: (access: ArrayAccess, inputs: Infos, attrs: A) => TensorInfo[],
): (inputs: InputTensors<Infos>, attrs: A) => tf.Tensor[] {
  const register = registerOnce(name, (access, inputs, attrs) => run(access, inputs as Infos, attrs as A));
  return (inputs, attrs) => {
    register();
    const named: tf.NamedTensorMap = {};
    for (const [key, tensor] of Object.entries(inputs) as [string, tf.Tensor | undefined][]) {
      if (tensor !== undefined) named[key] = tensor;
    }
    return tf.engine().runKernel(name, named, attrs) as tf.Tensor[];
  };
}

/**
 * A kernel over an ordered list of tensors, as a function of the list. TensorFlow.js passes a
 * kernel its inputs by name, so the list travels named by position and is rebuilt in order.
 */
export function listKernel<A extends Attrs>(
  name: string,
  run: (access: ArrayAccess, list: TensorInfo[], attrs: A) => TensorInfo[],
): (list: readonly tf.Tensor[], attrs: A) => tf.Tensor[] {
  const register = registerOnce(name, (access, inputs, attrs) => {
    const list = Array.from({ length: Object.keys(inputs).length }, (_, k) => inputs[k] as TensorInfo);
    return run(access, list, attrs as A);
  });
  return (list, attrs) => {
    register();
    const named: tf.NamedTensorMap = {};
    list.forEach((tensor, k) => (named[k] = tensor));
    return tf.engine().runKernel(name, named, attrs) as tf.Tensor[];
  };
}
