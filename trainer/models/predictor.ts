import type { Rng } from '../../core/rng.js';
import { hiddenStack, Linear, Sequential } from './layers.js';

export const MIN_PREDICTOR_DEPTH = 2;
export const MAX_PREDICTOR_DEPTH = 6;

/**
 * Hidden sizes of the drug-response predictor at depth d (SCTL Table 5):
 * d - 1 layers of 128, then one of 64. Depth 2 is the paper's predictor1
 * (128, 64), depth 6 its predictor5.
 */
export function predictorHiddenSizes(depth: number): number[] {
  if (!Number.isInteger(depth) || depth < MIN_PREDICTOR_DEPTH || depth > MAX_PREDICTOR_DEPTH) {
    throw new RangeError(`predictor depth: expected an integer from ${MIN_PREDICTOR_DEPTH} to ${MAX_PREDICTOR_DEPTH}, but got ${depth}`);
  }
  return [...Array<number>(depth - 1).fill(128), 64];
}

/**
 * The predictor: the hidden stack of Table 5 (Linear -> BatchNorm -> ReLU ->
 * Dropout), then Linear(1) giving one logit per row; sigmoid is left to the
 * loss and to prediction. Weights from `rng`, one derived stream per Linear.
 */
export function buildPredictor(inFeatures: number, depth: number, dropout: number, rng: Rng): Sequential {
  const sizes = predictorHiddenSizes(depth);
  const hidden = hiddenStack('predictor', inFeatures, sizes, dropout, rng);
  return new Sequential([...hidden, new Linear(sizes[sizes.length - 1] as number, 1, rng.derive('predictor.out'))]);
}
