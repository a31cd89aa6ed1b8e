import type { MarkerGene } from '../../proto/gen/cellsweep/v1/run.js';
import type { ValueScale } from '../data/types.js';
import { rankSums, rankSumZ, splitRows, twoSidedP } from './rank-sum.js';

/**
 * Marker genes of the predicted sensitive and resistant groups (SCTL paper,
 * section 3.4): a Wilcoxon rank-sum test of each group against the other,
 * Bonferroni-corrected, genes with adjusted p < 0.05 and a log fold change
 * above 0.7 in the group's favour, the top 10 of each group by z.
 *
 * Input: the expression the cells had before the model's MinMax scaling,
 * i.e. library-size normalised log1p values for a `counts` domain and the
 * values as given for a `normalized` one. The rank test would give the same z
 * on the MinMax-scaled matrix (a per-gene increasing map keeps the ranks, up to
 * float32 rounding merging close values), but the fold change would not.
 */

/** What `MarkerGene.logFoldChange` holds, which depends on the scale of the values. */
export type EffectKind =
  /**
   * `counts` (log1p values): scanpy's log2 fold change,
   * log2((expm1(mean x_group) + 1e-9) / (expm1(mean x_rest) + 1e-9)). Note the
   * means are of the log1p values, then expm1'd: scanpy's own definition ("an
   * approximation calculated from mean-log values"), not the log of the ratio
   * of mean expressions.
   */
  | 'log2FoldChange'
  /**
   * `normalized` values: mean(x_group) - mean(x_rest), in the units of the
   * input. For the per-gene z-scores of the SCAD data that is a difference of
   * means in standard deviations of the gene over all cells (an effect size,
   * not a fold change: a z-score has no ratio to take); for log2 data it is
   * the log2 fold change of the geometric means. The 0.7 threshold then means
   * 0.7 of those units.
   */
  | 'meanDifference';

export interface MarkerOptions {
  scale: ValueScale;
  /** Keep genes whose Bonferroni-adjusted p is below this (strict). Default 0.05 (the paper's). */
  pMax?: number;
  /** Keep genes whose effect in the group's favour is above this (strict). Default 0.7 (the paper's). */
  minAbsLfc?: number;
  /** Genes kept per group, best first. Default 10 (the paper's). */
  top?: number;
  /** Tie-corrected variance in the rank-sum test. Default false (scanpy's default). */
  tieCorrect?: boolean;
}

/** Every gene's statistics for one group against the other. */
export interface GroupStatistics {
  /** z of this group against the other; positive = higher in this group. */
  z: Float64Array;
  pValue: Float64Array;
  /** ln of pValue, finite where pValue underflows to 0 (|z| > ~38.5). */
  logPValue: Float64Array;
  /** Bonferroni: min(1, p * genes tested). */
  pAdjusted: Float64Array;
  /** log2 fold change or difference of means (see EffectKind), this group over the other. */
  effect: Float64Array;
}

export interface DifferentialExpression {
  effect: EffectKind;
  nSensitive: number;
  nResistant: number;
  genesTested: number;
  sensitive: GroupStatistics;
  resistant: GroupStatistics;
}

export interface MarkerResult {
  /** Up in the predicted sensitive group, best first. */
  sensitive: MarkerGene[];
  /** Up in the predicted resistant group, best first (statistic and fold change from its side: positive). */
  resistant: MarkerGene[];
  effect: EffectKind;
  nSensitive: number;
  nResistant: number;
  genesTested: number;
}

/** scanpy's pseudo-count in the fold change ("add small value to remove 0's"). */
const FOLD_EPS = 1e-9;

/** Bonferroni over all the genes tested: min(1, p m), as scanpy's corr_method='bonferroni'. */
export function bonferroni(p: Float64Array, tested: number = p.length): Float64Array {
  const out = new Float64Array(p.length);
  for (let g = 0; g < p.length; g++) out[g] = Math.min(p[g]! * tested, 1);
  return out;
}

/** Per-gene means of the group's rows and of the others, in double (one row-major pass). */
export function groupMeans(
  x: Float32Array,
  rows: number,
  cols: number,
  inGroup: ArrayLike<boolean | number>,
): { group: Float64Array; rest: Float64Array } {
  if (x.length !== rows * cols) throw new RangeError(`matrix of ${x.length} values is not ${rows} x ${cols}`);
  const { group: gRows, rest: rRows } = splitRows(inGroup, rows);
  const sum = (list: Int32Array): Float64Array => {
    const acc = new Float64Array(cols);
    for (const r of list) {
      const base = r * cols;
      for (let g = 0; g < cols; g++) acc[g] += x[base + g]!;
    }
    for (let g = 0; g < cols; g++) {
      if (!Number.isFinite(acc[g]!)) throw new RangeError(`gene ${g} has a non-finite value; expression must be finite`);
      acc[g] = acc[g]! / list.length;
    }
    return acc;
  };
  return { group: sum(gRows), rest: sum(rRows) };
}

function effectOf(kind: EffectKind, mine: Float64Array, other: Float64Array): Float64Array {
  const out = new Float64Array(mine.length);
  for (let g = 0; g < out.length; g++) {
    out[g] =
      kind === 'log2FoldChange'
        ? Math.log2((Math.expm1(mine[g]!) + FOLD_EPS) / (Math.expm1(other[g]!) + FOLD_EPS))
        : mine[g]! - other[g]!;
  }
  return out;
}

/** Every gene's test and effect, for each predicted group against the other. */
export function differentialExpression(
  x: Float32Array,
  rows: number,
  cols: number,
  sensitive: ArrayLike<boolean | number>,
  opts: Pick<MarkerOptions, 'scale' | 'tieCorrect'>,
): DifferentialExpression {
  if (opts.scale !== 'counts' && opts.scale !== 'normalized') throw new RangeError(`scale must be 'counts' or 'normalized', got ${String(opts.scale)}`);
  const effect: EffectKind = opts.scale === 'counts' ? 'log2FoldChange' : 'meanDifference';
  const sums = rankSums(x, rows, cols, sensitive);
  const means = groupMeans(x, rows, cols, sensitive);
  const side = (which: 'group' | 'rest'): GroupStatistics => {
    // Each side's z from its own rank sum, as scanpy tests each group against the rest.
    const z = rankSumZ(sums, which, { tieCorrect: opts.tieCorrect ?? false });
    const { pValue, logPValue } = twoSidedP(z);
    const [mine, other] = which === 'group' ? [means.group, means.rest] : [means.rest, means.group];
    return { z, pValue, logPValue, pAdjusted: bonferroni(pValue, cols), effect: effectOf(effect, mine, other) };
  };
  return {
    effect,
    nSensitive: sums.nGroup,
    nResistant: sums.nRest,
    genesTested: cols,
    sensitive: side('group'),
    resistant: side('rest'),
  };
}

/**
 * A group's markers: genes up in it by the rank test (z > 0) and by the effect
 * (effect > minAbsLfc), with adjusted p < pMax; sorted like scanpy's ranking,
 * by z descending (ties, which scanpy leaves in no defined order, by gene
 * index); the first `top`.
 *
 * Requiring z > 0 as well as the effect keeps out the genes on which the two
 * disagree (more cells expressing in one group, a higher mean in the other):
 * scanpy's table filtered by p and fold change alone would list such a gene
 * under the group with the higher mean, below every gene with z > 0.
 */
export function selectMarkers(
  genes: readonly string[],
  s: GroupStatistics,
  opts: { pMax: number; minAbsLfc: number; top: number },
): MarkerGene[] {
  const picked: number[] = [];
  for (let g = 0; g < genes.length; g++) {
    if (s.z[g]! > 0 && s.pAdjusted[g]! < opts.pMax && s.effect[g]! > opts.minAbsLfc) picked.push(g);
  }
  picked.sort((a, b) => s.z[b]! - s.z[a]! || a - b);
  return picked.slice(0, opts.top).map((g) => ({
    gene: genes[g]!,
    logFoldChange: s.effect[g]!,
    statistic: s.z[g]!,
    pValue: s.pValue[g]!,
    pAdjusted: s.pAdjusted[g]!,
  }));
}

function checkOptions(opts: MarkerOptions): { pMax: number; minAbsLfc: number; top: number } {
  const pMax = opts.pMax ?? 0.05;
  const minAbsLfc = opts.minAbsLfc ?? 0.7;
  const top = opts.top ?? 10;
  if (!(pMax > 0 && pMax <= 1)) throw new RangeError(`pMax must be in (0, 1], got ${pMax}`);
  if (!(minAbsLfc >= 0) || !Number.isFinite(minAbsLfc)) throw new RangeError(`minAbsLfc must be finite and >= 0, got ${minAbsLfc}`);
  if (!Number.isInteger(top) || top < 0) throw new RangeError(`top must be an integer >= 0, got ${top}`);
  return { pMax, minAbsLfc, top };
}

/**
 * The SCTL paper's marker genes of the predicted groups (see selectMarkers).
 * `x` is row-major rows (cells) x cols (genes), `genes` the column names,
 * `sensitive` the predicted group of each row (predictedGroups). Both groups
 * must be non-empty: a RangeError names the empty one.
 */
export function markerGenes(
  x: Float32Array,
  rows: number,
  cols: number,
  genes: readonly string[],
  sensitive: ArrayLike<boolean | number>,
  opts: MarkerOptions,
): MarkerResult {
  if (genes.length !== cols) throw new RangeError(`${genes.length} gene names for ${cols} columns`);
  const limits = checkOptions(opts);
  if (sensitive.length === rows) {
    let n = 0;
    for (let r = 0; r < rows; r++) if (sensitive[r]) n++;
    // Said in the caller's terms; the rank-sum test would say "group" and "rest".
    if (n === 0 || n === rows) {
      throw new RangeError(
        `marker genes need both predicted groups non-empty: ${n} of ${rows} cells predicted sensitive` +
          (rows > 0 && n === 0 ? ' (all scores at or below the median: a constant predictor?)' : ''),
      );
    }
  }
  const de = differentialExpression(x, rows, cols, sensitive, opts);
  return {
    sensitive: selectMarkers(genes, de.sensitive, limits),
    resistant: selectMarkers(genes, de.resistant, limits),
    effect: de.effect,
    nSensitive: de.nSensitive,
    nResistant: de.nResistant,
    genesTested: de.genesTested,
  };
}
