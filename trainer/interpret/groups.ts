/**
 * The SCTL paper's split of the target cells by the model's predictions: the
 * continuous scores are binarised at their median, cells above it form the
 * "predicted sensitive" group (1), the others the "predicted resistant" one (0).
 */

export interface PredictedGroups {
  /** One per cell: true = predicted sensitive (score > threshold). */
  sensitive: boolean[];
  /** The median of the scores (numpy.median: the mean of the middle two for an even count). */
  threshold: number;
  nSensitive: number;
  nResistant: number;
}

/**
 * sensitive = score > median(scores).
 *
 * Tie rule: a score equal to the median goes to resistant, so with ties at the
 * median the groups are unequal (resistant larger), and with an odd count the
 * middle cell is resistant.
 *
 * All scores equal (a collapsed predictor), or more generally no score above
 * the median: the sensitive group is empty. This is not an error here, because
 * the split itself is well defined and a run should still report its scores;
 * markerGenes refuses an empty group with an error that says so, so a caller
 * checks `nSensitive > 0 && nResistant > 0` before asking for markers.
 *
 * Scores must be finite (NaN has no place in an order): a RangeError otherwise.
 */
export function predictedGroups(scores: ArrayLike<number>): PredictedGroups {
  const n = scores.length;
  if (n === 0) throw new RangeError('predictedGroups: no scores');
  const sorted = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = scores[i] as number;
    if (!Number.isFinite(s)) throw new RangeError(`predictedGroups: score ${i} is ${s}; scores must be finite`);
    sorted[i] = s;
  }
  sorted.sort();
  const mid = n >> 1;
  // In double, as numpy's median of the scores taken as float64 (np.median of
  // a float32 array would round the mean of the middle pair to float32).
  const threshold = n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const sensitive = new Array<boolean>(n);
  let nSensitive = 0;
  for (let i = 0; i < n; i++) {
    const up = (scores[i] as number) > threshold;
    sensitive[i] = up;
    if (up) nSensitive++;
  }
  return { sensitive, threshold, nSensitive, nResistant: n - nSensitive };
}
