/**
 * Mulberry32: a 32-bit generator whose whole state is one uint32, so it fits in a JSON number
 * and a saved state resumes the exact same sequence. Statistical quality is ample for shuffling.
 */
export class Random {
  /** Current state, an integer in 0..2^32-1. */
  state: number;

  constructor(state: number) {
    this.state = state >>> 0;
  }

  /** A uniform float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(this.state ^ (this.state >>> 15), this.state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }

  /** Shuffles in place (Fisher-Yates); the bias of flooring is below 2^-16 for arrays under 65536 elements. */
  shuffle(values: Uint32Array): void {
    for (let i = values.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const swap = values[i]!;
      values[i] = values[j]!;
      values[j] = swap;
    }
  }
}

/**
 * A bijection of uint32 in which every output bit depends on every input bit (the "lowbias32"
 * constants found by Chris Wellons' hash search). Chained over a few integers it is a stateless
 * random draw: the same inputs always give the same value, so nothing needs saving to resume.
 */
export function mix32(value: number): number {
  let x = value >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}
