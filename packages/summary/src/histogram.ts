/** The fields of TensorBoard's HistogramProto, computed from raw values. */
export interface Histogram {
  min: number;
  max: number;
  count: number;
  sum: number;
  sumSquares: number;
  /** Right edge of each bucket; bucket i covers (bucketLimits[i-1], bucketLimits[i]]. */
  bucketLimits: number[];
  bucketCounts: number[];
}

// Bucketing choice: TensorBoard's classic exponential edges, ±1e-12·1.1^k up
// to 1e20 around a bucket at 0, the ones TF1's C++ histogram and most
// TensorBoard writers use. Unlike TF2's 30 equal-width buckets spread over
// [min, max], the edges are the same at every step, so a weight distribution
// that drifts shows as movement rather than as rebinning noise, and every
// value is placed within 10% of its magnitude, whether it is a 1e-6 gradient
// or a 1e3 activation. Only occupied buckets are stored (with one empty
// bucket per gap), so a histogram costs bytes for the range it spans, not for
// all 1551 edges.
let limits: Float64Array | undefined;

function bucketLimits(): Float64Array {
  if (limits) return limits;
  const positive: number[] = [];
  // Repeated multiplication, not 1.1 ** k, so the edges are bit-for-bit the
  // ones other writers produce and histograms from different tools line up.
  for (let v = 1e-12; v < 1e20; v *= 1.1) positive.push(v);
  const negative = positive.map((v) => -v).reverse();
  limits = Float64Array.from([...negative, 0, ...positive, Number.MAX_VALUE]);
  return limits;
}

const LOG_1_1 = Math.log(1.1);

/** Index of the first edge >= value: the bucket that holds it. */
function bucketOf(edges: Float64Array, value: number): number {
  // The middle edge is 0 and the k-th one out from it is ±1e-12·1.1^k, so a
  // logarithm lands within a bucket of the answer; comparisons with the
  // actual edges settle it (80k values: 4 ms, against 11 ms for a binary search).
  const zero = (edges.length - 1) >> 1;
  const magnitude = Math.abs(value);
  const k = magnitude <= 1e-12 ? 0 : Math.min(Math.ceil(Math.log(magnitude / 1e-12) / LOG_1_1), zero);
  let i = value > 0 ? zero + 1 + k : value < 0 ? zero - 1 - k : zero;
  i = Math.min(Math.max(i, 0), edges.length - 1);
  while (i < edges.length - 1 && edges[i]! < value) i++;
  while (i > 0 && edges[i - 1]! >= value) i--;
  return i;
}

/**
 * Histogram of the finite entries of `values`. NaN and ±Infinity are left
 * out: an infinite min or max would become an infinite bucket edge, which
 * TensorBoard cannot draw (a diverged model shows in its loss scalar anyway).
 */
export function computeHistogram(values: ArrayLike<number>): Histogram {
  const edges = bucketLimits();
  const counts = new Float64Array(edges.length);
  let min = Infinity;
  let max = -Infinity;
  let count = 0;
  let sum = 0;
  let sumSquares = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    counts[bucketOf(edges, v)]!++;
    if (v < min) min = v;
    if (v > max) max = v;
    count++;
    sum += v;
    sumSquares += v * v;
  }
  const histogram: Histogram = { min: 0, max: 0, count, sum, sumSquares, bucketLimits: [], bucketCounts: [] };
  if (count === 0) return histogram;
  histogram.min = min;
  histogram.max = max;
  const first = bucketOf(edges, min);
  const last = bucketOf(edges, max);
  // Bucket 0 implicitly starts at -DBL_MAX, so an empty bucket is needed to
  // pin the left edge of the first occupied one.
  if (first > 0) push(histogram, edges[first - 1]!, 0);
  for (let i = first; i <= last; i++) {
    const c = counts[i]!;
    // An empty bucket is kept only as the last of its run: one bucket
    // spanning the whole gap up to the next occupied bucket.
    if (c > 0 || counts[i + 1]! > 0) push(histogram, edges[i]!, c);
  }
  return histogram;
}

function push(h: Histogram, limit: number, count: number): void {
  h.bucketLimits.push(limit);
  h.bucketCounts.push(count);
}
