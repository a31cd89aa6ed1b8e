import * as tf from '@tensorflow/tfjs-core';
import { ADAM_KERNEL, type AdamKernelAttrs } from '../backend/wasm-adam.js';

interface AdamState {
  param: tf.Variable;
  m: tf.Variable;
  v: tf.Variable;
  step: number;
}

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** L2 penalty added to the gradient (torch.optim.Adam's weight_decay, not AdamW). */
  weightDecay?: number;
}

/**
 * torch.optim.Adam (PyTorch 1.13, single-tensor path), written out rather than
 * using tf.train.adam: that has no weight decay, defaults epsilon to 1e-7 and
 * keeps beta^t in float32 tensors. Per parameter and step t:
 *
 *   g = grad + weight_decay * p
 *   m = beta1 * m + (1 - beta1) * g
 *   v = beta2 * v + (1 - beta2) * g * g
 *   p = p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 *
 * Bias corrections are computed in float64 on the host, as torch does. Like
 * torch, a parameter without a gradient is skipped and its own step count
 * does not advance. Where the backend has the fused update kernel (wasm:
 * trainer/backend/wasm-adam.ts) every tensor is updated in one call, with
 * the same float32 arithmetic as the ops below, bit for bit.
 */
export class Adam {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private readonly state: AdamState[];

  constructor(params: readonly tf.Variable[], options: AdamOptions) {
    this.lr = options.lr;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    this.state = params.map((param) => ({ param, m: zerosVariable(param), v: zerosVariable(param), step: 0 }));
  }

  /** One update from gradients keyed by variable name (what tf.variableGrads returns). */
  step(grads: tf.NamedTensorMap): void {
    const live = this.state.filter((s) => grads[s.param.name] !== undefined);
    for (const s of live) s.step += 1;
    if (live.length === 0) return;
    if (tf.getKernel(ADAM_KERNEL, tf.getBackend()) !== undefined) this.fusedStep(live, grads);
    else this.opStep(live, grads);
  }

  /** Every tensor in one kernel call (trainer/backend/wasm-adam.ts: the same arithmetic as opStep, bit for bit). */
  private fusedStep(live: AdamState[], grads: tf.NamedTensorMap): void {
    const inputs: tf.NamedTensorMap = {};
    live.forEach((s, i) => {
      inputs[`p${i}`] = s.param;
      inputs[`g${i}`] = grads[s.param.name] as tf.Tensor;
      inputs[`m${i}`] = s.m;
      inputs[`v${i}`] = s.v;
    });
    const attrs: AdamKernelAttrs = {
      beta1: this.beta1,
      beta2: this.beta2,
      eps: this.eps,
      weightDecay: this.weightDecay,
      negStepSizes: live.map((s) => -this.lr / (1 - this.beta1 ** s.step)),
      biasCorrection2Sqrts: live.map((s) => Math.sqrt(1 - this.beta2 ** s.step)),
    };
    const updated = tf.engine().runKernel(ADAM_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
    live.forEach((s, i) => s.param.assign(updated[i] as tf.Tensor));
    tf.dispose(updated);
  }

  private opStep(live: AdamState[], grads: tf.NamedTensorMap): void {
    tf.tidy(() => {
      for (const s of live) {
        const grad = grads[s.param.name] as tf.Tensor;
        const g = this.weightDecay !== 0 ? tf.add(grad, tf.mul(s.param, this.weightDecay)) : grad;
        s.m.assign(tf.add(tf.mul(s.m, this.beta1), tf.mul(g, 1 - this.beta1)));
        s.v.assign(tf.add(tf.mul(s.v, this.beta2), tf.mul(tf.mul(g, g), 1 - this.beta2)));
        const biasCorrection1 = 1 - this.beta1 ** s.step;
        const biasCorrection2Sqrt = Math.sqrt(1 - this.beta2 ** s.step);
        const stepSize = this.lr / biasCorrection1;
        const denom = tf.add(tf.div(tf.sqrt(s.v), biasCorrection2Sqrt), this.eps);
        // torch's addcdiv_(m, denom, value=-step_size) computes (value * m) / denom.
        s.param.assign(tf.add(s.param, tf.div(tf.mul(s.m, -stepSize), denom)));
      }
    });
  }

  dispose(): void {
    for (const s of this.state) tf.dispose([s.m, s.v]);
  }
}

function zerosVariable(like: tf.Tensor): tf.Variable {
  const zeros = tf.zerosLike(like);
  const v = tf.variable(zeros, false);
  zeros.dispose();
  return v;
}
