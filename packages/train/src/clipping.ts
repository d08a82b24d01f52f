import * as tf from "@tensorflow/tfjs-core";

/** sqrt(sum over every gradient of its squared elements), as a float32 scalar the caller owns. */
export function globalNorm(gradients: Readonly<Record<string, tf.Tensor>>): tf.Scalar {
  return tf.tidy(() => tf.sqrt(tf.addN(Object.values(gradients).map((gradient): tf.Scalar => tf.sum(tf.square(gradient))))));
}

/**
 * The gradients scaled to global norm `clipNorm` when their norm `norm` is
 * above it (disposing the unscaled ones), else `gradients` themselves.
 * Scaling all of them by one factor keeps the direction of the update,
 * unlike clipping each gradient on its own.
 */
export function clipByGlobalNorm(
  gradients: Record<string, tf.Tensor>,
  norm: number,
  clipNorm: number | undefined,
): Record<string, tf.Tensor> {
  if (clipNorm === undefined || !(norm > clipNorm)) return gradients;
  const scale = clipNorm / norm;
  const scaled = tf.tidy(() => Object.fromEntries(Object.entries(gradients).map(([name, gradient]) => [name, tf.mul(gradient, scale)])));
  tf.dispose(Object.values(gradients));
  return scaled;
}
