import * as tf from '@tensorflow/tfjs-core';
import { squaredDistances } from './cost.js';

/**
 * The MMD kernel.
 * - `single`: one RBF exp(-d / (2 sigma^2)) with d the squared distance; the
 *   public SCTL code uses sigma = 1000.
 * - `multi` (cellsweep's default): the mean of `bandwidths` kernels
 *   exp(-d / h_k), h_k = h * mul^(k - floor(bandwidths / 2)), where h is the
 *   mean squared distance over distinct pairs of the two batches together,
 *   held constant (no gradient through h). This is the multi-kernel MMD of DAN
 *   (Long et al. 2015) with its usual 5 bandwidths a factor 2 apart.
 *
 * Why `multi` is the default: with latent codes of unit scale (the KL term
 * pulls them there) squared distances are ~2 x latent = 32, so sigma = 1000
 * gives exp(-32 / 2e6), a kernel that is flat to 1e-5: the MMD and its
 * gradient are ~1e-5 of what they would be at a matched bandwidth, and l2
 * barely acts. A fixed list of bandwidths would go stale as the latent scale
 * moves during training; scaling them by the batch's own mean distance keeps
 * the kernels where they discriminate, and averaging (rather than summing)
 * keeps the value in [0, 2] whatever the number of bandwidths, so l2 means the
 * same thing for every setting.
 */
export type MmdKernel = { kind: 'single'; sigma: number } | { kind: 'multi'; bandwidths: number; mul: number };

/**
 * The biased estimate of MMD^2 between the rows of zb and zs,
 * mean k(b, b') + mean k(s, s') - 2 mean k(b, s) over all pairs (the diagonal
 * included), written with k - 1 = expm1(-d / h): the
 * constant 1s cancel exactly (1 + 1 - 2 = 0), so the estimator is unchanged,
 * but its tiny values for a wide kernel (sigma = 1000 gives ~1e-6) are not
 * lost in float32 rounding of numbers near 1.
 */
export function mmdLoss(zb: tf.Tensor2D, zs: tf.Tensor2D, kernel: MmdKernel): tf.Scalar {
  return tf.tidy(() => {
    const dbb = squaredDistances(zb, zb);
    const dss = squaredDistances(zs, zs);
    const dbs = squaredDistances(zb, zs);
    const scales = kernelScales(kernel, dbb, dss, dbs, zb.shape[0] + zs.shape[0]);
    const kMinus1 = (d: tf.Tensor2D): tf.Tensor => {
      const terms = scales.map((s) => tf.expm1(tf.div(tf.neg(d), s)));
      return tf.div(terms.length === 1 ? (terms[0] as tf.Tensor) : tf.addN(terms), terms.length);
    };
    return tf.sub(tf.add(tf.mean(kMinus1(dbb)), tf.mean(kMinus1(dss))), tf.mul(tf.mean(kMinus1(dbs)), 2)) as tf.Scalar;
  });
}

/** The denominators h_k of exp(-d / h_k). */
function kernelScales(kernel: MmdKernel, dbb: tf.Tensor2D, dss: tf.Tensor2D, dbs: tf.Tensor2D, n: number): (tf.Scalar | number)[] {
  if (kernel.kind === 'single') return [2 * kernel.sigma * kernel.sigma];
  const { bandwidths, mul } = kernel;
  if (!Number.isInteger(bandwidths) || bandwidths < 1) throw new RangeError(`mmdLoss: expected bandwidths >= 1, but got ${bandwidths}`);
  // Mean over the n^2 - n distinct ordered pairs (the diagonal is 0).
  const sum = tf.add(tf.add(tf.sum(dbb), tf.sum(dss)), tf.mul(tf.sum(dbs), 2));
  // The floor only matters when every code is identical (then every d is 0 too).
  const h = tf.maximum(stopGradient(tf.div(sum, n * n - n)), 1e-12) as tf.Scalar;
  return Array.from({ length: bandwidths }, (_, k) => tf.mul(h, mul ** (k - Math.floor(bandwidths / 2))) as tf.Scalar);
}

/** The value of x, treated as a constant by autodiff (tfjs-core has no stopGradient). */
function stopGradient<T extends tf.Tensor>(x: T): T {
  const identity = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const t = args[0] as tf.Tensor;
    return { value: tf.clone(t), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) };
  });
  return identity(x) as T;
}
