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
 * KL(N(mu, exp(logvar)) || N(0, I)) per row, averaged over the rows of both
 * batches, with the per-dimension terms -1/2 (1 + logvar - mu^2 - exp(logvar))
 * either summed over latent dimensions ('sum': eq. 2-3 as written, uniPort's
 * kl_div) or averaged over them ('mean': the mean over every entry, as much
 * PyTorch VAE code writes it; the sum divided by the latent size). Why 'mean'
 * is SCTL's default is in docs/sctl.md.
 */
export function klDivergence(mu: tf.Tensor2D, logvar: tf.Tensor2D, reduction: 'sum' | 'mean' = 'sum'): tf.Scalar {
  return tf.tidy(() => {
    const perEntry = tf.mul(tf.sub(tf.sub(tf.add(logvar, 1), tf.square(mu)), tf.exp(logvar)), -0.5);
    return (reduction === 'sum' ? tf.mean(tf.sum(perEntry, 1)) : tf.mean(perEntry)) as tf.Scalar;
  });
}
