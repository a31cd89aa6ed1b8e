/**
 * The cumulative confusion counts behind both ranking metrics, as
 * scikit-learn's `_binary_clf_curve` builds them: scores sorted in decreasing
 * order, one point per distinct score, so that tied scores enter the curve
 * together (a tie group moves TP and FP at once instead of in an order the
 * sort happened to pick).
 */
export interface BinaryCurve {
  /** True positives with score >= each distinct threshold, thresholds decreasing. */
  readonly tps: Float64Array;
  /** False positives at the same thresholds. */
  readonly fps: Float64Array;
  readonly positives: number;
  readonly negatives: number;
}

/**
 * Validates the inputs and builds the curve. `metric` names the caller in
 * error messages, which say what was expected and what was found.
 */
export function binaryCurve(metric: string, labels: ArrayLike<number>, scores: ArrayLike<number>): BinaryCurve {
  const n = labels.length;
  if (scores.length !== n) {
    throw new RangeError(`${metric}: expected labels and scores of the same length, but got ${n} labels and ${scores.length} scores`);
  }
  if (n === 0) throw new RangeError(`${metric}: expected at least one sample, but got 0`);
  for (let i = 0; i < n; i++) {
    const label = labels[i];
    if (label !== 0 && label !== 1) throw new RangeError(`${metric}: expected labels 0 or 1, but got ${String(label)} at index ${i}`);
  }
  for (let i = 0; i < n; i++) {
    const score = scores[i];
    if (!Number.isFinite(score)) throw new RangeError(`${metric}: expected finite scores, but got ${String(score)} at index ${i}`);
  }

  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  // Order within a tie group is irrelevant: the group is consumed whole below.
  order.sort((a, b) => scores[b] - scores[a]);

  const tps = new Float64Array(n);
  const fps = new Float64Array(n);
  let points = 0;
  let tp = 0;
  let fp = 0;
  for (let r = 0; r < n; r++) {
    const i = order[r];
    if (labels[i] === 1) tp++;
    else fp++;
    // A point closes where the next score differs (0 and -0 count as equal, as in numpy).
    if (r === n - 1 || scores[order[r + 1]] !== scores[i]) {
      tps[points] = tp;
      fps[points] = fp;
      points++;
    }
  }
  return { tps: tps.subarray(0, points), fps: fps.subarray(0, points), positives: tp, negatives: fp };
}
