import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../../../core/rng.js';
import { BatchNorm1d, hiddenStack, Linear, Sequential, type ForwardContext, type Layer } from '../layers.js';
import type { SctlArchitecture } from './config.js';

/** The encoder's output for a batch: posterior means and log-variances. */
export interface Encoded {
  mu: tf.Tensor2D;
  logvar: tf.Tensor2D;
}

/**
 * The VAE that bulk and cells share (SCTL section 2.2).
 *
 * Encoder: hidden layers Linear -> BatchNorm -> ReLU -> Dropout, then two
 * Linear heads, mean and log-variance. Both domains go through it as one
 * batch, [bulk; cells], as the paper concatenates X = [X_b, X_s] (and uniPort
 * does): its BatchNorm layers normalise with the statistics of the two batches
 * together, which is itself a pull towards a shared scale.
 *
 * Decoder: the encoder's hidden layers in reverse ('mirror', the paper's "a
 * decoder with the same number of layers") or none ('linear', uniPort), then
 * Linear(genes) -> BatchNorm kept per domain -> Sigmoid. The per-domain
 * BatchNorm (uniPort's domain-specific BN) lets each domain keep its own
 * per-gene scale and offset, which the shared latent space should not have to
 * encode.
 */
export class Vae {
  readonly encoder: Sequential;
  readonly encoderMu: Linear;
  readonly encoderLogvar: Linear;
  /** The decoder's hidden layers; empty for the 'linear' decoder. */
  readonly decoder: Sequential;
  readonly decoderOut: Linear;
  readonly decoderBnBulk: BatchNorm1d;
  readonly decoderBnCells: BatchNorm1d;

  constructor(arch: SctlArchitecture, rng: Rng) {
    const { genes, encoderHidden, latent, dropout } = arch;
    if (encoderHidden.length === 0) throw new RangeError('Vae: expected at least one encoder hidden layer');
    const top = encoderHidden[encoderHidden.length - 1] as number;
    this.encoder = new Sequential(hiddenStack('encoder', genes, encoderHidden, dropout, rng));
    this.encoderMu = new Linear(top, latent, rng.derive('encoder_mu'));
    this.encoderLogvar = new Linear(top, latent, rng.derive('encoder_logvar'));
    const decoderHidden = arch.decoder === 'mirror' ? [...encoderHidden].reverse() : [];
    this.decoder = new Sequential(hiddenStack('decoder', latent, decoderHidden, dropout, rng));
    const decoderTop = decoderHidden.length > 0 ? (decoderHidden[decoderHidden.length - 1] as number) : latent;
    this.decoderOut = new Linear(decoderTop, genes, rng.derive('decoder_out'));
    this.decoderBnBulk = new BatchNorm1d(genes);
    this.decoderBnCells = new BatchNorm1d(genes);
  }

  encode(x: tf.Tensor2D, ctx: ForwardContext): Encoded {
    return tf.tidy(() => {
      const h = this.encoder.apply(x, ctx);
      return { mu: this.encoderMu.apply(h), logvar: this.encoderLogvar.apply(h) };
    });
  }

  /**
   * Reconstructions in (0, 1) of z = [bulk; cells]: the first `bulkRows` rows
   * go through the bulk BatchNorm, the rest through the cells' one.
   */
  decode(z: tf.Tensor2D, bulkRows: number, ctx: ForwardContext): tf.Tensor2D {
    return tf.tidy(() => {
      const out = this.decoderOut.apply(this.decoder.apply(z, ctx));
      const [rows, genes] = out.shape;
      const bulk = this.decoderBnBulk.apply(tf.slice(out, [0, 0], [bulkRows, genes]), ctx);
      const cells = this.decoderBnCells.apply(tf.slice(out, [bulkRows, 0], [rows - bulkRows, genes]), ctx);
      return tf.sigmoid(tf.concat([bulk, cells], 0));
    });
  }

  params(): tf.Variable[] {
    return this.layers().flatMap((l) => l.params());
  }

  dispose(): void {
    for (const l of this.layers()) l.dispose();
  }

  private layers(): Layer[] {
    return [this.encoder, this.encoderMu, this.encoderLogvar, this.decoder, this.decoderOut, this.decoderBnBulk, this.decoderBnCells];
  }
}

/**
 * The reparameterisation z = mu + sigma * noise with sigma = exp(logvar / 2).
 * `noise` (standard normal, the shape of mu) is an input, drawn by the caller
 * from a seeded stream: training and the reference tests run the same code.
 */
export function reparameterise(encoded: Encoded, noise: tf.Tensor2D): { z: tf.Tensor2D; sigma: tf.Tensor2D } {
  return tf.tidy(() => {
    const sigma = tf.exp(tf.mul(encoded.logvar, 0.5)) as tf.Tensor2D;
    return { z: tf.add(encoded.mu, tf.mul(sigma, noise)), sigma };
  });
}
