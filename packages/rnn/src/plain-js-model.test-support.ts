/**
 * Test-only reference: the whole classifier in plain JavaScript numbers (float64) with
 * explicit loops, sharing no code with the TensorFlow.js implementation.
 */
import type { ModelConfig } from "./config.js";

export type PlainParameters = Map<string, number[]>;

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** row [K] times a row-major [K, columns] matrix. */
function rowTimesMatrix(row: number[], matrix: number[], columns: number): number[] {
  const out = new Array<number>(columns).fill(0);
  row.forEach((value, k) => {
    for (let n = 0; n < columns; n++) out[n] = (out[n] as number) + value * (matrix[k * columns + n] as number);
  });
  return out;
}

function get(parameters: PlainParameters, name: string): number[] {
  const value = parameters.get(name);
  if (value === undefined) throw new Error(`missing ${name}`);
  return value;
}

/** One LSTM step for one example: x and h are vectors; returns the new [c, h]. */
export function plainLstmStep(
  x: number[],
  h: number[],
  c: number[],
  kernel: number[],
  bias: number[],
  forgetBias: number,
): [number[], number[]] {
  const hidden = h.length;
  const z = rowTimesMatrix([...x, ...h], kernel, 4 * hidden).map((v, n) => v + (bias[n] as number));
  const newC = c.map(
    (cn, n) =>
      cn * sigmoid((z[2 * hidden + n] as number) + forgetBias) +
      sigmoid(z[n] as number) * Math.tanh(z[hidden + n] as number),
  );
  const newH = newC.map((cn, n) => Math.tanh(cn) * sigmoid(z[3 * hidden + n] as number));
  return [newC, newH];
}

/** One GRU step for one example; `prefix` names the layer ("gru", "gru_2", ...). */
export function plainGruStep(x: number[], h: number[], parameters: PlainParameters, prefix = "gru"): number[] {
  const hidden = h.length;
  const gates = rowTimesMatrix([...x, ...h], get(parameters, `${prefix}/gates/kernel`), 2 * hidden).map((v, n) =>
    sigmoid(v + (get(parameters, `${prefix}/gates/bias`)[n] as number)),
  );
  const reset = gates.slice(0, hidden);
  const update = gates.slice(hidden);
  const resetH = h.map((hn, n) => hn * (reset[n] as number));
  const candidate = rowTimesMatrix([...x, ...resetH], get(parameters, `${prefix}/candidate/kernel`), hidden).map((v, n) =>
    Math.tanh(v + (get(parameters, `${prefix}/candidate/bias`)[n] as number)),
  );
  return h.map((hn, n) => (update[n] as number) * hn + (1 - (update[n] as number)) * (candidate[n] as number));
}

/**
 * Logits [batch * classes] for images [batch * steps * inputs]: the projection, then each of
 * config.layers cells over the whole sequence of the one below (layer n is named "lstm_<n>" /
 * "gru_<n>", layer 1 plain "lstm" / "gru"), then the output layer on the top layer's last h
 * (its bias added to the product, or to every weight with outputBias "in-weights").
 */
export function plainModelLogits(images: number[], batch: number, parameters: PlainParameters, config: ModelConfig): number[] {
  const { steps, inputSize, hiddenSize, classes } = config;
  const logits: number[] = [];
  for (let b = 0; b < batch; b++) {
    let sequence = Array.from({ length: steps }, (_, t) => {
      const start = (b * steps + t) * inputSize;
      return rowTimesMatrix(images.slice(start, start + inputSize), get(parameters, "input/kernel"), hiddenSize).map(
        (v, n) => v + (get(parameters, "input/bias")[n] as number),
      );
    });
    for (let layer = 1; layer <= config.layers; layer++) {
      const prefix = layer === 1 ? config.cell : `${config.cell}_${layer}`;
      let h = new Array<number>(hiddenSize).fill(0);
      let c = new Array<number>(hiddenSize).fill(0);
      sequence = sequence.map((x) => {
        if (config.cell === "lstm") {
          [c, h] = plainLstmStep(x, h, c, get(parameters, `${prefix}/kernel`), get(parameters, `${prefix}/bias`), config.forgetBias);
        } else {
          h = plainGruStep(x, h, parameters, prefix);
        }
        return h;
      });
    }
    const top = sequence[steps - 1] as number[];
    const kernel = get(parameters, "output/kernel");
    const bias = get(parameters, "output/bias");
    if (config.outputBias === "in-weights") {
      // logits_n = sum_k h_k * (W_kn + b_n): the bias is part of every weight.
      logits.push(...bias.map((b, n) => top.reduce((sum, h, k) => sum + h * ((kernel[k * classes + n] as number) + b), 0)));
    } else {
      logits.push(...rowTimesMatrix(top, kernel, classes).map((v, n) => v + (bias[n] as number)));
    }
  }
  return logits;
}

/** Mean softmax cross-entropy of the plain model. */
export function plainModelLoss(images: number[], labels: number[], parameters: PlainParameters, config: ModelConfig): number {
  const logits = plainModelLogits(images, labels.length, parameters, config);
  let total = 0;
  labels.forEach((label, b) => {
    const row = logits.slice(b * config.classes, (b + 1) * config.classes);
    const max = Math.max(...row);
    const logSum = Math.log(row.reduce((sum, v) => sum + Math.exp(v - max), 0)) + max;
    total += logSum - (row[label] as number);
  });
  return total / labels.length;
}

/** d loss / d parameter by central differences in float64, for every entry or only `entries`. */
export function finiteDifferenceGradient(
  images: number[],
  labels: number[],
  parameters: PlainParameters,
  config: ModelConfig,
  name: string,
  epsilon = 1e-6,
  entries?: number[],
): number[] {
  const value = get(parameters, name);
  return (entries ?? value.map((_, k) => k)).map((k) => {
    const original = value[k] as number;
    value[k] = original + epsilon;
    const plus = plainModelLoss(images, labels, parameters, config);
    value[k] = original - epsilon;
    const minus = plainModelLoss(images, labels, parameters, config);
    value[k] = original;
    return (plus - minus) / (2 * epsilon);
  });
}
