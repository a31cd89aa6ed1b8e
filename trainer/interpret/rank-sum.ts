import { logNormalSf, normalSf } from '../../core/normal.js';
import { rankColumn } from './column-ranks.js';

/**
 * Wilcoxon rank-sum test of one group of cells against the rest, for every
 * gene of a row-major cells x genes matrix, as scanpy's
 * `rank_genes_groups(method='wilcoxon', reference='rest')` computes it:
 *
 *   ranks: average ranks of all N cells per gene (ties share their mean rank);
 *   z = (R - n (N + 1) / 2) / sqrt(T n (N - n) (N + 1) / 12),
 *   R the group's rank sum, n its size, T = 1 (scanpy's default,
 *   tie_correct=False) or T = 1 - sum(t^3 - t) / (N^3 - N) over the tie runs;
 *   z = 0 where it is 0/0 (a constant gene with tie correction);
 *   p = 2 P(Z > |z|), the normal approximation, two-sided.
 *
 * Average ranks are multiples of 1/2 and N^3 < 2^53 up to 208,063 cells, so
 * R and sum(t^3 - t) are exact in double: z matches scanpy's to the last few
 * ulps.
 * Scanpy stores z as float32 in adata.uns; this keeps the double.
 *
 * Speed: per gene, the column is copied out of the matrix (a block of genes
 * per pass over the rows, so the reads are contiguous) as raw bits, then
 * radix-sorted as integer keys tagged by side and its runs of equal values
 * walked once (column-ranks.ts); no per-element objects. data5's shape,
 * 7,440 x 12,715, takes ~2.7 s dense and ~2 s sparse for markerGenes on one
 * core of a shared 2-vCPU VM (tests/trainer/interpret/bench-markers.ts).
 */

export interface RankSums {
  /** Number of cells in the group and in the rest (both > 0). */
  nGroup: number;
  nRest: number;
  /** Per gene: the group's sum of average ranks (1-based). */
  rankSum: Float64Array;
  /** Per gene: sum over runs of tied values of t^3 - t (0 when all values differ). */
  tieSum: Float64Array;
}

export interface RankSumOptions {
  /** Divide the variance by the tie correction T (scanpy's tie_correct). Default false, scanpy's default. */
  tieCorrect?: boolean;
}

export interface RankSumResult {
  nGroup: number;
  nRest: number;
  /** Per gene: z of the group against the rest; positive = the group ranks higher. */
  z: Float64Array;
  /** Per gene: two-sided p-value 2 P(Z > |z|); underflows to 0 beyond |z| ~ 38.5. */
  pValue: Float64Array;
  /** Per gene: natural log of the two-sided p-value, finite where pValue underflowed. */
  logPValue: Float64Array;
}

/**
 * Genes gathered per pass over the rows: 64 float32 make 4 cache lines per
 * row; fewer when the cells are so many that the block would pass ~2 MB.
 */
const BLOCK = 64;
const BLOCK_BYTES = 1 << 21;

/** The indices of the rows in the group and of the others; both must be non-empty. */
export function splitRows(inGroup: ArrayLike<boolean | number>, rows: number): { group: Int32Array; rest: Int32Array } {
  if (inGroup.length !== rows) throw new RangeError(`group mask has ${inGroup.length} entries for ${rows} rows`);
  let n1 = 0;
  for (let r = 0; r < rows; r++) if (inGroup[r]) n1++;
  const n2 = rows - n1;
  if (n1 === 0 || n2 === 0) {
    const empty = n1 === 0 ? 'the group' : 'the rest';
    throw new RangeError(`rank-sum test needs cells on both sides: ${empty} is empty (${n1} in the group, ${n2} in the rest)`);
  }
  const group = new Int32Array(n1);
  const rest = new Int32Array(n2);
  let i = 0;
  let j = 0;
  for (let r = 0; r < rows; r++) {
    if (inGroup[r]) group[i++] = r;
    else rest[j++] = r;
  }
  return { group, rest };
}

/** The rank sum of the group and the tie term, per gene. */
export function rankSums(x: Float32Array, rows: number, cols: number, inGroup: ArrayLike<boolean | number>): RankSums {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0 || x.length !== rows * cols) {
    throw new RangeError(`matrix of ${x.length} values is not ${rows} x ${cols}`);
  }
  const { group, rest } = splitRows(inGroup, rows);
  const n1 = group.length;
  const n2 = rest.length;
  const rankSum = new Float64Array(cols);
  const tieSum = new Float64Array(cols);
  // Float32 bits are copied as int32s (no float conversion), the group's
  // cells first, and ranked as integer keys (column-ranks.ts).
  const bits = new Int32Array(x.buffer, x.byteOffset, x.length);
  const n = n1 + n2;
  const block = Math.max(1, Math.min(BLOCK, cols, Math.floor(BLOCK_BYTES / 4 / n)));
  const buf = new Int32Array(block * n);
  const out = new Float64Array(2);

  for (let g0 = 0; g0 < cols; g0 += block) {
    const w = Math.min(block, cols - g0);
    // Column b of the block goes to buf[b * n ...]: each row is read once, contiguously.
    for (let i = 0; i < n; i++) {
      const base = (i < n1 ? group[i]! : rest[i - n1]!) * cols + g0;
      for (let b = 0; b < w; b++) buf[b * n + i] = bits[base + b]!;
    }
    for (let b = 0; b < w; b++) {
      if (!rankColumn(buf.subarray(b * n, (b + 1) * n), n1, out)) {
        throw new RangeError(`gene ${g0 + b} has a NaN value; the rank-sum test needs ordered values`);
      }
      rankSum[g0 + b] = out[0]!;
      tieSum[g0 + b] = out[1]!;
    }
  }
  return { nGroup: n1, nRest: n2, rankSum, tieSum };
}

/**
 * z per gene from rank sums, for the group (`side` 'group') or for the rest
 * ('rest': its rank sum is N (N + 1) / 2 - R, exact), in scanpy's order of
 * operations so the rounding is the same.
 */
export function rankSumZ(sums: RankSums, side: 'group' | 'rest', opts: RankSumOptions = {}): Float64Array {
  const n = sums.nGroup + sums.nRest;
  const nA = side === 'group' ? sums.nGroup : sums.nRest;
  const total = (n * (n + 1)) / 2;
  const cubes = n * n * n - n;
  const z = new Float64Array(sums.rankSum.length);
  for (let g = 0; g < z.length; g++) {
    const r = side === 'group' ? sums.rankSum[g]! : total - sums.rankSum[g]!;
    const coef = opts.tieCorrect ? 1 - sums.tieSum[g]! / cubes : 1;
    const std = Math.sqrt((coef * nA * (n - nA) * (n + 1)) / 12);
    const v = (r - (nA * (n + 1)) / 2) / std;
    // 0/0: a constant gene under tie correction; scanpy sets NaN to 0 (then p = 1).
    z[g] = Number.isNaN(v) ? 0 : v;
  }
  return z;
}

/** Two-sided p-values 2 P(Z > |z|) and their natural logs. */
export function twoSidedP(z: Float64Array): { pValue: Float64Array; logPValue: Float64Array } {
  const pValue = new Float64Array(z.length);
  const logPValue = new Float64Array(z.length);
  for (let g = 0; g < z.length; g++) {
    const a = Math.abs(z[g]!);
    pValue[g] = 2 * normalSf(a);
    logPValue[g] = Math.LN2 + logNormalSf(a);
  }
  return { pValue, logPValue };
}

/** The rank-sum test of the rows where `inGroup` is true against the others, every gene. */
export function rankSumTest(
  x: Float32Array,
  rows: number,
  cols: number,
  inGroup: ArrayLike<boolean | number>,
  opts: RankSumOptions = {},
): RankSumResult {
  const sums = rankSums(x, rows, cols, inGroup);
  const z = rankSumZ(sums, 'group', opts);
  return { nGroup: sums.nGroup, nRest: sums.nRest, z, ...twoSidedP(z) };
}
