import type { TrialView } from '../sampler.js';

/**
 * How TPE divides the history into the good ("below") and the bad ("above")
 * group, as Optuna v5's `_split_trials` for one maximised objective:
 *
 * - the good group has gamma(n) = min(ceil(0.1 n), 25) trials, n the number
 *   of finished (COMPLETE and PRUNED) trials;
 * - it is filled with the best COMPLETE trials (highest value; ties: the
 *   earlier trial), then, if there are too few, with PRUNED trials ranked by
 *   the last step they reached, then their value there (a trial without
 *   intermediate values ranks last);
 * - every other trial given goes to the bad group: RUNNING ones (constant
 *   liar), and FAIL ones when the sampler penalises failures (Optuna forgets
 *   them);
 * - both groups are returned oldest first: the weights ramp over that order.
 */
export function gamma(n: number): number {
  return Math.min(Math.ceil(0.1 * n), 25);
}

export interface Split {
  readonly below: TrialView[];
  readonly above: TrialView[];
}

export function splitTrials(trials: readonly TrialView[], nBelow: number): Split {
  // The good group is at most 25 trials: a bounded insertion of the best beats
  // sorting a history of thousands.
  const best = topK(
    trials.filter((t) => t.state === 'COMPLETE'),
    nBelow,
    (x, y) => (y.value as number) - (x.value as number) || x.number - y.number,
  );
  const fill = nBelow - best.length;
  const chosen = new Set(best);
  if (fill > 0) {
    for (const t of topK(
      trials.filter((t) => t.state === 'PRUNED'),
      fill,
      (x, y) => comparePruned(x, y) || x.number - y.number,
    )) {
      chosen.add(t);
    }
  }
  const ordered = isByNumber(trials) ? trials : [...trials].sort((x, y) => x.number - y.number);
  const below: TrialView[] = [];
  const above: TrialView[] = [];
  for (const t of ordered) (chosen.has(t) ? below : above).push(t);
  return { below, above };
}

/** The k smallest under `compare`, in order. */
function topK<T>(items: readonly T[], k: number, compare: (x: T, y: T) => number): T[] {
  const out: T[] = [];
  if (k <= 0) return out;
  for (const item of items) {
    if (out.length === k && compare(item, out[k - 1]!) >= 0) continue;
    let i = Math.min(out.length, k - 1);
    if (out.length < k) out.push(item);
    while (i > 0 && compare(item, out[i - 1]!) < 0) {
      out[i] = out[i - 1]!;
      i--;
    }
    out[i] = item;
  }
  return out;
}

function isByNumber(trials: readonly TrialView[]): boolean {
  for (let i = 1; i < trials.length; i++) if (trials[i]!.number < trials[i - 1]!.number) return false;
  return true;
}

/** Optuna's pruned-trial score (-last step, -value there), or (1, 0) without intermediate values; smaller is better. */
function pruneScore(t: TrialView): [number, number] {
  const steps = t.intermediate ?? [];
  if (steps.length === 0) return [1, 0];
  return [-(steps.length - 1), -(steps[steps.length - 1] as number)];
}

function comparePruned(x: TrialView, y: TrialView): number {
  const [xs, xv] = pruneScore(x);
  const [ys, yv] = pruneScore(y);
  return xs - ys || xv - yv;
}
