import type { Rng } from '../../../core/rng.js';

/**
 * The cell batches that pair with the bulk batches, one per step: each pass
 * over the cells is a fresh shuffle cut into batches of `batchSize`; the
 * leftover cells of a pass (fewer than a batch) are skipped, so every batch
 * has the same size, and they come up in another pass's shuffle. With fewer
 * cells than `batchSize`, every batch is all the cells (what a PyTorch
 * DataLoader gives), in a fresh order.
 */
export class CellBatches {
  readonly batchSize: number;
  private order: Int32Array;
  private position: number;

  constructor(
    readonly rows: number,
    batchSize: number,
    private readonly rng: Rng,
  ) {
    if (!Number.isInteger(rows) || rows < 2) throw new RangeError(`CellBatches: expected at least 2 cells, but got ${rows}`);
    if (!Number.isInteger(batchSize) || batchSize < 2) throw new RangeError(`CellBatches: expected a batch size >= 2, but got ${batchSize}`);
    this.batchSize = Math.min(batchSize, rows);
    this.order = Int32Array.from({ length: rows }, (_, i) => i);
    this.position = rows;
  }

  /** Row indices of the next batch. */
  next(): Int32Array {
    if (this.position + this.batchSize > this.rows) {
      this.rng.shuffle(this.order);
      this.position = 0;
    }
    const batch = this.order.slice(this.position, this.position + this.batchSize);
    this.position += this.batchSize;
    return batch;
  }
}
