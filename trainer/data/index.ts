/**
 * The trainer's data layer: load a dataset directory (text matrices or
 * AnnData .h5ad files), validate it, prepare it for a model, and generate
 * synthetic datasets with a known answer.
 * docs/datasets.md and docs/synthetic-data.md describe the formats and the model.
 */
export type { Dataset, DomainMatrix, PreparedData, PreparedDomain, PrepareOptions, PreprocessStep, ValueScale } from './types.js';
export { loadDataset } from './dataset.js';
export { readH5ad, type ReadH5adOptions, type H5adDomain } from './h5ad-reader.js';
export { validateDataset, sharedGenes } from './validate.js';
export { prepare } from './preprocess.js';
export { loadPrepared } from './load-prepared.js';
export {
  writeSyntheticDataset,
  PAPER_SHAPES,
  SHAPE_NAMES,
  type PaperShape,
  type ShapeName,
  type SyntheticOptions,
  type SyntheticSummary,
} from './synthetic.js';
export { SCENARIO_NAMES, type SyntheticScenario } from './synthetic-model.js';
