import { binaryCurve } from './binary-curve.js';

/**
 * Average precision, as scikit-learn 1.2's `average_precision_score` for
 * binary labels (positive class 1): sum over distinct score thresholds of
 * (R_n - R_{n-1}) * P_n, a step function with no interpolation. A tie group
 * is one threshold: its positives all get the group's precision.
 *
 * With no positive label, scikit-learn 1.2.1 warns ("No positive class found
 * in y_true") and returns 0 (-0.0 in fact) because it sets recall to 1 at every
 * threshold. That 0 would read as "the worst possible ranking" in a sweep
 * while it means "nothing to rank", so this throws RangeError instead, like
 * `rocAuc` does for one class. With no negative label the value is well
 * defined (precision is 1 everywhere) and 1 is returned, as scikit-learn does.
 */
export function averagePrecision(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const { tps, fps, positives } = binaryCurve('averagePrecision', labels, scores);
  if (positives === 0) {
    throw new RangeError('averagePrecision: expected at least one positive label (1), but got none (average precision is undefined)');
  }
  // Summed as dTP * precision, divided by P once at the end.
  let sum = 0;
  let prevTp = 0;
  for (let k = 0; k < tps.length; k++) {
    const tp = tps[k];
    if (tp !== prevTp) sum += (tp - prevTp) * (tp / (tp + fps[k]));
    prevTp = tp;
  }
  return sum / positives;
}
