import type { ModelConfig } from "./config.js";
import { glorotUniform, seededUniform } from "./random.js";

/** One trainable tensor of the model: its stable name and shape. */
export interface ParameterSpec {
  name: string;
  shape: number[];
  /** Glorot-uniform kernels; zero biases. */
  init: "glorot" | "zeros";
}

/** The model's parameters in a fixed order (the order of weights.bin). */
export function parameterSpecs(config: ModelConfig): ParameterSpec[] {
  const { inputSize, hiddenSize: hidden, classes } = config;
  const cell: ParameterSpec[] =
    config.cell === "lstm"
      ? [
          { name: "lstm/kernel", shape: [2 * hidden, 4 * hidden], init: "glorot" },
          { name: "lstm/bias", shape: [4 * hidden], init: "zeros" },
        ]
      : [
          { name: "gru/gates/kernel", shape: [2 * hidden, 2 * hidden], init: "glorot" },
          { name: "gru/gates/bias", shape: [2 * hidden], init: "zeros" },
          { name: "gru/candidate/kernel", shape: [2 * hidden, hidden], init: "glorot" },
          { name: "gru/candidate/bias", shape: [hidden], init: "zeros" },
        ];
  return [
    { name: "input/kernel", shape: [inputSize, hidden], init: "glorot" },
    { name: "input/bias", shape: [hidden], init: "zeros" },
    ...cell,
    { name: "output/kernel", shape: [hidden, classes], init: "glorot" },
    { name: "output/bias", shape: [classes], init: "zeros" },
  ];
}

/** Initial values of every parameter, drawn in spec order from one stream seeded by config.seed. */
export function initialParameters(config: ModelConfig): Map<string, Float32Array> {
  const uniform = seededUniform(config.seed);
  const values = new Map<string, Float32Array>();
  for (const spec of parameterSpecs(config)) {
    const [fanIn = 1, fanOut = 1] = spec.shape;
    values.set(
      spec.name,
      spec.init === "glorot" ? glorotUniform(fanIn, fanOut, uniform) : new Float32Array(fanIn),
    );
  }
  return values;
}
