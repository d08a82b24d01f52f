import type { CellType, ModelConfig } from "./config.js";
import { seededUniform } from "./seeded-uniform.js";
import { glorotUniform, randomOrthogonal, standardNormalValues } from "./weight-init.js";

/** One trainable tensor of the model: its stable name and shape. */
export interface ParameterSpec {
  name: string;
  shape: number[];
  /** Glorot-uniform kernels; zero biases. */
  init: "glorot" | "zeros";
  /**
   * Cell kernels only: the number of rows at the bottom of the kernel that multiply h (the
   * recurrent rows), which ModelConfig.recurrentInit "orthogonal" fills with orthogonal blocks.
   */
  recurrentRows?: number;
  /** Input and output layers only: the parameters ModelConfig.denseInit "normal" draws from N(0, 1). */
  dense?: true;
}

/**
 * Name prefix of recurrent layer `layer` (1-based): layer 1 keeps the names of single-layer
 * models ("lstm", "gru") so models saved before stacking load unchanged; layer n >= 2 is
 * "lstm_<n>" / "gru_<n>".
 */
export function layerPrefix(cell: CellType, layer: number): string {
  return layer === 1 ? cell : `${cell}_${layer}`;
}

function cellSpecs(cell: CellType, hidden: number, prefix: string): ParameterSpec[] {
  // Every layer's input is hidden wide (layer 1 reads the projected input), so the kernels of
  // all layers have the same shape: rows [input | h].
  if (cell === "lstm") {
    return [
      { name: `${prefix}/kernel`, shape: [2 * hidden, 4 * hidden], init: "glorot", recurrentRows: hidden },
      { name: `${prefix}/bias`, shape: [4 * hidden], init: "zeros" },
    ];
  }
  return [
    { name: `${prefix}/gates/kernel`, shape: [2 * hidden, 2 * hidden], init: "glorot", recurrentRows: hidden },
    { name: `${prefix}/gates/bias`, shape: [2 * hidden], init: "zeros" },
    { name: `${prefix}/candidate/kernel`, shape: [2 * hidden, hidden], init: "glorot", recurrentRows: hidden },
    { name: `${prefix}/candidate/bias`, shape: [hidden], init: "zeros" },
  ];
}

/** The model's parameters in a fixed order (the order of weights.bin): input, layer 1..n, output. */
export function parameterSpecs(config: ModelConfig): ParameterSpec[] {
  const { inputSize, hiddenSize: hidden, classes } = config;
  const layers = Array.from({ length: config.layers }, (_, k) =>
    cellSpecs(config.cell, hidden, layerPrefix(config.cell, k + 1)),
  );
  return [
    { name: "input/kernel", shape: [inputSize, hidden], init: "glorot", dense: true },
    { name: "input/bias", shape: [hidden], init: "zeros", dense: true },
    ...layers.flat(),
    { name: "output/kernel", shape: [hidden, classes], init: "glorot", dense: true },
    { name: "output/bias", shape: [classes], init: "zeros", dense: true },
  ];
}

/**
 * Initial values of every parameter, drawn in spec order from one stream seeded by config.seed.
 * Orthogonal recurrent blocks and N(0, 1) dense layers each come from a stream of their own, so
 * that a model with recurrentInit "orthogonal" or denseInit "normal" has exactly the default
 * model's values everywhere else (the default draws are made and replaced).
 */
export function initialParameters(config: ModelConfig): Map<string, Float32Array> {
  const uniform = seededUniform(config.seed);
  const orthogonalUniform = seededUniform(config.seed ^ 0x5bd1e995);
  const normalUniform = seededUniform(config.seed ^ 0x27d4eb2f);
  const values = new Map<string, Float32Array>();
  for (const spec of parameterSpecs(config)) {
    const [fanIn = 1, fanOut = 1] = spec.shape;
    let value = spec.init === "glorot" ? glorotUniform(fanIn, fanOut, uniform) : new Float32Array(fanIn);
    if (config.denseInit === "normal" && spec.dense) value = standardNormalValues(value.length, normalUniform);
    if (config.recurrentInit === "orthogonal" && spec.recurrentRows !== undefined) {
      fillOrthogonalBlocks(value, fanIn - spec.recurrentRows, spec.recurrentRows, fanOut, orthogonalUniform);
    }
    values.set(spec.name, value);
  }
  return values;
}

/**
 * Overwrites rows [firstRow, firstRow + size) of a row-major kernel with `columns / size`
 * side-by-side random orthogonal [size, size] blocks, one per gate.
 */
function fillOrthogonalBlocks(
  kernel: Float32Array,
  firstRow: number,
  size: number,
  columns: number,
  uniform: () => number,
): void {
  for (let block = 0; block < columns / size; block++) {
    const q = randomOrthogonal(size, uniform); // [size, size]
    for (let r = 0; r < size; r++) {
      kernel.set(q.subarray(r * size, (r + 1) * size), (firstRow + r) * columns + block * size);
    }
  }
}
