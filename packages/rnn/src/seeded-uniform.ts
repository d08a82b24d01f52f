/**
 * Seeded uniform numbers in [0, 1) (mulberry32). Our own generator, so a seed gives the
 * same initial weights on every backend and in every TensorFlow.js version.
 *
 * @mnist/data's Random is the same generator, written again on purpose: this package does not
 * depend on @mnist/data (a model needs no dataset reader), @mnist/data cannot depend on this one
 * (it would pull in TensorFlow.js), and six lines do not earn a package of their own. Apart, a
 * change to how the data is shuffled can never change the initial weights of a seed.
 */
export function seededUniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
