import type { Rng } from '../../core/rng.js';
import { cutBatches } from './batches.js';
import { rowsByClass, type BulkMatrix } from './matrix.js';
import type { BulkSampler } from './types.js';

/**
 * PyTorch's WeightedRandomSampler(weights = 1 / class frequency,
 * num_samples = rows, replacement = True): each epoch draws `rows` indices
 * with replacement, then cuts them into batches in draw order (the draws are
 * already independent, so no shuffle is needed).
 *
 * With those weights every class present carries the same total weight, so a
 * draw is, exactly in distribution: a class uniformly among the classes
 * present, then a row uniformly within it. That costs O(1) per draw instead
 * of a search over cumulative weights. One class alone is drawn uniformly.
 */
export function createWeightedSampler(data: BulkMatrix, batchSize: number): BulkSampler {
  const { x, y, rows, cols } = data;
  const { negatives, positives } = rowsByClass(y, rows);
  const classes = [negatives, positives].filter((members) => members.length > 0);
  return {
    x,
    y,
    rows,
    cols,
    epoch(rng: Rng): Int32Array[] {
      const draws = new Int32Array(rows);
      for (let d = 0; d < rows; d++) {
        const members = classes[classes.length === 1 ? 0 : rng.int(0, 1)];
        draws[d] = members[rng.int(0, members.length - 1)];
      }
      return cutBatches(draws, batchSize);
    },
  };
}
