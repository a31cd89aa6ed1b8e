import type { TrialView } from '../sampler.js';
import { int32Array, uint8Array } from './typed-arrays.js';

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

/** The split of `trials`, all of them used. */
export function splitTrials(trials: readonly TrialView[], nBelow: number): Split {
  const all = Int32Array.from(trials, (_, i) => i);
  const { below, above } = splitRows(trials, all, nBelow);
  return { below: Array.from(below, (i) => trials[i]!), above: Array.from(above, (i) => trials[i]!) };
}

/** Both groups as indices into the history they were drawn from. */
export interface RowSplit {
  readonly below: Int32Array;
  readonly above: Int32Array;
}

/**
 * The split of the trials at `rows` of `trials`. The sampler works on row
 * indices, which address the encoded history directly, so it never builds
 * per-group lists of trials or looks rows up by trial number.
 */
export function splitRows(trials: readonly TrialView[], rows: Int32Array, nBelow: number): RowSplit {
  // The good group is at most 25 trials: a bounded insertion of the best beats
  // sorting a history of thousands.
  const best = bestComplete(trials, rows, nBelow);
  const fill = nBelow - best.length;
  const pruned =
    fill > 0
      ? topK(
          rows,
          (r) => trials[r]!.state === 'PRUNED',
          fill,
          (x, y) => comparePruned(trials[x]!, trials[y]!) || trials[x]!.number - trials[y]!.number,
        )
      : [];
  const chosen = uint8Array(trials.length);
  for (const r of best) chosen[r] = 1;
  for (const r of pruned) chosen[r] = 1;
  const nChosen = best.length + pruned.length;
  const ordered = isByNumber(trials, rows) ? rows : Int32Array.from(rows).sort((x, y) => trials[x]!.number - trials[y]!.number);
  const below = int32Array(nChosen);
  const above = int32Array(rows.length - nChosen);
  let [b, a] = [0, 0];
  for (let i = 0; i < ordered.length; i++) {
    const r = ordered[i]!;
    if (chosen[r] === 1) below[b++] = r;
    else above[a++] = r;
  }
  return { below, above };
}

/**
 * The k best COMPLETE trials (highest value; ties: the earlier trial), in
 * order: topK's selection with the comparison written out, as it runs over
 * every trial of the history.
 */
function bestComplete(trials: readonly TrialView[], rows: Int32Array, k: number): number[] {
  const out: number[] = [];
  if (k <= 0) return out;
  for (let r = 0; r < rows.length; r++) {
    const t = trials[rows[r]!]!;
    if (t.state !== 'COMPLETE') continue;
    const value = t.value as number;
    if (out.length === k && !isBetter(t, value, trials[out[k - 1]!]!)) continue;
    let i = Math.min(out.length, k - 1);
    if (out.length < k) out.push(rows[r]!);
    while (i > 0 && isBetter(t, value, trials[out[i - 1]!]!)) {
      out[i] = out[i - 1]!;
      i--;
    }
    out[i] = rows[r]!;
  }
  return out;
}

/** Whether trial t (of the given value) ranks before u: higher value, or the same and an earlier trial. */
function isBetter(t: TrialView, value: number, u: TrialView): boolean {
  const other = u.value as number;
  return value > other || (value === other && t.number < u.number);
}

/** The k smallest of the rows that `include` accepts, under `compare`, in order. */
function topK(rows: Int32Array, include: (row: number) => boolean, k: number, compare: (x: number, y: number) => number): number[] {
  const out: number[] = [];
  if (k <= 0) return out;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    if (!include(row)) continue;
    if (out.length === k && compare(row, out[k - 1]!) >= 0) continue;
    let i = Math.min(out.length, k - 1);
    if (out.length < k) out.push(row);
    while (i > 0 && compare(row, out[i - 1]!) < 0) {
      out[i] = out[i - 1]!;
      i--;
    }
    out[i] = row;
  }
  return out;
}

function isByNumber(trials: readonly TrialView[], rows: Int32Array): boolean {
  for (let i = 1; i < rows.length; i++) if (trials[rows[i]!]!.number < trials[rows[i - 1]!]!.number) return false;
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
