import type { ParamDef } from '../../space/search-space.js';
import type { Presorted } from './history-cache.js';
import type { CategoricalKernels, Kernels } from './kernels.js';
import type { Mixture } from './mixture.js';
import { float64Array, int32Array } from './typed-arrays.js';

/**
 * The Parzen estimator of TPE: one kernel per observation plus a prior
 * kernel, as Optuna v5's `_ParzenEstimator` (optuna/samplers/_tpe/
 * parzen_estimator.py at 1d8ce7b, whose semantics this follows):
 *
 * - component weights: `weights` for the observations (oldest first), the
 *   prior's weight (1) last, normalised;
 * - numerical parameters: Gaussians centred on the observations in internal
 *   space (log for log-scaled; widened by half a step for ints and stepped
 *   floats), each as wide as the larger gap to its sorted neighbours (the
 *   range ends count as neighbours, except that the outermost observations
 *   use their inner gap: Optuna's consider_endpoints=False), clipped to
 *   [range / min(100, n + 2), range] (the "magic clip"); the prior is centred
 *   on the range with the range as width. Optuna v5 uses these neighbour
 *   distances in multivariate mode too: the Scott-like rule of Optuna <= 4
 *   (0.2 n^(-1/(d+4)) range) went with "Enable multivariate by default"
 *   (commit 180265b);
 * - categorical parameters: each observation's row puts 1 on its choice and
 *   prior_weight / (n + 1) on every choice, normalised; the prior row is
 *   uniform.
 *
 * Observations are a parameter's numeric value, or a choice's index.
 */
export const PRIOR_WEIGHT = 1;

/**
 * 'v5': the rules above. 'optuna-3.1': Optuna 3.1.0's, for the suggestions
 * TpeOptions.optuna31Every gives them: in a joint (multivariate)
 * estimator every observation's kernel has the Scott-like width
 * 0.2 n^(-1/(d+4)) range (d: the group's parameters; magic-clipped as above),
 * and continuous kernels' log density leaves out -log(sigma), as 3.1.0's
 * truncnorm.logpdf did (optuna/optuna#5109, fixed in 3.5). Together they
 * make the prior dominate l(x) and g(x) (docs/tpe.md). Discrete kernels are
 * v5's in both (3.1 made a log int continuous).
 */
export type DensityRules = 'v5' | 'optuna-3.1';

/** Optuna's default_weights: 1 for the newest 25 observations, a ramp from 1/n up to 1 for the older ones. */
export function defaultWeights(n: number): Float64Array {
  const w = float64Array(n).fill(1);
  if (n < 25) return w;
  const ramp = n - 25;
  // numpy.linspace(1/n, 1, n - 25): the last point is exactly 1, one point alone is 1/n.
  for (let i = 0; i < ramp; i++) w[i] = ramp === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (ramp - 1);
  return w;
}

/**
 * `presorted[d]`, when given for a numerical parameter, holds its observations
 * already in internal space and their stable argsort (history-cache.ts), so
 * they are not computed again here; `observations[d]` is then not read.
 */
export function buildParzenEstimator(
  defs: readonly ParamDef[],
  observations: readonly ArrayLike<number>[],
  weights: ArrayLike<number>,
  priorWeight = PRIOR_WEIGHT,
  presorted?: ReadonlyArray<Presorted | undefined>,
  rules: { rules: DensityRules; joint: boolean } = { rules: 'v5', joint: false },
): Mixture {
  const scottDims = rules.rules === 'optuna-3.1' && rules.joint ? defs.length : 0;
  const n = weights.length;
  const all = float64Array(n + 1);
  if (n === 0) {
    all[0] = 1;
  } else {
    for (let i = 0; i < n; i++) all[i] = weights[i]!;
    all[n] = priorWeight;
  }
  let sum = 0;
  for (let i = 0; i < all.length; i++) sum += all[i]!;
  for (let i = 0; i < all.length; i++) all[i] = all[i]! / sum;
  return {
    weights: all,
    dims: defs.map((def, d) => {
      const obs = observations[d]!;
      if (obs.length !== n) throw new RangeError(`parameter ${d} has ${obs.length} observations for ${n} weights`);
      if (def.type === 'categorical') return categoricalKernels(def.choices.length, obs, priorWeight);
      return numericalKernels(def, obs, presorted?.[d], scottDims, rules.rules === 'optuna-3.1');
    }),
  };
}

function categoricalKernels(nChoices: number, obs: ArrayLike<number>, priorWeight: number): CategoricalKernels {
  const n = obs.length;
  if (n === 0) {
    const weights = new Float64Array(nChoices).fill(1 / nChoices);
    return { kind: 'categorical', nChoices, weights, logWeights: weights.map(Math.log) };
  }
  // Row i: p = prior_weight / (n + 1) on every choice, 1 more on observation i's,
  // normalised (by k p + 1); the prior row: p everywhere, normalised (by k p).
  // Only three distinct values, so three logs however long the history.
  const rows = n + 1;
  const p = priorWeight / rows;
  const norm = nChoices * p + 1;
  const off = p / norm;
  const on = (p + 1) / norm;
  // prior_weight = 0 leaves the prior row all zero: Optuna divides it by 1, not 0.
  const prior = p > 0 ? p / (nChoices * p) : 0;
  const [logOff, logOn, logPrior] = [Math.log(off), Math.log(on), Math.log(prior)];
  const weights = float64Array(rows * nChoices).fill(off, 0, n * nChoices).fill(prior, n * nChoices);
  const logWeights = float64Array(rows * nChoices).fill(logOff, 0, n * nChoices).fill(logPrior, n * nChoices);
  for (let i = 0; i < n; i++) {
    weights[i * nChoices + obs[i]!] = on;
    logWeights[i * nChoices + obs[i]!] = logOn;
  }
  return { kind: 'categorical', nChoices, weights, logWeights };
}

/** `scottDims` > 0: Optuna 3.1's joint widths for a group of that many parameters; `scaleFree`: its log density. */
function numericalKernels(def: Exclude<ParamDef, { type: 'categorical' }>, obs: ArrayLike<number>, presorted: Presorted | undefined, scottDims = 0, scaleFree = false): Kernels {
  const step = def.step;
  let low = def.low;
  let high = def.high;
  if (step !== undefined) {
    low -= step / 2;
    high += step / 2;
  }
  if (def.log) {
    low = Math.log(low);
    high = Math.log(high);
  }
  const n = obs.length;
  const mu = float64Array(n + 1);
  if (presorted !== undefined) mu.set(presorted.mu);
  else if (def.log) for (let i = 0; i < n; i++) mu[i] = Math.log(obs[i]!);
  else for (let i = 0; i < n; i++) mu[i] = obs[i]!;
  const sigma = float64Array(n + 1);
  if (scottDims > 0) {
    const range = high - low;
    const scott = 0.2 * Math.max(n, 1) ** (-1 / (scottDims + 4)) * range;
    sigma.fill(Math.min(range, Math.max(range / Math.min(100, n + 2), scott)), 0, n);
  } else {
    neighbourSigmas(mu.subarray(0, n), low, high, sigma, presorted?.order);
  }
  mu[n] = 0.5 * (low + high);
  sigma[n] = high - low;
  return step === undefined
    ? { kind: 'truncnorm', mu, sigma, low: def.low, high: def.high, log: def.log, ...(scaleFree ? { scaleFree } : {}) }
    : { kind: 'discrete-truncnorm', mu, sigma, low: def.low, high: def.high, step, log: def.log };
}

/**
 * Bandwidths from neighbour distances, clipped to [range / min(100, n + 2), range],
 * written to `out[0 .. n)`. `order`: argsortStable(mus), when known already.
 */
export function neighbourSigmas(mus: Float64Array, low: number, high: number, out = float64Array(mus.length), order = argsortStable(mus, low, high)): Float64Array {
  const n = mus.length;
  // Tied centres keep observation order (a stable sort). numpy's default
  // argsort is stable only for short arrays (insertion sort below 17
  // elements), so for longer ones with ties Optuna may pair tied centres with
  // their widths in another order: the same kernels, only their weights may swap.
  const range = high - low;
  const minSigma = range / Math.min(100, n + 2);
  // Walking the sorted centres with the range ends as their outer neighbours.
  let previous = low;
  let current = n > 0 ? mus[order[0]!]! : high;
  for (let i = 0; i < n; i++) {
    const next = i + 1 < n ? mus[order[i + 1]!]! : high;
    let sigma = Math.max(current - previous, next - current);
    // consider_endpoints=False: the outermost observations ignore the range ends.
    if (n >= 2 && i === 0) sigma = next - current;
    if (n >= 2 && i === n - 1) sigma = current - previous;
    out[order[i]!] = Math.min(range, Math.max(minSigma, sigma));
    previous = current;
    current = next;
  }
  return out;
}

/**
 * The permutation that sorts `values` ascending, ties in index order. Values
 * within [low, high] go to n buckets of equal width (a counting sort, stable),
 * then each bucket is sorted by insertion (stable): linear time for values
 * spread over the range, and a thousand-trial history sorts several times
 * faster than with a comparator passed to Array.prototype.sort. A crowded
 * bucket (observations clustered near the optimum) is merge-sorted instead,
 * unless it is in order already, as a bucket of one repeated value (an int
 * parameter's) always is.
 */
export function argsortStable(values: Float64Array, low?: number, high?: number): Int32Array {
  const n = values.length;
  const out = int32Array(n);
  if (n === 0) return out;
  if (low === undefined || high === undefined) {
    [low, high] = [values[0]!, values[0]!];
    for (const v of values) [low, high] = [Math.min(low, v), Math.max(high, v)];
  }
  const scale = high > low ? n / (high - low) : 0;
  // Each value's bucket, computed once; `end[b]` ends up as bucket b's start.
  // Only buckets of two or more values need sorting: listed as they fill.
  const bucket = int32Array(n);
  const end = int32Array(n + 1);
  const crowded = int32Array(n >> 1);
  let nCrowded = 0;
  for (let i = 0; i < n; i++) {
    const b = Math.min(n - 1, Math.max(0, Math.floor((values[i]! - low) * scale)));
    bucket[i] = b;
    if (++end[b + 1]! === 2) crowded[nCrowded++] = b;
  }
  for (let b = 0; b < n; b++) end[b + 1]! += end[b]!;
  // Filled from the back, so equal buckets keep index order (stable).
  for (let i = n - 1; i >= 0; i--) out[--end[bucket[i]! + 1]!] = i;
  for (let i = 0; i < nCrowded; i++) {
    const b = crowded[i]!;
    const from = end[b + 1]!;
    const to = b + 1 < n ? end[b + 2]! : n;
    if (to - from <= 32) insertionSortRange(values, out, from, to);
    else if (!isSortedRange(values, out, from, to)) mergeSortRange(values, out, from, to);
  }
  return out;
}

function isSortedRange(values: Float64Array, idx: Int32Array, from: number, to: number): boolean {
  for (let i = from + 1; i < to; i++) if (values[idx[i - 1]!]! > values[idx[i]!]!) return false;
  return true;
}

/** Stable insertion sort of idx[from, to) by values: strict > keeps equal values in place. */
function insertionSortRange(values: Float64Array, idx: Int32Array, from: number, to: number): void {
  for (let i = from + 1; i < to; i++) {
    const id = idx[i]!;
    const v = values[id]!;
    let j = i - 1;
    while (j >= from && values[idx[j]!]! > v) {
      idx[j + 1] = idx[j]!;
      j--;
    }
    idx[j + 1] = id;
  }
}

/** Stable bottom-up merge sort of idx[from, to) by values (runs of 8 by insertion first). */
function mergeSortRange(values: Float64Array, idx: Int32Array, from: number, to: number): void {
  const RUN = 8;
  for (let s = from; s < to; s += RUN) insertionSortRange(values, idx, s, Math.min(to, s + RUN));
  let src = int32Array(to - from);
  src.set(idx.subarray(from, to));
  let dst = int32Array(to - from);
  const n = to - from;
  for (let width = RUN; width < n; width *= 2) {
    for (let left = 0; left < n; left += 2 * width) {
      const mid = Math.min(n, left + width);
      const right = Math.min(n, left + 2 * width);
      let i = left;
      let j = mid;
      let k = left;
      // `<=` takes from the left run on ties: stable.
      while (i < mid && j < right) dst[k++] = values[src[i]!]! <= values[src[j]!]! ? src[i++]! : src[j++]!;
      while (i < mid) dst[k++] = src[i++]!;
      while (j < right) dst[k++] = src[j++]!;
    }
    [src, dst] = [dst, src];
  }
  idx.set(src, from);
}
