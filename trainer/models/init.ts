import type { Rng } from '../../core/rng.js';

/**
 * PyTorch's default nn.Linear initialisation, so a cellsweep model starts
 * from the same distribution as the reference implementations it is compared
 * with: weight kaiming_uniform_(a = sqrt(5)), whose bound works out to
 * gain * sqrt(3 / fan_in) = sqrt(1/3) * sqrt(3 / fan_in) = 1 / sqrt(fan_in),
 * and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
 *
 * Values come from the layer's own Rng stream, never from tf.random's global
 * state, so a layer's initial weights depend only on the run seed and the
 * layer's name.
 */
export function linearInit(fanIn: number, fanOut: number, rng: Rng): { weight: Float32Array; bias: Float32Array } {
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  const weight = uniformArray(fanIn * fanOut, bound, rng);
  const bias = uniformArray(fanOut, bound, rng);
  return { weight, bias };
}

function uniformArray(length: number, bound: number, rng: Rng): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = rng.uniform(-bound, bound);
  return out;
}
