/**
 * Summary statistics and the rank test of the TPE head-to-head benchmark.
 */
import { normalSf } from '../../core/normal.js';

export const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Standard error of the mean (sample standard deviation / sqrt n); 0 for one value. */
export function sem(xs: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const m = mean(xs);
  let ss = 0;
  for (const x of xs) ss += (x - m) * (x - m);
  return Math.sqrt(ss / (n - 1) / n);
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Ranks 1..n of the pooled values, ties given their mean rank; and the tie-group sizes. */
export function midranks(values: readonly number[]): { ranks: Float64Array; ties: number[] } {
  const order = values.map((_, i) => i).sort((i, j) => values[i]! - values[j]!);
  const ranks = new Float64Array(values.length);
  const ties: number[] = [];
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && values[order[end]!] === values[order[start]!]) end++;
    const rank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) ranks[order[k]!] = rank;
    ties.push(end - start);
    start = end;
  }
  return { ranks, ties };
}

export interface MannWhitney {
  /** U of the first sample: the number of pairs (x, y) with x > y, plus half the ties. */
  u1: number;
  /** Two-sided p-value. */
  p: number;
  /**
   * Which sample tends to be smaller: -1 when x (u1 < n1 n2 / 2), 1 when y,
   * 0 when neither.
   */
  direction: -1 | 0 | 1;
}

/**
 * The two-sided Mann-Whitney U test of x against y (unpaired samples), by
 * the normal approximation with the tie correction of the variance and a
 * continuity correction of 0.5: what scipy.stats.mannwhitneyu(x, y,
 * alternative='two-sided') computes with its default method for samples of
 * this benchmark's size (it takes the exact distribution only when both
 * samples have at most 8 values and there are no ties). When every value is
 * tied the variance is 0 and p is 1.
 */
export function mannWhitneyU(x: readonly number[], y: readonly number[]): MannWhitney {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) throw new RangeError('mannWhitneyU needs two non-empty samples');
  if ([...x, ...y].some((v) => !Number.isFinite(v))) throw new RangeError('mannWhitneyU needs finite values');
  const { ranks, ties } = midranks([...x, ...y]);
  let r1 = 0;
  for (let i = 0; i < n1; i++) r1 += ranks[i]!;
  const u1 = r1 - (n1 * (n1 + 1)) / 2;
  const u2 = n1 * n2 - u1;
  const mu = (n1 * n2) / 2;
  const n = n1 + n2;
  const tieTerm = ties.reduce((s, t) => s + t * t * t - t, 0);
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  const direction: -1 | 0 | 1 = u1 < mu ? -1 : u1 > mu ? 1 : 0;
  if (!(variance > 0)) return { u1, p: 1, direction };
  const z = (Math.max(u1, u2) - mu - 0.5) / Math.sqrt(variance);
  return { u1, p: Math.min(1, Math.max(0, 2 * normalSf(z))), direction };
}

/** Win, tie or loss of sample x against y on a smaller-is-better measure, at level alpha. */
export function verdict(test: MannWhitney, alpha = 0.05): 'win' | 'tie' | 'loss' {
  if (test.p >= alpha || test.direction === 0) return 'tie';
  return test.direction < 0 ? 'win' : 'loss';
}
