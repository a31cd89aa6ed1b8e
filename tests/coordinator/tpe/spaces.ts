import type { SearchSpace } from '../../../coordinator/space/search-space.js';

/** Every kind of parameter: log and plain floats, a stepped float, log and stepped ints, a categorical. */
export const mixed: SearchSpace = {
  params: [
    ['lr', { type: 'float', low: 1e-4, high: 1e-1, log: true }],
    ['x', { type: 'float', low: -2, high: 2, log: false }],
    ['dropout', { type: 'float', low: 0, high: 0.5, log: false, step: 0.1 }],
    ['width', { type: 'int', low: 16, high: 512, log: true, step: 1 }],
    ['depth', { type: 'int', low: 2, high: 6, log: false, step: 2 }],
    ['sampling', { type: 'categorical', choices: ['none', 'weighted', 'smote'] }],
  ],
};
