/** Initial weights drawn from a seeded uniform stream (seeded-uniform.ts). */

/** Glorot-uniform values for a [fanIn, fanOut] kernel: U(-l, l), l = sqrt(6 / (fanIn + fanOut)). */
export function glorotUniform(fanIn: number, fanOut: number, uniform: () => number): Float32Array {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const values = new Float32Array(fanIn * fanOut);
  for (let i = 0; i < values.length; i++) values[i] = (2 * uniform() - 1) * limit;
  return values;
}

/** Standard normal numbers from uniform ones (Box-Muller, one value per pair). */
function standardNormal(uniform: () => number): number {
  const radius = Math.sqrt(-2 * Math.log(1 - uniform())); // 1 - u is in (0, 1]: no log(0)
  return radius * Math.cos(2 * Math.PI * uniform());
}

/** `count` standard-normal values, N(0, 1): what TF1's tf.random_normal gives by default. */
export function standardNormalValues(count: number, uniform: () => number): Float32Array {
  return Float32Array.from({ length: count }, () => standardNormal(uniform));
}

/**
 * A random orthogonal [n, n] matrix, row-major: the Q of a QR factorisation of a standard-normal
 * matrix, by Gram-Schmidt on its columns in float64. Each column is orthogonalised twice against
 * the ones before it, which keeps Q^T Q = I to rounding even when a column is nearly dependent.
 */
export function randomOrthogonal(n: number, uniform: () => number): Float64Array {
  const columns = Array.from({ length: n }, () => Float64Array.from({ length: n }, () => standardNormal(uniform)));
  columns.forEach((column, k) => {
    for (let pass = 0; pass < 2; pass++) {
      for (let previous = 0; previous < k; previous++) {
        const basis = columns[previous] as Float64Array;
        let dot = 0;
        for (let r = 0; r < n; r++) dot += basis[r]! * column[r]!;
        for (let r = 0; r < n; r++) column[r] = column[r]! - dot * basis[r]!;
      }
    }
    const norm = Math.hypot(...column);
    for (let r = 0; r < n; r++) column[r] = column[r]! / norm;
  });
  const matrix = new Float64Array(n * n);
  columns.forEach((column, c) => column.forEach((value, r) => (matrix[r * n + c] = value)));
  return matrix;
}
