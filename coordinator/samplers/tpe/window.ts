import { internalBounds, type LogPdfTerm, type TruncNormKernels } from './kernels.js';
import type { Mixture } from './mixture.js';
import { int32Array } from './typed-arrays.js';

/** Below this many components the window costs more than it saves. */
export const WINDOW_MIN_COMPONENTS = 200;
/** Half-width of the window in the narrowest kernel's widths: z^2/2 = 98 nats outside it. */
const WINDOW_RADIUS = 14;
/** Room for the rounding of a logarithm, in an upper bound built from one. */
const LOG_ROUNDING = 1e-9;

/**
 * Exact pruning for long histories. In a thousand-trial mixture most kernels
 * of a continuous parameter share the clipped width s (range / 100) and sit
 * far from any one point: outside [x - 14 s, x + 14 s] each loses 98 nats in
 * that parameter alone. The window on the first continuous parameter holds
 * every wide component (wider than s there) and the narrow ones within 14 s
 * of the point; `bound` caps the log term of any component left out (the
 * largest weight, the largest peak of the narrow kernels minus 98, every
 * other parameter at its largest term). When the largest evaluated term is
 * 50 nats above the bound, the left-out components cannot change the sum in
 * a double; otherwise the point is evaluated in full. The result is the same
 * either way.
 *
 * The window's components are summed wide ones first (in component order),
 * then narrow ones by bucket of their centre (buckets a quarter window wide,
 * component order within a bucket): the window's order, which fixes the
 * rounding of the sum.
 *
 * A second continuous parameter narrows the window further (`selectNarrow`):
 * of the narrow components, those also narrow on the second parameter and
 * more than 14 of its widths away are below `narrowBound`. They can be left
 * out of the evaluation when that bound is low enough that, added after the
 * wide components (first in the window's order), their terms could not
 * change the sum (mixture.ts). The few terms that count are then added in
 * the window's order, and the result is the same as the window's: about a
 * quarter of the components are evaluated.
 *
 * Components are laid out (`order`: position -> component) wide ones first,
 * then by bucket on the first parameter, then, within one, components wide on
 * the second parameter, then the narrow ones by bucket on the second: each
 * bucket pair is a contiguous range of positions.
 */
export class Window {
  /** The component at each position. */
  readonly order: Int32Array;
  /** Positions [0, nWide) hold the wide components. */
  readonly nWide: number;
  readonly first: Axis;
  readonly second: Axis | undefined;
  /** No component outside the window has a log term above this. */
  bound = Number.POSITIVE_INFINITY;
  /** No component of the window outside the narrowed window has a log term above this. */
  narrowBound = Number.POSITIVE_INFINITY;
  /** The cell of each narrow component: first-parameter bucket * cellsPerBlock + cell within the block. */
  private readonly cellOf: Int32Array;
  /** Narrow components of cell i fill positions [nWide + cellStart[i], nWide + cellStart[i + 1]). */
  private readonly cellStart: Int32Array;
  private readonly cellsPerBlock: number;
  /** Built on first use (the window's order of the narrow components, and each component's position): rarely needed. */
  private byRankCache: Int32Array | undefined;
  private positionOfCache: Int32Array | undefined;

  /** The window of `m`, or undefined when it has no continuous parameter. */
  static of(m: Mixture): Window | undefined {
    const dims: number[] = [];
    for (let d = 0; d < m.dims.length; d++) if (m.dims[d]!.kind === 'truncnorm') dims.push(d);
    if (dims.length === 0) return undefined;
    const first = new Axis(dims[0]!, m.dims[dims[0]!] as TruncNormKernels);
    const second = dims.length > 1 ? new Axis(dims[1]!, m.dims[dims[1]!] as TruncNormKernels) : undefined;
    return new Window(first, second);
  }

  private constructor(first: Axis, second: Axis | undefined) {
    this.first = first;
    this.second = second;
    const k = first.kernels.mu.length;
    // Cell 0 of a block: components wide on the second parameter; cell 1 + b: narrow ones of its bucket b.
    this.cellsPerBlock = second === undefined ? 1 : second.nBuckets + 1;
    this.cellOf = int32Array(k);
    this.cellStart = int32Array(first.nBuckets * this.cellsPerBlock + 1);
    let nWide = 0;
    for (let c = 0; c < k; c++) {
      if (!first.isNarrow(c)) {
        nWide++;
        continue;
      }
      const cell = second === undefined || !second.isNarrow(c) ? 0 : 1 + second.bucketOf(second.kernels.mu[c]!);
      this.cellOf[c] = first.bucketOf(first.kernels.mu[c]!) * this.cellsPerBlock + cell;
      this.cellStart[this.cellOf[c]! + 1]!++;
    }
    this.nWide = nWide;
    for (let i = 1; i < this.cellStart.length; i++) this.cellStart[i]! += this.cellStart[i - 1]!;
    // Positions by a stable counting sort on the cell.
    this.order = int32Array(k);
    const cellFill = int32Array(this.cellStart.length - 1);
    cellFill.set(this.cellStart.subarray(0, -1));
    let wide = 0;
    for (let c = 0; c < k; c++) this.order[first.isNarrow(c) ? nWide + cellFill[this.cellOf[c]!]!++ : wide++] = c;
  }

  /** The position of each component. */
  get positionOf(): Int32Array {
    if (this.positionOfCache === undefined) {
      this.positionOfCache = int32Array(this.order.length);
      for (let p = 0; p < this.order.length; p++) this.positionOfCache[this.order[p]!] = p;
    }
    return this.positionOfCache;
  }

  /** Orders narrow components as the window sums them: by first-parameter bucket, then component. */
  rankKey(p: number): number {
    const c = this.order[p]!;
    return Math.floor(this.cellOf[c]! / this.cellsPerBlock) * this.order.length + c;
  }

  /** Positions of the narrow components in the window's order (a stable counting sort on the block). */
  private get byRank(): Int32Array {
    if (this.byRankCache === undefined) {
      const { order, nWide, first } = this;
      const byRank = int32Array(order.length - nWide);
      const blockFill = int32Array(first.nBuckets);
      for (let b = 0; b < first.nBuckets; b++) blockFill[b] = this.blockStart(b);
      const positionOf = this.positionOf;
      for (let c = 0; c < order.length; c++) {
        if (first.isNarrow(c)) byRank[blockFill[Math.floor(this.cellOf[c]! / this.cellsPerBlock)]!++] = positionOf[c]!;
      }
      this.byRankCache = byRank;
    }
    return this.byRankCache;
  }

  /**
   * Upper bounds in place of `bound` and `narrowBound`, from the kernels'
   * widths alone (LogPdfTerm.termBound) and the largest weight: any upper
   * bound keeps the pruning exact, only less often possible.
   */
  setQuickBounds(terms: readonly LogPdfTerm[], weights: Float64Array): void {
    let largest = 0;
    for (let c = 0; c < weights.length; c++) if (weights[c]! > largest) largest = weights[c]!;
    const termBounds = terms.map((t) => t.termBound);
    const second = this.second === undefined ? Number.NaN : termBounds[this.second.dim]!;
    this.setBounds(Math.log(largest) + LOG_ROUNDING, termBounds[this.first.dim]!, second, termBounds);
  }

  /** The bounds themselves, from the terms and log weights of every component (all prepared). */
  setExactBounds(terms: readonly LogPdfTerm[], logW: Float64Array): void {
    const { first, second, nWide, order } = this;
    let maxLogW = Number.NEGATIVE_INFINITY;
    for (let p = 0; p < logW.length; p++) if (logW[p]! > maxLogW) maxLogW = logW[p]!;
    const peak0 = terms[first.dim]!.peak!;
    let narrowPeak0 = Number.NEGATIVE_INFINITY;
    for (let p = nWide; p < peak0.length; p++) if (peak0[p]! > narrowPeak0) narrowPeak0 = peak0[p]!;
    let narrowPeak1 = Number.NaN;
    if (second !== undefined) {
      const peak1 = terms[second.dim]!.peak!;
      narrowPeak1 = Number.NEGATIVE_INFINITY;
      for (let p = nWide; p < peak1.length; p++) if (second.isNarrow(order[p]!) && peak1[p]! > narrowPeak1) narrowPeak1 = peak1[p]!;
    }
    this.setBounds(maxLogW, narrowPeak0, narrowPeak1, terms.map((t) => t.largestTerm()));
  }

  private setBounds(maxLogW: number, narrowPeak0: number, narrowPeak1: number, largestTerms: readonly number[]): void {
    const { first, second } = this;
    let rest = 0;
    largestTerms.forEach((t, d) => (rest += d === first.dim ? 0 : t));
    this.bound = maxLogW + narrowPeak0 - (WINDOW_RADIUS * WINDOW_RADIUS) / 2 + rest;
    if (second === undefined) return;
    let others = 0;
    largestTerms.forEach((t, d) => (others += d === first.dim || d === second.dim ? 0 : t));
    this.narrowBound = maxLogW + narrowPeak0 + narrowPeak1 - (WINDOW_RADIUS * WINDOW_RADIUS) / 2 + others;
  }

  /** Lists the window's positions at `point` into `subset`, in the window's order; returns their count. */
  select(point: Float64Array, subset: Int32Array): number {
    const [from, to] = this.first.buckets(point[this.first.dim]!);
    let count = 0;
    for (let p = 0; p < this.nWide; p++) subset[count++] = p;
    const byRank = this.byRank;
    const end = this.blockStart(to + 1);
    for (let r = this.blockStart(from); r < end; r++) subset[count++] = byRank[r]!;
    return count;
  }

  /**
   * Lists the narrowed window's positions at `point` into `subset` (the wide
   * components first, in the window's order; the rest by position); returns
   * their count.
   */
  selectNarrow(point: Float64Array, subset: Int32Array): number {
    const second = this.second!;
    const [from, to] = this.first.buckets(point[this.first.dim]!);
    const [from2, to2] = second.buckets(point[second.dim]!);
    let count = 0;
    for (let p = 0; p < this.nWide; p++) subset[count++] = p;
    for (let b = from; b <= to; b++) {
      const cells = b * this.cellsPerBlock;
      count = this.listCells(cells, cells + 1, subset, count);
      count = this.listCells(cells + 1 + from2, cells + 2 + to2, subset, count);
    }
    return count;
  }

  private listCells(fromCell: number, toCell: number, subset: Int32Array, count: number): number {
    const end = this.nWide + this.cellStart[toCell]!;
    for (let p = this.nWide + this.cellStart[fromCell]!; p < end; p++) subset[count++] = p;
    return count;
  }

  /** The first rank (and, plus nWide, the first position) of first-parameter bucket b. */
  private blockStart(b: number): number {
    return this.cellStart[b * this.cellsPerBlock]!;
  }
}

/** A continuous parameter's narrowest kernels, and buckets a quarter of a window wide over its range. */
class Axis {
  readonly narrowest: number;
  readonly nBuckets: number;
  private readonly lo: number;
  private readonly width: number;
  private readonly half: number;

  constructor(
    readonly dim: number,
    readonly kernels: TruncNormKernels,
  ) {
    const [lo, hi] = internalBounds(kernels);
    let narrowest = Number.POSITIVE_INFINITY;
    for (let c = 0; c < kernels.sigma.length; c++) if (kernels.sigma[c]! < narrowest) narrowest = kernels.sigma[c]!;
    this.narrowest = narrowest;
    this.lo = lo;
    this.half = WINDOW_RADIUS * narrowest;
    // Buckets of width half / 4 (a counting sort, no comparisons): the window
    // (x - half, x + half) lies within nine neighbouring buckets, at most 12%
    // wider than the window itself.
    this.width = this.half / 4;
    this.nBuckets = Math.floor((hi - lo) / this.width) + 1;
  }

  isNarrow(c: number): boolean {
    return this.kernels.sigma[c] === this.narrowest;
  }

  bucketOf(x: number): number {
    return Math.min(this.nBuckets - 1, Math.max(0, Math.floor((x - this.lo) / this.width)));
  }

  /** The first and last bucket holding centres within the window around `value`. */
  buckets(value: number): [number, number] {
    const x = this.kernels.log ? Math.log(value) : value;
    return [this.bucketOf(x - this.half), this.bucketOf(x + this.half)];
  }
}
