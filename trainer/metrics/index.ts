/** Ranking metrics of the target predictions, defined as scikit-learn 1.2 defines them. */
export { rocAuc } from './roc-auc.js';
export { averagePrecision } from './average-precision.js';
