/** Median, min and max of a sample of timings. */
export interface Summary {
  median: number;
  min: number;
  max: number;
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new Error("summarize: no values");
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

/**
 * Floating-point operations of one training step of the tutorial's model, as
 * the tutorial formulates it (input projection, then [x|h]*W per step, output
 * layer), counting a multiply-add as 2 and the backward pass as twice the
 * forward. Every implementation is charged the same work, so GFLOP/s compares
 * them fairly even when one of them re-associates the products.
 */
export function trainingStepFlops(batch: number, steps: number, inputs: number, hidden: number, classes: number): number {
  const perStep = inputs * hidden + 2 * hidden * 4 * hidden;
  const forward = 2 * batch * (steps * perStep + hidden * classes);
  return 3 * forward;
}
