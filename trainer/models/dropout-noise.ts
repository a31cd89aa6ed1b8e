import { fmix32 } from '../../core/rng.js';

/**
 * The multiplier of inverted dropout, as torch builds it (bernoulli(1 - rate)
 * / (1 - rate)): each entry is 1 / (1 - rate) with probability 1 - rate, else
 * 0. Entry i depends only on (seed, i), so a mask is reproducible from its seed.
 *
 * Why by hand: tf.randomUniform draws through seedrandom's alea one number at
 * a time, and the mask then needs three more kernels (greaterEqual, cast,
 * div): four tensor ops and three full-size intermediates a mask, where this
 * is one loop. pure-rand's generators cost ~19 ns a draw here behind a method
 * call; a counter hash (murmur3's finaliser over i times the golden ratio,
 * with the hashed seed XORed in) costs ~8 ns, and a threshold on its 32 bits
 * is all a mask needs.
 */
export function dropoutNoise(size: number, rate: number, seed: number): Float32Array {
  if (!(rate >= 0 && rate < 1)) throw new RangeError(`dropoutNoise: expected a rate in [0, 1), but got ${rate}`);
  const out = new Float32Array(size);
  const scale = 1 / (1 - rate);
  // P(h >= threshold) = 1 - rate for h uniform on the 2^32 values.
  const threshold = rate * 4294967296;
  // The seed is hashed and XORed in rather than used as the start of the
  // sequence (as SplitMix32 does): two seeds that differ by a multiple of the
  // increment would then give one stream shifted, and a run draws thousands of masks.
  const key = fmix32(seed | 0);
  for (let i = 0; i < size; i++) {
    out[i] = fmix32(Math.imul(i, 0x9e3779b9) ^ key) >>> 0 >= threshold ? scale : 0;
  }
  return out;
}
