import type { Rng } from '../../../core/rng.js';
import { identity, internalBounds, prepareLogPdf, sampleKernel, type Kernels, type LogPdfTerm } from './kernels.js';
import { Window, WINDOW_MIN_COMPONENTS } from './window.js';
import { float64Array, int32Array, uint8Array } from './typed-arrays.js';

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
  const cumulative = float64Array(m.weights.length);
  let total = 0;
  for (let c = 0; c < m.weights.length; c++) cumulative[c] = total += m.weights[c]!;
  const active = int32Array(size);
  for (let s = 0; s < size; s++) active[s] = pickComponent(cumulative, rng.float() * total);
  return m.dims.map((kernels) => {
    const bounds = kernels.kind === 'categorical' ? undefined : internalBounds(kernels);
    const column = float64Array(size);
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
  const density = new MixtureDensity(m);
  const out = float64Array(n);
  const point = float64Array(m.dims.length);
  for (let s = 0; s < n; s++) {
    for (let d = 0; d < point.length; d++) point[d] = columns[d]![s]!;
    out[s] = density.logPdf(point);
  }
  return out;
}

/** Terms this far below the largest cannot change a sum that has reached SUM_ABSORBS. */
const NEGLIGIBLE_NATS = 50;
/** e^-50 < 2^-72, under half an ulp of any sum of at least 2^-19: adding it rounds back to the sum. */
const SUM_ABSORBS = 2 ** -19;
/** A term under 2^-54 of a sum is under half its ulp: e^v with v this far below log(sum) cannot change it. */
const ABSORBED_NATS = 54 * Math.LN2;
/** Room for the rounding of the few additions that make a term, in a bound's comparison. */
const ROUNDING_SLACK = 1;

/**
 * The mixture made ready for scoring points one at a time. Each component's
 * log term is logW + t_0 + ... + t_{D-1}, added in that order, and the sum of
 * exponentials runs in a fixed order (the components', or the window's), so
 * the shortcuts below skip only work whose result a double cannot hold.
 *
 * With a window, the components are laid out in its order (the terms, `logW`
 * and `row` alike, by position), so that the components scored together sit
 * together in memory; without one, in their own order.
 */
class MixtureDensity {
  private readonly window: Window | undefined;
  private readonly weights: Float64Array;
  private readonly order: Int32Array;
  private readonly logW: Float64Array;
  private readonly terms: readonly LogPdfTerm[];
  /** Each component's log term at the current point, by position, reused: a long history does not allocate points x components. */
  private readonly row: Float64Array;
  private readonly subset: Int32Array;
  /** Positions of the terms that count, in the narrowed window. */
  private readonly counted: Int32Array;
  /** Positions prepared (log weight and terms' constants computed): those met so far, as a window meets few. */
  private readonly prepared: Uint8Array;
  private readonly fresh: Int32Array;
  private allPrepared = false;
  /** Whether the window's bounds are exact rather than upper bounds. */
  private exactBounds = false;

  constructor(m: Mixture) {
    const k = m.weights.length;
    this.window = k >= WINDOW_MIN_COMPONENTS ? Window.of(m) : undefined;
    this.weights = m.weights;
    this.order = this.window?.order ?? identity(k);
    this.logW = float64Array(k);
    this.terms = m.dims.map((kernels) => prepareLogPdf(kernels, this.order));
    this.row = float64Array(k);
    this.subset = int32Array(k);
    this.counted = int32Array(k);
    this.prepared = uint8Array(k);
    this.fresh = int32Array(k);
    if (this.window === undefined) this.prepareAll();
    else this.window.setQuickBounds(this.terms, m.weights);
  }

  logPdf(point: Float64Array): number {
    const window = this.window;
    if (window === undefined) return this.full(point);
    const windowed = (window.second !== undefined ? this.inNarrowWindow(window, point) : undefined) ?? this.inWindow(window, point);
    if (windowed !== undefined) return windowed;
    if (this.exactBounds) return this.full(point);
    // The quick bounds were too loose for this point: the exact ones may not be.
    this.prepareAll();
    window.setExactBounds(this.terms, this.logW);
    this.exactBounds = true;
    return this.logPdf(point);
  }

  /** Prepares the positions at subset[0 .. count) not prepared yet. */
  private prepare(subset: Int32Array, count: number): void {
    const { prepared, fresh, logW, weights, order } = this;
    let n = 0;
    for (let i = 0; i < count; i++) {
      const p = subset[i]!;
      if (prepared[p] === 0) {
        prepared[p] = 1;
        fresh[n++] = p;
      }
    }
    if (n === 0) return;
    for (let i = 0; i < n; i++) logW[fresh[i]!] = Math.log(weights[order[fresh[i]!]!]!);
    for (let d = 0; d < this.terms.length; d++) this.terms[d]!.prepare(fresh, n);
  }

  private prepareAll(): void {
    if (this.allPrepared) return;
    this.prepare(identity(this.order.length), this.order.length);
    this.allPrepared = true;
  }

  /** Every component, summed in the mixture's own order. */
  private full(point: Float64Array): number {
    this.prepareAll();
    const { row, terms } = this;
    row.set(this.logW);
    for (let d = 0; d < terms.length; d++) terms[d]!.addRange(point[d]!, row, 0, row.length);
    return logSumExp(row, this.window?.positionOf);
  }

  /** The window's components only, or undefined when those outside it might matter. */
  private inWindow(window: Window, point: Float64Array): number | undefined {
    const { row, subset } = this;
    const count = window.select(point, subset);
    const max = this.evaluate(point, count);
    // Every component left out is below `bound`; 50 nats under the largest
    // term it adds under 2e-22 of the sum, nothing a double holds.
    if (!(window.bound <= max - NEGLIGIBLE_NATS)) return undefined;
    let sum = 0;
    for (let i = 0; i < count; i++) sum = addTerm(sum, row[subset[i]!]! - max);
    return max + Math.log(sum);
  }

  /**
   * The same sum as `inWindow`'s from the narrowed window's components, or
   * undefined when the rest of the window might matter. The wide components
   * come first in the window's order; every narrow term then meets a sum of
   * at least theirs, so a term below `floor` cannot change it, and the
   * components left out of the narrowed window must be below that too.
   */
  private inNarrowWindow(window: Window, point: Float64Array): number | undefined {
    const { row, subset, counted } = this;
    const count = window.selectNarrow(point, subset);
    const max = this.evaluate(point, count);
    if (!(window.bound <= max - NEGLIGIBLE_NATS)) return undefined;
    let sum = 0;
    for (let p = 0; p < window.nWide; p++) sum = addTerm(sum, row[p]! - max);
    // Below SUM_ABSORBS the second floor is the lower (under -50.6), so the
    // minimum is always a floor that holds. Computed without a branch: the
    // first run of a branch not taken before sends this function back to
    // the compiler, which costs more than a logarithm per point.
    const floor = Math.min(-NEGLIGIBLE_NATS, Math.log(sum) - ABSORBED_NATS);
    if (!(window.narrowBound - max <= floor - ROUNDING_SLACK)) return undefined;
    // The narrow terms that count, in the window's order (a handful: insertion).
    let n = 0;
    for (let i = window.nWide; i < count; i++) {
      const p = subset[i]!;
      if (!(row[p]! - max >= floor)) continue;
      let j = n++;
      for (; j > 0 && window.rankKey(counted[j - 1]!) > window.rankKey(p); j--) counted[j] = counted[j - 1]!;
      counted[j] = p;
    }
    // A term that addTerm would skip adds nothing either way: summing it is exact.
    for (let i = 0; i < n; i++) sum += Math.exp(row[counted[i]!]! - max);
    return max + Math.log(sum);
  }

  /** Puts the terms of the components at subset[0 .. count) into `row`; returns the largest. */
  private evaluate(point: Float64Array, count: number): number {
    const { row, subset, logW, terms } = this;
    this.prepare(subset, count);
    for (let i = 0; i < count; i++) row[subset[i]!] = logW[subset[i]!]!;
    for (let d = 0; d < terms.length; d++) terms[d]!.addSubset(point[d]!, row, subset, count);
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < count; i++) if (row[subset[i]!]! > max) max = row[subset[i]!]!;
    return max;
  }
}

/**
 * sum + e^v, where v is a term less the largest: a term more than 50 nats
 * down cannot change a sum of SUM_ABSORBS or more, so its exp is spared.
 */
function addTerm(sum: number, v: number): number {
  return v >= -NEGLIGIBLE_NATS || sum < SUM_ABSORBS ? sum + Math.exp(v) : sum;
}

/** log sum exp(row), summed in component order: row[positionOf[c]] is component c's term. */
function logSumExp(row: Float64Array, positionOf?: Int32Array): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let p = 0; p < row.length; p++) if (row[p]! > max) max = row[p]!;
  // Every component -inf (a point outside the support): the density is 0.
  if (max === Number.NEGATIVE_INFINITY) return max;
  // Terms 50 nats below the largest add under 2e-22 each: skipping their exp
  // changes nothing a double can hold, and most kernels of a long history
  // are that far from any one point.
  let sum = 0;
  const floor = max - 50;
  for (let c = 0; c < row.length; c++) {
    const v = row[positionOf === undefined ? c : positionOf[c]!]!;
    if (v > floor) sum += Math.exp(v - max);
  }
  return max + Math.log(sum);
}
