import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../../../core/rng.js';
import { EVAL, type ForwardContext, type Sequential } from '../layers.js';
import { bceWithLogits } from '../loss.js';
import { buildPredictor } from '../predictor.js';
import type { LossTerms } from '../step.js';
import type { SctlArchitecture, SctlObjective } from './config.js';
import { gaussianCost } from './cost.js';
import { mmdLoss } from './mmd.js';
import { unbalancedOtPlan } from './ot.js';
import { layerTensors, loadStateDict, readStateDict, type NamedTensor, type StateDict } from './state-dict.js';
import { klDivergence, reconstructionLoss } from './vae-loss.js';
import { reparameterise, Vae } from './vae.js';

/** One training step's inputs. */
export interface SctlBatch {
  /** Bulk rows, [bulk, genes] in [0, 1]. */
  xBulk: tf.Tensor2D;
  /** Cell rows, [cells, genes] in [0, 1]. */
  xCells: tf.Tensor2D;
  /** 0/1 labels of the bulk rows. */
  yBulk: tf.Tensor1D;
  /** Standard normal noise for the reparameterisation, [bulk + cells, latent]: bulk rows first. */
  noise: tf.Tensor2D;
}

/**
 * The terms of one step, in the order a non-finite value is reported
 * (step.ts names the first non-finite one): the four terms of eq. 11 first,
 * then the parts of L_vae, then the weighted total.
 */
export const SCTL_LOSS_TERMS = ['vae', 'ot', 'mmd', 'pred', 'recon', 'kl', 'total'] as const;

/**
 * SCTL: the shared VAE and the drug-response predictor on the bulk latent
 * codes (z by default, mu optionally). `losses` is the whole objective of one step; the caller runs it under
 * a gradient tape (step.ts) with a training context, or in tests with fixed
 * inputs: there is one code path.
 */
export class SctlModel {
  readonly vae: Vae;
  readonly predictor: Sequential;

  constructor(
    readonly architecture: SctlArchitecture,
    readonly objective: SctlObjective,
    rng: Rng,
  ) {
    this.vae = new Vae(architecture, rng);
    this.predictor = buildPredictor(architecture.latent, architecture.depth, architecture.dropout, rng);
  }

  /**
   * L = L_vae + l1 L_ot + l2 L_mmd + l3 L_pred for one bulk batch and one
   * cell batch (SCTL eq. 11). Every term is returned unweighted except
   * `total`. The OT plan is solved on the host from the batch's cost and
   * enters as a constant: the gradient of L_ot flows through the cost only.
   */
  losses(batch: SctlBatch, ctx: ForwardContext): LossTerms {
    const { xBulk, xCells, yBulk, noise } = batch;
    const nb = xBulk.shape[0];
    const ns = xCells.shape[0];
    const latent = this.architecture.latent;
    if (noise.shape[0] !== nb + ns || noise.shape[1] !== latent) {
      throw new RangeError(`SctlModel.losses: expected noise of [${nb + ns}, ${latent}], but got [${noise.shape.join(', ')}]`);
    }
    if (yBulk.shape[0] !== nb) throw new RangeError(`SctlModel.losses: ${nb} bulk rows but ${yBulk.shape[0]} labels`);
    const o = this.objective;
    return tf.tidy(() => {
      const x = tf.concat([xBulk, xCells], 0);
      const encoded = this.vae.encode(x, ctx);
      const { z, sigma } = reparameterise(encoded, noise);
      const xHat = this.vae.decode(z, nb, ctx);
      const recon = reconstructionLoss(x, xHat);
      const kl = klDivergence(encoded.mu, encoded.logvar, o.klReduction);
      const vae = tf.add(tf.mul(recon, o.reconWeight), tf.mul(kl, o.klWeight)) as tf.Scalar;

      const bulk = (t: tf.Tensor2D): tf.Tensor2D => tf.slice(t, [0, 0], [nb, -1]);
      const cells = (t: tf.Tensor2D): tf.Tensor2D => tf.slice(t, [nb, 0], [ns, -1]);
      const mmd = mmdLoss(bulk(z), cells(z), o.mmd);
      const cost = gaussianCost(bulk(encoded.mu), bulk(sigma), cells(encoded.mu), cells(sigma));
      const plan = tf.tensor2d(Float32Array.from(unbalancedOtPlan(cost.dataSync(), nb, ns, o.ot)), [nb, ns]);
      const ot = tf.sum(tf.mul(cost, plan)) as tf.Scalar;

      // The paper trains the predictor on the sampled codes z_b (eq. 9); cells
      // are scored on mu_s, the expected code (predictLogits).
      const code = o.predictorInput === 'z' ? z : encoded.mu;
      const logits = tf.reshape(this.predictor.apply(bulk(code), ctx), [nb]) as tf.Tensor1D;
      const pred = bceWithLogits(logits, yBulk);

      const total = tf.add(tf.add(tf.add(vae, tf.mul(ot, o.l1)), tf.mul(mmd, o.l2)), tf.mul(pred, o.l3)) as tf.Scalar;
      return { vae, ot, mmd, pred, recon, kl, total };
    });
  }

  /** Predictor logits for rows of expression, in evaluation mode: predictor(mu). */
  predictLogits(x: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => tf.reshape(this.predictor.apply(this.vae.encode(x, EVAL).mu, EVAL), [x.shape[0]]) as tf.Tensor1D);
  }

  /** Posterior means and standard deviations in evaluation mode. */
  posteriors(x: tf.Tensor2D): { mu: tf.Tensor2D; sigma: tf.Tensor2D } {
    return tf.tidy(() => {
      const { mu, logvar } = this.vae.encode(x, EVAL);
      return { mu, sigma: tf.exp(tf.mul(logvar, 0.5)) as tf.Tensor2D };
    });
  }

  params(): tf.Variable[] {
    return [...this.vae.params(), ...this.predictor.params()];
  }

  /** Every parameter and BatchNorm statistic by torch state_dict name. */
  tensors(): NamedTensor[] {
    const v = this.vae;
    return [
      ...layerTensors('encoder', v.encoder),
      ...layerTensors('encoder_mu', v.encoderMu),
      ...layerTensors('encoder_logvar', v.encoderLogvar),
      ...layerTensors('decoder', v.decoder),
      ...layerTensors('decoder_out', v.decoderOut),
      ...layerTensors('decoder_bn_bulk', v.decoderBnBulk),
      ...layerTensors('decoder_bn_cells', v.decoderBnCells),
      ...layerTensors('predictor', this.predictor),
    ];
  }

  /** Sets every tensor from a torch-named, torch-laid-out state dict (all names required). */
  loadStateDict(dict: StateDict): void {
    loadStateDict(this.tensors(), dict);
  }

  stateDict(): Record<string, { shape: number[]; values: Float32Array }> {
    return readStateDict(this.tensors());
  }

  dispose(): void {
    this.vae.dispose();
    this.predictor.dispose();
  }
}
