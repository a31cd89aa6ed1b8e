import type { Rng } from '../../core/rng.js';
import { cutBatches } from './batches.js';
import type { BulkMatrix } from './matrix.js';
import type { BulkSampler } from './types.js';

/**
 * No resampling: every epoch is a fresh permutation of all rows, cut into
 * batches (PyTorch's DataLoader with shuffle=True). The matrix is used as
 * given, not copied.
 */
export function createNoneSampler(data: BulkMatrix, batchSize: number): BulkSampler {
  const { x, y, rows, cols } = data;
  return {
    x,
    y,
    rows,
    cols,
    epoch(rng: Rng): Int32Array[] {
      const order = new Int32Array(rows);
      for (let i = 0; i < rows; i++) order[i] = i;
      return cutBatches(rng.shuffle(order), batchSize);
    },
  };
}
