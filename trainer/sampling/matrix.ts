/** The bulk training set a sampler draws from: row-major rows x cols, labels 0/1. */
export interface BulkMatrix {
  readonly x: Float32Array;
  readonly y: Uint8Array;
  readonly rows: number;
  readonly cols: number;
}

/** Row indices of each class, in row order. */
export function rowsByClass(y: Uint8Array, rows: number): { negatives: Int32Array; positives: Int32Array } {
  let positives = 0;
  for (let i = 0; i < rows; i++) positives += y[i];
  const neg = new Int32Array(rows - positives);
  const pos = new Int32Array(positives);
  let n = 0;
  let p = 0;
  for (let i = 0; i < rows; i++) {
    if (y[i] === 1) pos[p++] = i;
    else neg[n++] = i;
  }
  return { negatives: neg, positives: pos };
}
