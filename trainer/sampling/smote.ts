import type { Rng } from '../../core/rng.js';
import { nearestNeighbours } from './knn.js';
import { rowsByClass, type BulkMatrix } from './matrix.js';
import { createNoneSampler } from './none.js';
import type { BulkSampler } from './types.js';

/**
 * SMOTE (Chawla et al. 2002) as imbalanced-learn's SMOTE(k_neighbors=k) with
 * the default "auto" strategy: synthetic minority rows are added until both
 * classes have as many rows as the majority, then epochs shuffle the augmented
 * rows like `none`. The oversampling happens once, at creation, with `rng`.
 */
export function createSmoteSampler(data: BulkMatrix, batchSize: number, k: number, rng: Rng): BulkSampler {
  return createNoneSampler(smote(data, k, rng), batchSize);
}

/**
 * The augmented matrix: the original rows first (copied, untouched), then the
 * synthetic ones. Each synthetic row: a minority row a drawn uniformly, one of
 * its k nearest minority neighbours b drawn uniformly, and a + t (b - a) with t
 * uniform in [0, 1). With k >= the minority size every other minority row is
 * a neighbour; a minority of one row is duplicated. Balanced data, and data
 * with a single class, get no synthetic rows and come back as given (not copied).
 */
export function smote(data: BulkMatrix, k: number, rng: Rng): BulkMatrix {
  const { x, y, rows, cols } = data;
  const { negatives, positives } = rowsByClass(y, rows);
  const minorityLabel = positives.length < negatives.length ? 1 : 0;
  const minority = minorityLabel === 1 ? positives : negatives;
  const majority = minorityLabel === 1 ? negatives : positives;
  const synthetic = minority.length === 0 ? 0 : majority.length - minority.length;

  if (synthetic === 0) return data;

  const outRows = rows + synthetic;
  const outX = new Float32Array(outRows * cols);
  outX.set(x.subarray(0, rows * cols));
  const outY = new Uint8Array(outRows);
  outY.set(y.subarray(0, rows));
  outY.fill(minorityLabel, rows);

  const kEff = Math.min(k, minority.length - 1);
  const neighbours = kEff > 0 ? nearestNeighbours(x, cols, minority, kEff) : new Int32Array(0);
  for (let s = 0; s < synthetic; s++) {
    const pick = rng.int(0, minority.length - 1);
    const a = minority[pick] * cols;
    const dst = (rows + s) * cols;
    if (kEff === 0) {
      outX.copyWithin(dst, a, a + cols);
      continue;
    }
    const b = minority[neighbours[pick * kEff + rng.int(0, kEff - 1)]] * cols;
    const t = rng.float();
    for (let c = 0; c < cols; c++) {
      const va = x[a + c];
      outX[dst + c] = va + t * (x[b + c] - va);
    }
  }
  return { x: outX, y: outY, rows: outRows, cols };
}
