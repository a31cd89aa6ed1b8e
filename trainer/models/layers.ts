import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../../core/rng.js';
import { dropoutNoise } from './dropout-noise.js';
import { linearInit } from './init.js';

/**
 * The few layers the SCTL family of models is built from, with PyTorch's
 * semantics (the reference implementations are PyTorch code). Layers work on
 * [batch, features] tensors; parameters are tf.Variables owned by the layer.
 */

/** How a forward pass runs: training (batch statistics, dropout) or evaluation. */
export type ForwardContext =
  | { readonly training: true; /** A fresh seed for each dropout mask, drawn in call order. */ nextSeed(): number }
  | { readonly training: false };

export const EVAL: ForwardContext = { training: false };

/** A training context whose dropout seeds come from `rng`. */
export function trainingContext(rng: Rng): ForwardContext {
  return { training: true, nextSeed: () => rng.seed() };
}

export interface Layer {
  /** What it is, with sizes, e.g. "Linear(50 -> 128)". */
  readonly description: string;
  apply(x: tf.Tensor2D, ctx: ForwardContext): tf.Tensor2D;
  /** Trainable variables, in a fixed order. */
  params(): tf.Variable[];
  dispose(): void;
}

/** nn.Linear. The weight is stored [in, out] so the forward pass needs no transpose. */
export class Linear implements Layer {
  readonly description: string;
  readonly weight: tf.Variable<tf.Rank.R2>;
  readonly bias: tf.Variable<tf.Rank.R1>;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    rng: Rng,
  ) {
    const init = linearInit(inFeatures, outFeatures, rng);
    this.weight = variableFrom(tf.tensor2d(init.weight, [inFeatures, outFeatures]), true);
    this.bias = variableFrom(tf.tensor1d(init.bias), true);
    this.description = `Linear(${inFeatures} -> ${outFeatures})`;
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    // Not tf.fused.matMul: its custom gradient always computes the gradient for
    // x as well, a second full-size matmul that the first layer (x = the data,
    // ~13k genes wide) never needs. The tape skips it for plain matMul.
    return tf.add(tf.matMul(x, this.weight), this.bias);
  }

  params(): tf.Variable[] {
    return [this.weight, this.bias];
  }

  dispose(): void {
    tf.dispose([this.weight, this.bias]);
  }
}

export interface BatchNormOptions {
  momentum?: number;
  eps?: number;
}

/**
 * nn.BatchNorm1d: in training, normalise with the batch mean and the biased
 * batch variance, and move the running statistics by `momentum` towards the
 * batch mean and the unbiased batch variance; in evaluation, normalise with
 * the running statistics.
 */
export class BatchNorm1d implements Layer {
  readonly description: string;
  readonly gamma: tf.Variable<tf.Rank.R1>;
  readonly beta: tf.Variable<tf.Rank.R1>;
  readonly runningMean: tf.Variable<tf.Rank.R1>;
  readonly runningVar: tf.Variable<tf.Rank.R1>;
  readonly momentum: number;
  readonly eps: number;

  constructor(
    readonly features: number,
    options: BatchNormOptions = {},
  ) {
    this.momentum = options.momentum ?? 0.1;
    this.eps = options.eps ?? 1e-5;
    this.gamma = variableFrom(tf.ones([features]), true);
    this.beta = variableFrom(tf.zeros([features]), true);
    this.runningMean = variableFrom(tf.zeros([features]), false);
    this.runningVar = variableFrom(tf.ones([features]), false);
    this.description = `BatchNorm1d(${features})`;
  }

  apply(x: tf.Tensor2D, ctx: ForwardContext): tf.Tensor2D {
    if (!ctx.training) return this.normalise(x, this.runningMean, this.runningVar);
    const n = x.shape[0];
    if (n < 2) throw new RangeError(`BatchNorm1d needs at least 2 rows in training, but got ${n}`);
    return this.train(x, this.gamma, this.beta) as tf.Tensor2D;
  }

  /**
   * Training mode with the gradient written out (as torch's batch norm
   * backward does) instead of left to autodiff: with xhat = (x - mean) *
   * invstd and g = dy * gamma,
   *   dx = invstd * (g - mean(g) - xhat * mean(g * xhat)),
   *   dgamma = sum(dy * xhat), dbeta = sum(dy),
   * where mean(g) = gamma * dbeta / n and mean(g * xhat) = gamma * dgamma / n.
   * Autodiff through the mean, variance and rsqrt takes ~3x the kernels (and
   * full-size passes) for the same quantity. The forward values are those of
   * the op chain in `normalise`, bit for bit.
   */
  private readonly train = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, gamma, beta, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const n = x.shape[0];
    const mean = tf.mean(x, 0) as tf.Tensor1D;
    const centred = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centred), 0) as tf.Tensor1D;
    this.updateRunningStats(mean, variance, n);
    const invstd = tf.rsqrt(tf.add(variance, this.eps));
    const xhat = tf.mul(centred, invstd);
    // A variance that overflowed (an input near float32's limit) makes invstd 0 and the
    // output constant; the gradient there is undefined, and autodiff said so with NaN
    // (0 x inf in rsqrt's gradient), which stops the run with a TrainingError.
    // The closed form would give 0: keep the NaN, on the [features] factor only.
    const gradScale = tf.where(tf.isFinite(variance), invstd, tf.fill(invstd.shape, Number.NaN));
    save([xhat, gradScale, gamma]);
    return {
      value: tf.add(tf.mul(xhat, gamma), beta),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xh, inv, g] = saved as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D];
        const dbeta = tf.sum(dy, 0);
        const dgamma = tf.sum(tf.mul(dy, xh), 0);
        const meanG = tf.div(tf.mul(dbeta, g), n);
        const meanGXhat = tf.div(tf.mul(dgamma, g), n);
        const dx = tf.mul(tf.sub(tf.sub(tf.mul(dy, g), meanG), tf.mul(xh, meanGXhat)), inv);
        return [dx, dgamma, dbeta];
      },
    };
  });

  private normalise(x: tf.Tensor2D, mean: tf.Tensor1D, variance: tf.Tensor1D): tf.Tensor2D {
    // torch computes invstd = 1 / sqrt(var + eps), then (x - mean) * invstd * weight + bias.
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.eps))), this.gamma), this.beta);
  }

  private updateRunningStats(mean: tf.Tensor1D, biasedVar: tf.Tensor1D, n: number): void {
    const m = this.momentum;
    // Inside a gradient tape these ops are recorded but feed nothing the loss
    // depends on, so no gradient flows through them.
    this.runningMean.assign(tf.tidy(() => tf.add(tf.mul(this.runningMean, 1 - m), tf.mul(mean, m))));
    this.runningVar.assign(tf.tidy(() => tf.add(tf.mul(this.runningVar, 1 - m), tf.mul(biasedVar, (m * n) / (n - 1)))));
  }

  params(): tf.Variable[] {
    return [this.gamma, this.beta];
  }

  dispose(): void {
    tf.dispose([this.gamma, this.beta, this.runningMean, this.runningVar]);
  }
}

export class ReLU implements Layer {
  readonly description = 'ReLU';

  apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.relu(x);
  }

  params(): tf.Variable[] {
    return [];
  }

  dispose(): void {}
}

/**
 * nn.Dropout (inverted): in training, zero each value with probability `rate`
 * and scale the survivors by 1 / (1 - rate); identity in evaluation. Masks
 * come from dropoutNoise, one seed per call from the context.
 */
export class Dropout implements Layer {
  readonly description: string;

  constructor(readonly rate: number) {
    if (!(rate >= 0 && rate < 1)) throw new RangeError(`Dropout: expected a rate in [0, 1), but got ${rate}`);
    this.description = `Dropout(${rate})`;
  }

  apply(x: tf.Tensor2D, ctx: ForwardContext): tf.Tensor2D {
    if (!ctx.training || this.rate === 0) return x;
    const [rows, cols] = x.shape;
    const noise = tf.tensor2d(dropoutNoise(rows * cols, this.rate, ctx.nextSeed()), [rows, cols]);
    try {
      return tf.mul(x, noise);
    } finally {
      noise.dispose();
    }
  }

  params(): tf.Variable[] {
    return [];
  }

  dispose(): void {}
}

/** Layers applied in order; it owns them. */
export class Sequential implements Layer {
  readonly description: string;

  constructor(readonly layers: readonly Layer[]) {
    this.description = layers.map((l) => l.description).join(' -> ');
  }

  apply(x: tf.Tensor2D, ctx: ForwardContext): tf.Tensor2D {
    return this.layers.reduce((h, layer) => layer.apply(h, ctx), x);
  }

  params(): tf.Variable[] {
    return this.layers.flatMap((l) => l.params());
  }

  dispose(): void {
    for (const layer of this.layers) layer.dispose();
  }
}

/**
 * Hidden layers as the SCTL paper builds encoder, decoder and predictor:
 * Linear -> BatchNorm1d -> ReLU -> Dropout for each size in `sizes`. Each
 * Linear takes its initial weights from `rng.derive('<name>.<i>')`.
 */
export function hiddenStack(name: string, inFeatures: number, sizes: readonly number[], dropout: number, rng: Rng): Layer[] {
  const layers: Layer[] = [];
  let width = inFeatures;
  sizes.forEach((size, i) => {
    layers.push(new Linear(width, size, rng.derive(`${name}.${i}`)), new BatchNorm1d(size), new ReLU(), new Dropout(dropout));
    width = size;
  });
  return layers;
}

/** Linear layers of a model, for checks and descriptions. */
export function linearLayers(layer: Layer): Linear[] {
  if (layer instanceof Linear) return [layer];
  if (layer instanceof Sequential) return layer.layers.flatMap(linearLayers);
  return [];
}

function variableFrom<R extends tf.Rank>(initial: tf.Tensor<R>, trainable: boolean): tf.Variable<R> {
  // No name: tfjs names variables globally, and two runs in one process must not collide.
  const v = tf.variable(initial, trainable);
  initial.dispose();
  return v;
}
