/**
 * Interpretability statistics of a trained model's cell predictions (SCTL
 * paper, section 3.4): the median split of the cells into predicted sensitive
 * and resistant groups, and the marker genes of each group by a Wilcoxon
 * rank-sum test with Bonferroni correction. Pure functions on typed arrays.
 */
export { predictedGroups, type PredictedGroups } from './groups.js';
export { rankSums, rankSumZ, rankSumTest, twoSidedP, type RankSums, type RankSumOptions, type RankSumResult } from './rank-sum.js';
export {
  bonferroni,
  differentialExpression,
  groupMeans,
  markerGenes,
  selectMarkers,
  type DifferentialExpression,
  type EffectKind,
  type GroupStatistics,
  type MarkerOptions,
  type MarkerResult,
} from './markers.js';
export { interpret } from './interpretation.js';
