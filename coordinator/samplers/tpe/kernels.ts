import type { Rng } from '../../../core/rng.js';
import { stepValue } from '../../space/search-space.js';
import { logGaussMass, logNdtr, rvs } from './truncnorm.js';
import { float64Array, int32Array } from './typed-arrays.js';

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * The kernels of one parameter, one per mixture component, as Optuna v5's
 * `_Batched*Distributions`: a closed union of small records, so the mixture
 * switches over `kind` exhaustively. Values are a parameter's numeric value
 * (log applied here, not by the caller) or a categorical choice's index.
 *
 * - `truncnorm`: a continuous float; Gaussians in internal space (log for
 *   log-scaled parameters) truncated to [low, high] there.
 * - `discrete-truncnorm`: an int or a stepped float; Gaussians on the range
 *   widened by half a step each side, a value scored by the mass of its bin
 *   [x - step/2, x + step/2] (in log space for log ints), a draw rounded to
 *   the grid.
 * - `categorical`: one probability row per component.
 */
export type Kernels = TruncNormKernels | DiscreteTruncNormKernels | CategoricalKernels;

export interface TruncNormKernels {
  readonly kind: 'truncnorm';
  /** Centres and widths in internal space, one per component. */
  readonly mu: Float64Array;
  readonly sigma: Float64Array;
  /** The parameter's bounds (external). */
  readonly low: number;
  readonly high: number;
  readonly log: boolean;
  /** Optuna 3.1.0's log density, without -log(sigma) (optuna/optuna#5109): wide and narrow kernels weigh alike. */
  readonly scaleFree?: boolean;
}

export interface DiscreteTruncNormKernels {
  readonly kind: 'discrete-truncnorm';
  readonly mu: Float64Array;
  readonly sigma: Float64Array;
  readonly low: number;
  readonly high: number;
  readonly step: number;
  readonly log: boolean;
}

export interface CategoricalKernels {
  readonly kind: 'categorical';
  readonly nChoices: number;
  /** Row-major components x choices; each row sums to 1. */
  readonly weights: Float64Array;
  /** log of `weights`, computed where the few distinct values are known (the estimator). */
  readonly logWeights: Float64Array;
}

/** The truncation interval in internal space (widened by half a step for discrete kernels). */
export function internalBounds(k: TruncNormKernels | DiscreteTruncNormKernels): [number, number] {
  const low = k.kind === 'discrete-truncnorm' ? k.low - k.step / 2 : k.low;
  const high = k.kind === 'discrete-truncnorm' ? k.high + k.step / 2 : k.high;
  return k.log ? [Math.log(low), Math.log(high)] : [low, high];
}

/** One draw from component `c`; `bounds` (internalBounds(k)) may be passed in to spare its logs per draw. */
export function sampleKernel(k: Kernels, c: number, rng: Rng, bounds?: readonly [number, number]): number {
  switch (k.kind) {
    case 'categorical': {
      const u = rng.float();
      let cum = 0;
      const row = c * k.nChoices;
      for (let j = 0; j < k.nChoices - 1; j++) {
        cum += k.weights[row + j]!;
        if (u < cum) return j;
      }
      // The last choice takes the rest, whatever the rounding of the cumulative sum.
      return k.nChoices - 1;
    }
    case 'truncnorm': {
      const [lo, hi] = bounds ?? internalBounds(k);
      const mu = k.mu[c]!;
      const sigma = k.sigma[c]!;
      const x = rvs((lo - mu) / sigma, (hi - mu) / sigma, mu, sigma, rng);
      return k.log ? clamp(Math.exp(x), k.low, k.high) : clamp(x, k.low, k.high);
    }
    case 'discrete-truncnorm': {
      const [lo, hi] = bounds ?? internalBounds(k);
      const mu = k.mu[c]!;
      const sigma = k.sigma[c]!;
      const y = rvs((lo - mu) / sigma, (hi - mu) / sigma, mu, sigma, rng);
      const x = k.log ? Math.exp(y) : y;
      const steps = Math.round((k.high - k.low) / k.step);
      const i = Math.min(steps, Math.max(0, Math.round((x - k.low) / k.step)));
      return gridValue(k.low, k.step, i);
    }
  }
}

/**
 * The kernels of one parameter made ready for scoring: per-component
 * constants computed once, for the components `prepare` is given (a long
 * history's mixture is scored near a few points, and many of its components
 * are never needed), then each component's log density at a value is added
 * to its entry of `row`, for the components in [from, to) or for those
 * listed in `subset[0 .. count)`.
 *
 * Components may be laid out in another order than the mixture's
 * (prepareLogPdf's `order`), so that the components scored together sit
 * together in memory; entry p of `row` is then kernel order[p].
 */
export interface LogPdfTerm {
  /** Computes the constants of the components at subset[0 .. count), none of them prepared before. */
  prepare(subset: Int32Array, count: number): void;
  addRange(x: number, row: Float64Array, from: number, to: number): void;
  addSubset(x: number, row: Float64Array, subset: Int32Array, count: number): void;
  /** No component's term exceeds this, whatever x; known before any component is prepared. */
  readonly termBound: number;
  /** The largest term of any component, whatever x (every component prepared): at most termBound. */
  largestTerm(): number;
  /** Truncnorm only: each prepared component's term at its own centre (its maximum). */
  readonly peak?: Float64Array;
}

/**
 * `order[p]` is the kernel at position p (default: the kernels' own order).
 * Discrete bins are computed once per distinct (value, centre, width): a
 * study of a thousand trials of a five-level int has a thousand components
 * but a handful of distinct kernels.
 */
export function prepareLogPdf(k: Kernels, order: Int32Array = identity(componentCount(k))): LogPdfTerm {
  switch (k.kind) {
    case 'categorical':
      return new CategoricalTerm(k, order);
    case 'truncnorm':
      return new TruncNormTerm(k, order);
    case 'discrete-truncnorm':
      return new DiscreteTerm(k, order);
  }
}

function componentCount(k: Kernels): number {
  return k.kind === 'categorical' ? k.weights.length / k.nChoices : k.mu.length;
}

/** 0, 1, ..., n - 1. */
export function identity(n: number): Int32Array {
  const out = int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

/** Under Phi(1) - 1/2: the least mass a kernel centred within its range, and at most as wide, keeps there. */
const LEAST_CENTRED_MASS = 0.34;
/** Room for the rounding of a logarithm, in an upper bound built from one. */
const LOG_ROUNDING = 1e-9;

/** Truncated Gaussians: log density = -(z^2)/2 - log(sigma sqrt(2 pi)) - log mass, the constant per component. */
class TruncNormTerm implements LogPdfTerm {
  readonly termBound: number;
  readonly peak: Float64Array;
  private readonly inv: Float64Array;
  private readonly lo: number;
  private readonly hi: number;

  constructor(
    private readonly k: TruncNormKernels,
    private readonly order: Int32Array,
  ) {
    [this.lo, this.hi] = internalBounds(k);
    this.inv = float64Array(order.length);
    this.peak = float64Array(order.length);
    this.termBound = this.peakBound();
  }

  /**
   * An upper bound of every peak without a single log mass: a kernel centred
   * within its range and at most the range wide keeps over LEAST_CENTRED_MASS
   * of its mass there, and -log sigma is largest for the narrowest kernel.
   * Infinity when a kernel breaks those premises (only the largest peak
   * itself will do then).
   */
  private peakBound(): number {
    const { k, lo, hi } = this;
    let narrowest = Number.POSITIVE_INFINITY;
    for (let c = 0; c < k.mu.length; c++) {
      const sigma = k.sigma[c]!;
      if (!(k.mu[c]! >= lo && k.mu[c]! <= hi && sigma > 0 && sigma <= hi - lo)) return Number.POSITIVE_INFINITY;
      if (sigma < narrowest) narrowest = sigma;
    }
    return (k.scaleFree === true ? 0 : -Math.log(narrowest)) - LOG_SQRT_2PI - Math.log(LEAST_CENTRED_MASS) + LOG_ROUNDING;
  }

  prepare(subset: Int32Array, count: number): void {
    const { k, order, inv, peak, lo, hi } = this;
    const scaleFree = k.scaleFree === true;
    let lastSigma = Number.NaN;
    let lastLog = Number.NaN;
    for (let i = 0; i < count; i++) {
      const p = subset[i]!;
      const centre = k.mu[order[p]!]!;
      const sigma = k.sigma[order[p]!]!;
      inv[p] = 1 / sigma;
      // Most kernels of a long history share one clipped width: its log is reused.
      if (sigma !== lastSigma) {
        lastSigma = sigma;
        lastLog = scaleFree ? 0 : Math.log(sigma);
      }
      peak[p] = -lastLog - LOG_SQRT_2PI - kernelLogMass((lo - centre) / sigma, (hi - centre) / sigma);
    }
  }

  largestTerm(): number {
    let largest = Number.NEGATIVE_INFINITY;
    for (let p = 0; p < this.peak.length; p++) if (this.peak[p]! > largest) largest = this.peak[p]!;
    return largest;
  }

  /** x in internal space, or undefined outside the support (where every term is -inf). */
  private internal(value: number, row: Float64Array): number | undefined {
    const x = this.k.log ? Math.log(value) : value;
    if (x >= this.lo && x <= this.hi) return x;
    row.fill(Number.NEGATIVE_INFINITY);
    return undefined;
  }

  addRange(value: number, row: Float64Array, from: number, to: number): void {
    const x = this.internal(value, row);
    if (x === undefined) return;
    // Fields copied to locals: the loop then keeps them in registers.
    const { inv, peak, order } = this;
    const mu = this.k.mu;
    for (let p = from; p < to; p++) {
      const z = (x - mu[order[p]!]!) * inv[p]!;
      row[p] += peak[p]! - 0.5 * z * z;
    }
  }

  addSubset(value: number, row: Float64Array, subset: Int32Array, count: number): void {
    const x = this.internal(value, row);
    if (x === undefined) return;
    const { inv, peak, order } = this;
    const mu = this.k.mu;
    for (let i = 0; i < count; i++) {
      const p = subset[i]!;
      const z = (x - mu[order[p]!]!) * inv[p]!;
      row[p] += peak[p]! - 0.5 * z * z;
    }
  }
}

/** Smoothed choice probabilities, read from the kernels' own table (x is a choice's index). */
class CategoricalTerm implements LogPdfTerm {
  // Log probabilities: never above 0.
  readonly termBound = 0;

  constructor(
    private readonly k: CategoricalKernels,
    private readonly order: Int32Array,
  ) {}

  prepare(): void {}

  largestTerm(): number {
    return this.termBound;
  }

  addRange(x: number, row: Float64Array, from: number, to: number): void {
    const { order } = this;
    const { logWeights, nChoices } = this.k;
    for (let p = from; p < to; p++) row[p] += logWeights[order[p]! * nChoices + x]!;
  }

  addSubset(x: number, row: Float64Array, subset: Int32Array, count: number): void {
    const { order } = this;
    const { logWeights, nChoices } = this.k;
    for (let i = 0; i < count; i++) row[subset[i]!] += logWeights[order[subset[i]!]! * nChoices + x]!;
  }
}

/** Bin masses of discrete kernels: per value, a table over the distinct kernels met so far, extended on use. */
class DiscreteTerm implements LogPdfTerm {
  // A bin's probability: never above 1, its log never above 0.
  readonly termBound = 0;
  /** The distinct kernel at each position. */
  private readonly kernelIndex: Int32Array;
  private readonly mu: number[] = [];
  private readonly sigma: number[] = [];
  /** Each distinct kernel's log mass on the whole widened range. */
  private readonly logMass: number[] = [];
  /** Distinct kernels with the same centre are chained (few widths each): one hash lookup per component. */
  private readonly lastWithMu = new Map<number, number>();
  private readonly previousWithMu: number[] = [];
  private readonly tables = new Map<number, number[]>();
  private readonly lo: number;
  private readonly hi: number;

  constructor(
    private readonly k: DiscreteTruncNormKernels,
    private readonly order: Int32Array,
  ) {
    this.kernelIndex = int32Array(order.length);
    [this.lo, this.hi] = internalBounds(k);
  }

  prepare(subset: Int32Array, count: number): void {
    const { k, order } = this;
    for (let i = 0; i < count; i++) {
      const p = subset[i]!;
      this.kernelIndex[p] = this.distinct(k.mu[order[p]!]!, k.sigma[order[p]!]!);
    }
  }

  /** The index of the distinct kernel (mu, sigma), added when new. */
  private distinct(mu: number, sigma: number): number {
    const last = this.lastWithMu.get(mu) ?? -1;
    for (let d = last; d >= 0; d = this.previousWithMu[d]!) if (this.sigma[d] === sigma) return d;
    const d = this.mu.length;
    this.lastWithMu.set(mu, d);
    this.previousWithMu.push(last);
    this.mu.push(mu);
    this.sigma.push(sigma);
    this.logMass.push(logGaussMass((this.lo - mu) / sigma, (this.hi - mu) / sigma));
    return d;
  }

  largestTerm(): number {
    return this.termBound;
  }

  private table(x: number): number[] {
    let table = this.tables.get(x);
    if (table === undefined) this.tables.set(x, (table = []));
    if (table.length < this.mu.length) appendBinLogMass(this.k, x, table, this.mu, this.sigma, this.logMass);
    return table;
  }

  addRange(x: number, row: Float64Array, from: number, to: number): void {
    const table = this.table(x);
    const { kernelIndex } = this;
    for (let p = from; p < to; p++) row[p] += table[kernelIndex[p]!]!;
  }

  addSubset(x: number, row: Float64Array, subset: Int32Array, count: number): void {
    const table = this.table(x);
    const { kernelIndex } = this;
    for (let i = 0; i < count; i++) row[subset[i]!] += table[kernelIndex[subset[i]!]!]!;
  }
}

/**
 * log mass of [a, b] for a kernel centred inside its range (a <= 0 <= b),
 * sparing the erfc of a tail beyond 8.5 sd: it holds under 9.5e-18, and the
 * other side's mass is at least 1/2, so leaving it out moves the log mass by
 * under 2e-17, less than half an ulp of a log density of order one. Most
 * kernels of a long history are narrow enough for one tail or both.
 */
function kernelLogMass(a: number, b: number): number {
  const farLeft = a < -8.5;
  const farRight = b > 8.5;
  if (farLeft && farRight) return 0;
  if (farLeft && b >= 0) return logNdtr(b);
  if (farRight && a <= 0) return logNdtr(-a);
  return logGaussMass(a, b);
}

/**
 * log P(bin of x) under distinct kernels table.length, ..., mu.length - 1,
 * normalised by the kernel's mass on the widened range, appended to `table`.
 */
function appendBinLogMass(k: DiscreteTruncNormKernels, x: number, table: number[], mu: number[], sigma: number[], logMass: number[]): void {
  if (!(x >= k.low && x <= k.high)) {
    while (table.length < mu.length) table.push(Number.NEGATIVE_INFINITY);
    return;
  }
  const left = k.log ? Math.log(x - k.step / 2) : x - k.step / 2;
  const right = k.log ? Math.log(x + k.step / 2) : x + k.step / 2;
  for (let d = table.length; d < mu.length; d++) {
    const s = sigma[d]!;
    table.push(logGaussMass((left - mu[d]!) / s, (right - mu[d]!) / s) - logMass[d]!);
  }
}

/**
 * The i-th grid value, from the index, so a 0.1 step gives 0.3 and not
 * 0.30000000000000004 (stepValue rounds to 12 digits). An integer grid's
 * values are exact already, and stepValue's text round trip costs about a
 * microsecond per draw.
 */
function gridValue(low: number, step: number, i: number): number {
  const value = low + i * step;
  return Number.isInteger(low) && Number.isInteger(step) && Math.abs(value) < 1e12 ? value : stepValue(low, step, i);
}

function clamp(x: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, x));
}
