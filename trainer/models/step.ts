import * as tf from '@tensorflow/tfjs-core';
import { TrainingError } from '../../core/errors.js';
import type { Adam } from './adam.js';

/** The loss terms of one step; `total` is what is minimised. */
export type LossTerms = { total: tf.Scalar } & Record<string, tf.Scalar>;

/** Where a step is, for error messages: 1-based epoch and batch. */
export interface StepPlace {
  epoch: number;
  batch: number;
  batches: number;
}

/**
 * One optimisation step: the losses and their gradients with respect to
 * `params` under a gradient tape, one Adam update, and every intermediate
 * freed. Returns each term's value. The values are read (one device sync)
 * before the update, so a non-finite loss throws a TrainingError naming the
 * term and leaves the parameters as they were.
 */
export function trainStep(params: tf.Variable[], optimizer: Adam, loss: () => LossTerms, place: StepPlace): Record<string, number> {
  let names: string[] = [];
  let kept: tf.Scalar[] = [];
  const { value, grads } = tf.variableGrads(() => {
    const terms = loss();
    names = Object.keys(terms);
    // Kept past variableGrads' own tidy so that all terms can be read at once.
    kept = names.map((name) => tf.keep(terms[name] as tf.Scalar));
    return terms.total;
  }, params);
  try {
    const stacked = tf.stack(kept);
    const read = stacked.dataSync();
    stacked.dispose();
    const values: Record<string, number> = {};
    names.forEach((name, i) => (values[name] = read[i] as number));
    checkFinite(values, place);
    optimizer.step(grads);
    return values;
  } finally {
    tf.dispose([value, ...kept, ...Object.values(grads)]);
  }
}

function checkFinite(values: Record<string, number>, place: StepPlace): void {
  const bad = Object.keys(values).filter((name) => !Number.isFinite(values[name]));
  if (bad.length === 0) return;
  // Name the term that broke, not the total it broke.
  const term = bad.find((name) => name !== 'total') ?? 'total';
  throw new TrainingError(
    `loss term "${term}" became ${values[term]} at epoch ${place.epoch} (batch ${place.batch} of ${place.batches}); ` +
      'a lower learning rate or a look at the input for extreme values may help',
    { epoch: place.epoch, term, failureCode: 'non_finite_loss' },
  );
}
