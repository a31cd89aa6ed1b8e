import type { Rng } from '../../../core/rng.js';
import { stepValue } from '../../space/search-space.js';
import { logGaussMass, logNdtr, rvs } from './truncnorm.js';

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
      // From the index, so a 0.1 step gives 0.3 and not 0.30000000000000004.
      return stepValue(k.low, k.step, i);
    }
  }
}

/**
 * The kernels of one parameter made ready for scoring: per-component
 * constants computed once, then `add` puts every component's log density at
 * one value into `row` (one entry per component), or only the components
 * listed in `subset[0 .. count)`.
 */
export interface LogPdfTerm {
  add(x: number, row: Float64Array, subset?: Int32Array, count?: number): void;
  /** No component's term exceeds this, whatever x (the mixture's pruning bound). */
  readonly maxTerm: number;
  /** Truncnorm only: each component's term at its own centre (its maximum). */
  readonly peak?: Float64Array;
}

/**
 * Discrete bins are computed once per distinct (value, centre, width): a
 * study of a thousand trials of a five-level int has a thousand components
 * but a handful of distinct kernels. Values of a discrete or categorical
 * parameter repeat, so their per-component terms are laid out once per value
 * as a contiguous column.
 */
export function prepareLogPdf(k: Kernels): LogPdfTerm {
  switch (k.kind) {
    case 'categorical': {
      const m = k.weights.length / k.nChoices;
      // Log probabilities: never above 0.
      return withColumns(m, 0, (j) => {
        const column = new Float64Array(m);
        for (let c = 0; c < m; c++) column[c] = k.logWeights[c * k.nChoices + j]!;
        return column;
      });
    }
    case 'truncnorm': {
      const m = k.mu.length;
      const [lo, hi] = internalBounds(k);
      // log density = -(z^2)/2 - log(sigma sqrt(2 pi)) - log mass; the constant per component.
      const peak = new Float64Array(m);
      const inv = new Float64Array(m);
      let lastSigma = Number.NaN;
      let lastLog = Number.NaN;
      let maxTerm = Number.NEGATIVE_INFINITY;
      for (let c = 0; c < m; c++) {
        const mu = k.mu[c]!;
        const sigma = k.sigma[c]!;
        inv[c] = 1 / sigma;
        const a = (lo - mu) / sigma;
        const b = (hi - mu) / sigma;
        // Most kernels of a long history share one clipped width: its log is reused.
        if (sigma !== lastSigma) [lastSigma, lastLog] = [sigma, Math.log(sigma)];
        peak[c] = -lastLog - LOG_SQRT_2PI - kernelLogMass(a, b);
        if (peak[c]! > maxTerm) maxTerm = peak[c]!;
      }
      const mus = k.mu;
      const log = k.log;
      return {
        maxTerm,
        peak,
        add(value, row, subset, count) {
          const x = log ? Math.log(value) : value;
          if (!(x >= lo && x <= hi)) {
            row.fill(Number.NEGATIVE_INFINITY);
            return;
          }
          // Captured arrays copied to locals: with many closures of this function
          // alive, V8 would otherwise reload them from the context every iteration
          // (measured 4x slower).
          const mu = mus;
          const sc = inv;
          const pk = peak;
          const size = m;
          if (subset === undefined) {
            for (let c = 0; c < size; c++) {
              const z = (x - mu[c]!) * sc[c]!;
              row[c] += pk[c]! - 0.5 * z * z;
            }
          } else {
            for (let i = 0; i < count!; i++) {
              const c = subset[i]!;
              const z = (x - mu[c]!) * sc[c]!;
              row[c] += pk[c]! - 0.5 * z * z;
            }
          }
        },
      };
    }
    case 'discrete-truncnorm': {
      const m = k.mu.length;
      const [lo, hi] = internalBounds(k);
      // Distinct kernels, and for each the log mass of the whole widened range.
      const kernelIndex = new Int32Array(m);
      const distinct = new Map<number, Map<number, number>>();
      const dMu: number[] = [];
      const dSigma: number[] = [];
      const dLogMass: number[] = [];
      for (let c = 0; c < m; c++) {
        const mu = k.mu[c]!;
        const sigma = k.sigma[c]!;
        let bySigma = distinct.get(mu);
        if (bySigma === undefined) distinct.set(mu, (bySigma = new Map()));
        let d = bySigma.get(sigma);
        if (d === undefined) {
          d = dMu.length;
          bySigma.set(sigma, d);
          dMu.push(mu);
          dSigma.push(sigma);
          dLogMass.push(logGaussMass((lo - mu) / sigma, (hi - mu) / sigma));
        }
        kernelIndex[c] = d;
      }
      // A bin's probability: never above 1, its log never above 0.
      return withColumns(m, 0, (x) => {
        const table = binLogMass(k, x, dMu, dSigma, dLogMass);
        const column = new Float64Array(m);
        for (let c = 0; c < m; c++) column[c] = table[kernelIndex[c]!]!;
        return column;
      });
    }
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

/** Adds a per-value column, built on first use of the value. */
function withColumns(m: number, maxTerm: number, build: (x: number) => Float64Array): LogPdfTerm {
  const columns = new Map<number, Float64Array>();
  return {
    maxTerm,
    add(x, row, subset, count) {
      let column = columns.get(x);
      if (column === undefined) columns.set(x, (column = build(x)));
      const col = column;
      const size = m;
      if (subset === undefined) {
        for (let c = 0; c < size; c++) row[c] += col[c]!;
      } else {
        for (let i = 0; i < count!; i++) row[subset[i]!] += col[subset[i]!]!;
      }
    },
  };
}

/** log P(bin of x) under each distinct kernel, normalised by the kernel's mass on the widened range. */
function binLogMass(k: DiscreteTruncNormKernels, x: number, mu: number[], sigma: number[], logMass: number[]): Float64Array {
  const table = new Float64Array(mu.length);
  if (!(x >= k.low && x <= k.high)) return table.fill(Number.NEGATIVE_INFINITY);
  const left = k.log ? Math.log(x - k.step / 2) : x - k.step / 2;
  const right = k.log ? Math.log(x + k.step / 2) : x + k.step / 2;
  for (let d = 0; d < mu.length; d++) {
    const s = sigma[d]!;
    table[d] = logGaussMass((left - mu[d]!) / s, (right - mu[d]!) / s) - logMass[d]!;
  }
  return table;
}

function clamp(x: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, x));
}
