import * as tf from "@tensorflow/tfjs-core";
import { modelSequenceInput, preprocessDigit, sequencePixels } from "@mnist/data";
import type { SequenceClassifier } from "@mnist/rnn";

/** Drawn digits become images of MNIST's size, whatever sequences the model reads them as. */
export const DRAWN_IMAGE_SIDE = 28;

/** What the model made of a drawing. */
export interface Reading {
  /** The drawing as an MNIST image: [side*side] in 0..1, row-major. */
  pixels: Float32Array;
  /** Class probabilities; undefined when nothing is drawn. */
  probabilities?: Float32Array;
  /** The most probable class. */
  digit?: number;
}

/**
 * Centres and scales the drawn digit to an MNIST image (as the CLI's predict does), then
 * classifies it read the way the model was trained (rows or pixels, permuted or not).
 */
export function classifyDrawing(model: SequenceClassifier, image: { width: number; height: number; data: Uint8ClampedArray }): Reading {
  const { steps, inputSize } = model.config;
  const side = DRAWN_IMAGE_SIDE;
  const input = modelSequenceInput(model, { rows: side, cols: side });
  const { pixels, hasInk } = preprocessDigit({ width: image.width, height: image.height, channels: 4, data: image.data }, { size: side });
  if (!hasInk) return { pixels };
  const output = tf.tidy(() => model.predict(tf.tensor3d(sequencePixels(pixels, 1, input), [1, steps, inputSize]))); // [1, classes]
  const probabilities = output.dataSync() as Float32Array;
  output.dispose();
  let digit = 0;
  probabilities.forEach((p, i) => {
    if (p > (probabilities[digit] ?? 0)) digit = i;
  });
  return { pixels, probabilities, digit };
}
