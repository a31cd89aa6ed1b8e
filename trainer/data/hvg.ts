/**
 * Highly variable genes by normalised dispersion, the Seurat (v1/v2) method
 * as scanpy implements it in `highly_variable_genes(flavor='seurat')`:
 *
 * 1. the input is log-normalised (log1p) expression; undo the log: e = expm1(x);
 * 2. per gene, mean and variance (unbiased, n - 1) of e; a zero mean becomes
 *    1e-12; dispersion = variance / mean; a zero dispersion is undefined (NaN);
 *    then log(dispersion) and log1p(mean);
 * 3. cut the log means into 20 equal-width bins (pandas' `cut`: the lowest
 *    edge moved down by 0.1% of the range, intervals closed on the right);
 * 4. within each bin, normalised dispersion = (dispersion - bin mean) / bin
 *    standard deviation (n - 1), over the genes with a defined dispersion;
 *    a bin with a single such gene gives it 1, as scanpy does;
 * 5. keep the n genes of highest normalised dispersion.
 *
 * Step 5 differs from scanpy in two documented ways, both only at the cut-off:
 * exactly n genes are kept, ties being broken by gene order (scanpy keeps every
 * gene tied with the n-th), and genes without a normalised dispersion
 * (undetected or constant in the cells) come last (scanpy counts them as 0, so
 * it adds all of them when the cut-off is at or below 0). Above the cut-off
 * the two select the same genes; tests/fixtures/h5ad/hvg_reference.json holds
 * scanpy's figures for a test matrix.
 */

export const HVG_BINS = 20;

export interface Dispersion {
  /** log1p of the mean of expm1(x), per gene. */
  means: Float64Array;
  /** log of variance / mean, NaN where undefined. */
  dispersions: Float64Array;
  /** Dispersion normalised within its mean bin; NaN where undefined. */
  normalized: Float64Array;
}

/** Step 1-4 for the row-major rows x width matrix `x` of log-normalised values. */
export function seuratDispersion(x: Float32Array, rows: number, width: number, bins = HVG_BINS): Dispersion {
  const sum = new Float64Array(width);
  const sumSq = new Float64Array(width);
  for (let r = 0; r < rows; r++) {
    const base = r * width;
    for (let c = 0; c < width; c++) {
      // scanpy undoes the log in the matrix's float32 and squares in float32 before averaging in float64: do the same, so near-ties rank alike.
      const e = Math.fround(Math.expm1(x[base + c] as number));
      sum[c] = (sum[c] as number) + e;
      sumSq[c] = (sumSq[c] as number) + Math.fround(e * e);
    }
  }
  const means = new Float64Array(width);
  const dispersions = new Float64Array(width);
  for (let c = 0; c < width; c++) {
    let mean = (sum[c] as number) / rows;
    const variance = ((sumSq[c] as number) / rows - mean * mean) * (rows / (rows - 1));
    if (mean === 0) mean = 1e-12;
    const dispersion = variance / mean;
    dispersions[c] = dispersion === 0 ? Number.NaN : Math.log(dispersion);
    means[c] = Math.log1p(mean);
  }
  return { means, dispersions, normalized: normalizeInBins(means, dispersions, bins) };
}

/** The bin of each mean, as pandas' `cut(means, bins)` numbers them (0-based). */
export function meanBins(means: Float64Array, bins: number): Int32Array {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const m of means) {
    if (m < lo) lo = m;
    if (m > hi) hi = m;
  }
  // numpy's linspace: edge i = i * step + start, the last edge exactly the stop.
  const edges = new Float64Array(bins + 1);
  const flat = lo === hi;
  if (flat) {
    lo -= lo !== 0 ? 0.001 * Math.abs(lo) : 0.001;
    hi += hi !== 0 ? 0.001 * Math.abs(hi) : 0.001;
  }
  const step = (hi - lo) / bins;
  for (let i = 0; i < bins; i++) edges[i] = i * step + lo;
  edges[bins] = hi;
  // pandas widens a flat range before binning, otherwise it lowers the first edge so that the minimum falls inside.
  if (!flat) edges[0] = (edges[0] as number) - (hi - lo) * 0.001;
  const out = new Int32Array(means.length);
  means.forEach((m, g) => {
    // searchsorted(side='left'): the first edge >= m; the bin is the one before it.
    let i = 0;
    while (i < bins && (edges[i] as number) < m) i++;
    out[g] = Math.max(0, i - 1);
  });
  return out;
}

function normalizeInBins(means: Float64Array, dispersions: Float64Array, bins: number): Float64Array {
  const bin = meanBins(means, bins);
  const count = new Float64Array(bins);
  const total = new Float64Array(bins);
  for (let g = 0; g < means.length; g++) {
    const d = dispersions[g] as number;
    if (Number.isNaN(d)) continue;
    const b = bin[g] as number;
    count[b] = (count[b] as number) + 1;
    total[b] = (total[b] as number) + d;
  }
  const binMean = new Float64Array(bins);
  for (let b = 0; b < bins; b++) binMean[b] = (total[b] as number) / (count[b] as number);
  const squares = new Float64Array(bins);
  for (let g = 0; g < means.length; g++) {
    const d = dispersions[g] as number;
    if (Number.isNaN(d)) continue;
    const b = bin[g] as number;
    const diff = d - (binMean[b] as number);
    squares[b] = (squares[b] as number) + diff * diff;
  }
  const normalized = new Float64Array(means.length);
  for (let g = 0; g < means.length; g++) {
    const b = bin[g] as number;
    const n = count[b] as number;
    let center = binMean[b] as number;
    let spread = Math.sqrt((squares[b] as number) / (n - 1));
    if (!(n > 1)) {
      // scanpy: a bin whose standard deviation is undefined (one gene) gets std = its mean and mean = 0, so that gene's value is 1.
      spread = center;
      center = 0;
    }
    normalized[g] = ((dispersions[g] as number) - center) / spread;
  }
  return normalized;
}

/** Step 5: the column indexes of the `n` highest normalised dispersions, in column order. */
export function topDispersion(normalized: Float64Array, n: number): Int32Array {
  const order = Array.from(normalized.keys());
  const key = (g: number): number => {
    const v = normalized[g] as number;
    return Number.isNaN(v) ? Number.NEGATIVE_INFINITY : v;
  };
  order.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    if (ka !== kb) return kb > ka ? 1 : -1;
    return a - b; // ties: gene order, so the selection never depends on the sort's implementation
  });
  return Int32Array.from(order.slice(0, Math.min(n, order.length))).sort();
}
