/**
 * Cuts an epoch's row order into consecutive batches of `batchSize`. A last
 * batch of a single row is dropped: BatchNorm cannot normalise one sample
 * (its batch variance is zero), and torch raises on it in training mode.
 */
export function cutBatches(order: Int32Array, batchSize: number): Int32Array[] {
  const batches: Int32Array[] = [];
  for (let start = 0; start < order.length; start += batchSize) {
    const end = Math.min(start + batchSize, order.length);
    if (end - start >= 2) batches.push(order.slice(start, end));
  }
  return batches;
}
