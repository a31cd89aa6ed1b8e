import type { Rng } from '../../core/rng.js';

/**
 * Draws the bulk mini-batches of one epoch. SMOTE adds synthetic rows, so a
 * sampler owns its (possibly augmented) matrix and hands out row indices into it.
 */
export interface BulkSampler {
  /** Row-major rows x cols; the original rows first, synthetic ones after. */
  readonly x: Float32Array;
  readonly y: Uint8Array;
  readonly rows: number;
  readonly cols: number;
  /**
   * The batches of one epoch as row indices. Every batch has at least 2 rows
   * (BatchNorm needs two); a last batch of 1 row is dropped.
   */
  epoch(rng: Rng): Int32Array[];
}
