import type { Rng } from '../../../core/rng.js';
import { internalBounds, prepareLogPdf, sampleKernel, type Kernels, type LogPdfTerm, type TruncNormKernels } from './kernels.js';

/**
 * A mixture of product kernels (Optuna's `_MixtureOfProductDistribution`):
 * component c has weight `weights[c]` and, for each parameter d, the kernel
 * `dims[d]` at index c. Multivariate TPE uses one mixture over all
 * parameters (a draw picks one component for the whole configuration);
 * univariate TPE uses one single-parameter mixture per parameter.
 */
export interface Mixture {
  /** Normalised component weights. */
  readonly weights: Float64Array;
  readonly dims: readonly Kernels[];
}

/** `size` draws, as one column of values per parameter. */
export function sampleMixture(m: Mixture, rng: Rng, size: number): Float64Array[] {
  const cumulative = new Float64Array(m.weights.length);
  let total = 0;
  for (let c = 0; c < m.weights.length; c++) cumulative[c] = total += m.weights[c]!;
  const active = new Int32Array(size);
  for (let s = 0; s < size; s++) active[s] = pickComponent(cumulative, rng.float() * total);
  return m.dims.map((kernels) => {
    const bounds = kernels.kind === 'categorical' ? undefined : internalBounds(kernels);
    const column = new Float64Array(size);
    for (let s = 0; s < size; s++) column[s] = sampleKernel(kernels, active[s]!, rng, bounds);
    return column;
  });
}

/** The first component whose cumulative weight exceeds u (binary search). */
function pickComponent(cumulative: Float64Array, u: number): number {
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cumulative[mid]! > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * log of the mixture density at each point (columns as `sampleMixture`
 * returns them): log sum_c w_c prod_d k_cd(x_d), by log-sum-exp so that points
 * far from every kernel keep a finite, ordered score instead of underflowing.
 */
export function logPdfMixture(m: Mixture, columns: readonly ArrayLike<number>[]): Float64Array {
  const n = columns[0]?.length ?? 0;
  const k = m.weights.length;
  const logW = m.weights.map(Math.log);
  const terms = m.dims.map(prepareLogPdf);
  const window = k >= WINDOW_MIN_COMPONENTS ? prepareWindow(m, terms, logW) : undefined;
  // One row of component terms per point, reused: it stays in cache, and a long
  // history does not allocate points x components.
  const row = new Float64Array(k);
  const subset = new Int32Array(k);
  const out = new Float64Array(n);
  for (let s = 0; s < n; s++) {
    if (window !== undefined) {
      const count = window.select(columns[window.dim]![s]!, subset);
      for (let i = 0; i < count; i++) row[subset[i]!] = logW[subset[i]!]!;
      for (let d = 0; d < terms.length; d++) terms[d]!.add(columns[d]![s]!, row, subset, count);
      let max = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < count; i++) if (row[subset[i]!]! > max) max = row[subset[i]!]!;
      // Every component left out is below `bound`; 50 nats under the largest
      // term it adds under 2e-22 of the sum, nothing a double holds.
      if (window.bound <= max - 50) {
        let sum = 0;
        for (let i = 0; i < count; i++) sum += Math.exp(row[subset[i]!]! - max);
        out[s] = max + Math.log(sum);
        continue;
      }
    }
    row.set(logW);
    for (let d = 0; d < terms.length; d++) terms[d]!.add(columns[d]![s]!, row);
    out[s] = logSumExp(row);
  }
  return out;
}

function logSumExp(row: Float64Array): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < row.length; c++) if (row[c]! > max) max = row[c]!;
  // Every component -inf (a point outside the support): the density is 0.
  if (max === Number.NEGATIVE_INFINITY) return max;
  // Terms 50 nats below the largest add under 2e-22 each: skipping their exp
  // changes nothing a double can hold, and most kernels of a long history
  // are that far from any one point.
  let sum = 0;
  const floor = max - 50;
  for (let c = 0; c < row.length; c++) {
    const v = row[c]!;
    if (v > floor) sum += Math.exp(v - max);
  }
  return max + Math.log(sum);
}

/** Below this many components the window costs more than it saves. */
const WINDOW_MIN_COMPONENTS = 200;
/** Half-width of the window in the narrowest kernel's widths: z^2/2 = 98 nats outside it. */
const WINDOW_RADIUS = 14;

/**
 * Exact pruning for long histories. In a thousand-trial mixture most kernels
 * of a continuous parameter share the clipped width s (range / 100) and sit
 * far from any one point: outside [x - 14 s, x + 14 s] each loses 98 nats in
 * that parameter alone. `select` lists the components worth evaluating (those
 * narrow ones inside the window, and every wider one); `bound` caps the log
 * term of any component left out (the largest weight, the largest peak of the
 * narrow kernels minus 98, every other parameter at its largest term). When
 * the largest evaluated term is 50 nats above the bound, the left-out
 * components cannot change the sum in a double; otherwise the point is
 * evaluated in full. The result is the same either way.
 */
function prepareWindow(m: Mixture, terms: readonly LogPdfTerm[], logW: Float64Array) {
  const dim = m.dims.findIndex((kernels) => kernels.kind === 'truncnorm');
  if (dim < 0) return undefined;
  const kernels = m.dims[dim] as TruncNormKernels;
  const peak = terms[dim]!.peak!;
  const [lo, hi] = internalBounds(kernels);
  const k = kernels.sigma.length;
  let narrowest = Number.POSITIVE_INFINITY;
  for (const s of kernels.sigma) if (s < narrowest) narrowest = s;
  const half = WINDOW_RADIUS * narrowest;
  // Narrow components by bucket of width half / 4 (a counting sort, no
  // comparisons): the window (x - half, x + half) lies within nine neighbouring
  // buckets, at most 12% wider than the window itself.
  const width = half / 4;
  const nBuckets = Math.floor((hi - lo) / width) + 1;
  const bucketOf = (x: number): number => Math.min(nBuckets - 1, Math.max(0, Math.floor((x - lo) / width)));
  const start = new Int32Array(nBuckets + 1);
  const wide: number[] = [];
  let narrowPeak = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < k; c++) {
    if (kernels.sigma[c] === narrowest) {
      start[bucketOf(kernels.mu[c]!) + 1]!++;
      if (peak[c]! > narrowPeak) narrowPeak = peak[c]!;
    } else {
      wide.push(c);
    }
  }
  for (let b = 0; b < nBuckets; b++) start[b + 1]! += start[b]!;
  const ids = new Int32Array(start[nBuckets]!);
  const fill = start.slice(0, nBuckets);
  for (let c = 0; c < k; c++) if (kernels.sigma[c] === narrowest) ids[fill[bucketOf(kernels.mu[c]!)]!++] = c;
  let maxLogW = Number.NEGATIVE_INFINITY;
  for (const w of logW) if (w > maxLogW) maxLogW = w;
  let rest = 0;
  terms.forEach((t, d) => (rest += d === dim ? 0 : t.maxTerm));
  const bound = maxLogW + narrowPeak - (WINDOW_RADIUS * WINDOW_RADIUS) / 2 + rest;
  return {
    dim,
    bound,
    select(value: number, subset: Int32Array): number {
      const x = kernels.log ? Math.log(value) : value;
      let count = 0;
      for (const c of wide) subset[count++] = c;
      const to = start[bucketOf(x + half) + 1]!;
      for (let i = start[bucketOf(x - half)]!; i < to; i++) subset[count++] = ids[i]!;
      return count;
    },
  };
}
