import * as tf from "@tensorflow/tfjs-core";
import type { SequenceClassifier } from "@mnist/rnn";

export interface Classification {
  /** Most probable class. */
  digit: number;
  /** Its softmax probability. */
  probability: number;
  /** All class probabilities. */
  probabilities: number[];
}

/** Runs the model on `count` images given as [count, steps, inputSize] pixels in 0..1. */
export function classify(model: SequenceClassifier, pixels: Float32Array, count: number): Classification[] {
  const { steps, inputSize } = model.config;
  const probabilities = tf.tidy(() => {
    const images = tf.tensor3d(pixels, [count, steps, inputSize]); // [count, rows, cols]
    return model.predict(images).arraySync();
  });
  return probabilities.map((row) => {
    let digit = 0;
    row.forEach((p, k) => {
      if (p > row[digit]!) digit = k;
    });
    return { digit, probability: row[digit]!, probabilities: row };
  });
}
