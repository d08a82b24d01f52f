import * as tf from "@tensorflow/tfjs-core";
import { preprocessDigit } from "@mnist/data";
import type { SequenceClassifier } from "@mnist/rnn";

/** What the model made of a drawing. */
export interface Reading {
  /** The drawing as the model sees it: [steps*inputSize] in 0..1. */
  pixels: Float32Array;
  /** Class probabilities; undefined when nothing is drawn. */
  probabilities?: Float32Array;
  /** The most probable class. */
  digit?: number;
}

/** Centres and scales the drawn digit to the model's image size (as the CLI's predict does), then classifies it. */
export function classifyDrawing(model: SequenceClassifier, image: ImageData): Reading {
  const { steps, inputSize } = model.config;
  const { pixels, hasInk } = preprocessDigit({ width: image.width, height: image.height, channels: 4, data: image.data }, { size: steps });
  if (!hasInk) return { pixels };
  const output = tf.tidy(() => model.predict(tf.tensor3d(pixels, [1, steps, inputSize]))); // [1, classes]
  const probabilities = output.dataSync() as Float32Array;
  output.dispose();
  let digit = 0;
  probabilities.forEach((p, i) => {
    if (p > (probabilities[digit] ?? 0)) digit = i;
  });
  return { pixels, probabilities, digit };
}
