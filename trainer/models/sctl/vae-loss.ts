import * as tf from '@tensorflow/tfjs-core';

/**
 * SCTL's reconstruction term (eq. 1): the MSE over genes, averaged over the
 * rows of both batches. Every row has the same genes, so that is the mean
 * over all entries of the concatenated batch (torch's F.mse_loss).
 */
export function reconstructionLoss(x: tf.Tensor2D, xHat: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.square(tf.sub(xHat, x))) as tf.Scalar);
}

/**
 * KL(N(mu, exp(logvar)) || N(0, I)) summed over latent dimensions, then
 * averaged over the rows of both batches (eq. 2-3; uniPort's kl_div and the
 * usual VAE code): mean_i sum_k -1/2 (1 + logvar - mu^2 - exp(logvar)).
 */
export function klDivergence(mu: tf.Tensor2D, logvar: tf.Tensor2D): tf.Scalar {
  return tf.tidy(
    () => tf.mean(tf.sum(tf.mul(tf.sub(tf.sub(tf.add(logvar, 1), tf.square(mu)), tf.exp(logvar)), -0.5), 1)) as tf.Scalar,
  );
}
