import * as tf from "@tensorflow/tfjs-core";

/** The labels one-hot and the log-probabilities of the logits, both [batch, classes]. */
function oneHotAndLogProbabilities(logits: tf.Tensor2D, labels: tf.Tensor1D): { oneHot: tf.Tensor2D; logProbabilities: tf.Tensor2D } {
  return { oneHot: tf.oneHot(labels, logits.shape[1]) as tf.Tensor2D, logProbabilities: tf.logSoftmax(logits) };
}

/**
 * The softmax cross-entropy -log softmax(logits)[label] of a batch, [batch, classes] logits and
 * [batch] int32 labels: its mean over the batch (the training loss; differentiable) or its sum
 * (to accumulate over many batches).
 */
export function softmaxCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, reduction: "mean" | "sum" = "mean"): tf.Scalar {
  return tf.tidy(() => {
    const { oneHot, logProbabilities } = oneHotAndLogProbabilities(logits, labels);
    const picked = tf.mul(oneHot, logProbabilities);
    return tf.neg(reduction === "mean" ? tf.mean(tf.sum(picked, 1)) : tf.sum(picked)) as tf.Scalar;
  });
}

/**
 * The mean softmax cross-entropy and its gradient for the logits, (softmax(logits) - oneHot) / batch,
 * from one log-softmax: for a backward pass written by hand.
 */
export function softmaxCrossEntropyWithGradient(logits: tf.Tensor2D, labels: tf.Tensor1D): { loss: tf.Scalar; dLogits: tf.Tensor2D } {
  return tf.tidy(() => {
    const { oneHot, logProbabilities } = oneHotAndLogProbabilities(logits, labels);
    const loss = tf.neg(tf.mean(tf.sum(tf.mul(oneHot, logProbabilities), 1))) as tf.Scalar;
    const dLogits = tf.div(tf.sub(tf.exp(logProbabilities), oneHot), logits.shape[0]) as tf.Tensor2D;
    return { loss, dLogits };
  });
}
