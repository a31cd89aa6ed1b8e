import { binaryCurve } from './binary-curve.js';

/**
 * Area under the ROC curve, as scikit-learn 1.2's `roc_auc_score` for binary
 * labels (positive class 1): the trapezoid rule over the curve's points, one
 * point per distinct score, so a tie group counts as a straight segment
 * (half credit for positive-negative pairs with equal scores).
 *
 * The area is summed in integer counts and divided once by (2 * P * N), which
 * is exact up to the final rounding; scikit-learn's trapezoid over rates agrees
 * to ~1e-15.
 *
 * Throws RangeError, as scikit-learn raises ValueError, when only one class is
 * present: the curve is undefined then.
 */
export function rocAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const { tps, fps, positives, negatives } = binaryCurve('rocAuc', labels, scores);
  if (positives === 0 || negatives === 0) {
    throw new RangeError(
      `rocAuc: expected both classes (0 and 1) in labels, but got only ${positives === 0 ? 0 : 1} (ROC AUC is undefined with one class)`,
    );
  }
  let twiceArea = 0;
  let prevTp = 0;
  let prevFp = 0;
  for (let k = 0; k < tps.length; k++) {
    const tp = tps[k];
    const fp = fps[k];
    twiceArea += (fp - prevFp) * (tp + prevTp);
    prevTp = tp;
    prevFp = fp;
  }
  return twiceArea / (2 * positives * negatives);
}
