import * as tf from '@tensorflow/tfjs-core';

/**
 * ||a_i - b_j||^2 for rows of a [n, d] and b [m, d], as an [n, m] matrix.
 * By broadcasting the differences rather than |a|^2 + |b|^2 - 2 a b^T: the
 * latent codes are small (d = 16), so the n x m x d intermediate is cheap, and
 * it avoids the cancellation that makes near-equal points' distances noisy
 * (and the MMD of close batches with it).
 */
export function squaredDistances(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.sum(tf.square(tf.sub(tf.expandDims(a, 1), tf.expandDims(b, 0))), 2) as tf.Tensor2D);
}

/**
 * SCTL's transport cost between the posteriors N(mu_b_i, sigma_b_i^2) and
 * N(mu_s_j, sigma_s_j^2) (eq. 5): ||mu_b_i - mu_s_j||^2 + ||sigma_b_i - sigma_s_j||^2,
 * the squared 2-Wasserstein distance between diagonal Gaussians.
 */
export function gaussianCost(muB: tf.Tensor2D, sigmaB: tf.Tensor2D, muS: tf.Tensor2D, sigmaS: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => squaredDistances(tf.concat([muB, sigmaB], 1), tf.concat([muS, sigmaS], 1)));
}

/** Row-major codes of one domain: mean and standard deviation, rows x dim each. */
export interface Posteriors {
  mu: Float32Array;
  sigma: Float32Array;
  rows: number;
  dim: number;
}

/**
 * gaussianCost on the host, in float64, for the full plan between every bulk
 * sample and every cell: bulk x cells x latent would not fit on a device as
 * one broadcast tensor for the largest datasets (1,280 x 7,440 x 32 floats).
 */
export function gaussianCostHost(bulk: Posteriors, cells: Posteriors): Float64Array {
  if (bulk.dim !== cells.dim) throw new RangeError(`gaussianCostHost: latent ${bulk.dim} for bulk but ${cells.dim} for cells`);
  const { dim } = bulk;
  const out = new Float64Array(bulk.rows * cells.rows);
  for (let i = 0; i < bulk.rows; i++) {
    for (let j = 0; j < cells.rows; j++) {
      let s = 0;
      for (let k = 0; k < dim; k++) {
        const dm = (bulk.mu[i * dim + k] as number) - (cells.mu[j * dim + k] as number);
        const ds = (bulk.sigma[i * dim + k] as number) - (cells.sigma[j * dim + k] as number);
        s += dm * dm + ds * ds;
      }
      out[i * cells.rows + j] = s;
    }
  }
  return out;
}
