import { normalSf } from '../../core/normal.js';

/**
 * The Wilcoxon signed-rank test on paired differences, as scipy.stats.wilcoxon
 * (zero_method='wilcox': zero differences are dropped; no continuity
 * correction). Up to 50 non-zero differences the p-value is exact: the
 * distribution of W+ over all 2^n sign patterns of the observed ranks,
 * counted by dynamic programming on doubled ranks (so tied, half-integer
 * ranks are exact too); beyond that the normal approximation with scipy's
 * tie correction. Two deliberate differences from scipy 1.10: scipy falls
 * back to the normal approximation whenever a zero difference is present,
 * even for tiny samples, and with ties it keeps the untied exact table; here
 * zeros are dropped first and ties are counted exactly. With six seeds per
 * trial only an exact test means anything: the smallest one-sided p-value is
 * 1/2^n, and the normal approximation is anti-conservative there.
 */
export interface SignedRankResult {
  /** Sum of the ranks of the positive differences. */
  wPlus: number;
  /** Non-zero differences used. */
  n: number;
  pValue: number;
  method: 'exact' | 'normal';
}

export type Alternative = 'less' | 'greater' | 'two-sided';

export function signedRankTest(differences: readonly number[], alternative: Alternative): SignedRankResult {
  for (const d of differences) if (!Number.isFinite(d)) throw new RangeError(`signedRankTest: expected finite differences, but got ${d}`);
  const nonZero = differences.filter((d) => d !== 0);
  const n = nonZero.length;
  if (n === 0) return { wPlus: 0, n: 0, pValue: 1, method: 'exact' };
  const { ranks, tieGroups } = averageRanks(nonZero.map(Math.abs));
  let wPlus = 0;
  nonZero.forEach((d, i) => {
    if (d > 0) wPlus += ranks[i] as number;
  });
  if (n <= 50) return { wPlus, n, pValue: exactP(wPlus, ranks, alternative), method: 'exact' };
  return { wPlus, n, pValue: normalP(wPlus, n, tieGroups, alternative), method: 'normal' };
}

/**
 * P-value from the exact distribution of W+ given these ranks: how many of
 * the 2^n sign patterns give each sum. Ranks are whole or half numbers, so
 * the sums are counted on doubled ranks, which are integers.
 */
function exactP(wPlus: number, ranks: readonly number[], alternative: Alternative): number {
  const doubled = ranks.map((r) => Math.round(2 * r));
  const max = doubled.reduce((a, b) => a + b, 0);
  const counts = new Float64Array(max + 1);
  counts[0] = 1;
  for (const r of doubled) for (let s = max; s >= r; s--) counts[s] = (counts[s] as number) + (counts[s - r] as number);
  const observed = Math.round(2 * wPlus);
  const total = 2 ** ranks.length;
  let below = 0;
  for (let s = 0; s <= observed; s++) below += counts[s] as number;
  let above = 0;
  for (let s = observed; s <= max; s++) above += counts[s] as number;
  const pLess = below / total;
  const pGreater = above / total;
  if (alternative === 'less') return pLess;
  if (alternative === 'greater') return pGreater;
  return Math.min(1, 2 * Math.min(pLess, pGreater));
}

function normalP(wPlus: number, n: number, tieGroups: readonly number[], alternative: Alternative): number {
  const mean = (n * (n + 1)) / 4;
  let variance = (n * (n + 1) * (2 * n + 1)) / 24;
  for (const t of tieGroups) variance -= (t * t * t - t) / 48;
  if (variance <= 0) return 1;
  const z = (wPlus - mean) / Math.sqrt(variance);
  if (alternative === 'less') return normalSf(-z);
  if (alternative === 'greater') return normalSf(z);
  return Math.min(1, 2 * normalSf(Math.abs(z)));
}

/** 1-based average ranks, and the size of every tie group. */
function averageRanks(values: readonly number[]): { ranks: number[]; tieGroups: number[] } {
  const order = values.map((_, i) => i).sort((a, b) => (values[a] as number) - (values[b] as number));
  const ranks = new Array<number>(values.length);
  const tieGroups: number[] = [];
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && values[order[j + 1] as number] === values[order[i] as number]) j++;
    const rank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) ranks[order[k] as number] = rank;
    tieGroups.push(j - i + 1);
    i = j + 1;
  }
  return { ranks, tieGroups };
}
