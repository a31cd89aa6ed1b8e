import type { SearchSpace } from './search-space.js';
import { SAMPLING_STRATEGIES } from '../../core/model-specs.js';

/**
 * Spaces a sweep file can name instead of spelling out. The SCTL ones follow
 * the paper's tuning protocol (SCIENCE.md): its sets give the 720-point grid.
 */
const sctlPaper: SearchSpace = {
  params: [
    ['l1', { type: 'categorical', choices: [0.1, 0.5, 1, 2] }],
    ['l2', { type: 'categorical', choices: [0.5, 1, 10] }],
    ['l3', { type: 'categorical', choices: [0.5, 1, 5, 15] }],
    ['depth', { type: 'int', low: 2, high: 6, log: false, step: 1 }],
    ['sampling', { type: 'categorical', choices: SAMPLING_STRATEGIES }],
  ],
};

/** The same dimensions with continuous, log-scaled loss weights spanning the paper's sets. */
const sctlLog: SearchSpace = {
  params: [
    ['l1', { type: 'float', low: 0.05, high: 4, log: true }],
    ['l2', { type: 'float', low: 0.25, high: 20, log: true }],
    ['l3', { type: 'float', low: 0.25, high: 30, log: true }],
    ['depth', { type: 'int', low: 2, high: 6, log: false, step: 1 }],
    ['sampling', { type: 'categorical', choices: SAMPLING_STRATEGIES }],
  ],
};

/** What the no-transfer baseline can tune. */
const bulkMlp: SearchSpace = {
  params: [
    ['depth', { type: 'int', low: 2, high: 6, log: false, step: 1 }],
    ['sampling', { type: 'categorical', choices: SAMPLING_STRATEGIES }],
    ['lr', { type: 'float', low: 1e-4, high: 1e-2, log: true }],
  ],
};

export const BUILTIN_SPACES: Readonly<Record<string, SearchSpace>> = {
  'sctl-paper': sctlPaper,
  'sctl-log': sctlLog,
  'bulk-mlp': bulkMlp,
};
