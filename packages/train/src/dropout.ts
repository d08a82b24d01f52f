import { mix32 } from "@mnist/data";

/**
 * Which dropout mask a minibatch, or one thread's share of it, trains with. Plain numbers, so
 * that a worker thread builds the rows of its share itself: every entry is a pure function of
 * (seed, step, example, unit), with no generator state to send, save or restore.
 */
export interface DropoutSpec {
  /** Fraction of units dropped, in (0, 1) (TrainConfig.dropout). */
  rate: number;
  /** TrainConfig.seed. */
  seed: number;
  /** Training step, counted from 1 like StepEvent.step. */
  step: number;
  /** Index within the whole minibatch of the first image this mask is for (0 unless a share). */
  firstExample: number;
}

/** Uniform in [0, 1) on a 2^-24 grid, from a hash of the four counters. */
function uniformAt(seed: number, step: number, example: number, unit: number): number {
  const hash = mix32(mix32(mix32(mix32(seed) ^ step) ^ example) ^ unit);
  return (hash >>> 8) / 0x1000000;
}

/**
 * The output mask of `rows` examples from `spec.firstExample` on, [rows, units] row-major: 0 for a
 * dropped unit, 1 / (1 - rate) for a kept one, so the layer's expected input is unchanged and
 * evaluation needs no rescaling. Rows k..k+n of a mask equal the mask of a share starting at k.
 */
export function dropoutMask(spec: DropoutSpec, rows: number, units: number): Float32Array {
  const { rate, seed, step, firstExample } = spec;
  const kept = 1 / (1 - rate);
  const mask = new Float32Array(rows * units);
  for (let row = 0; row < rows; row++) {
    for (let unit = 0; unit < units; unit++) {
      if (uniformAt(seed, step, firstExample + row, unit) >= rate) mask[row * units + unit] = kept;
    }
  }
  return mask;
}
