import { describe } from '../../core/errors.js';
import type { H5File, NumberArray } from './h5-file.js';
import { FLOAT32_MAX } from './types.js';

/**
 * AnnData's `X` into one dense row-major Float32Array (rows = obs, columns =
 * var), which is what the rest of the data layer holds. Three layouts:
 * - dense: a 2-D dataset;
 * - CSR: a group with `data`, `indices`, `indptr`, attributes
 *   `encoding-type: csr_matrix` and `shape` (older anndata: `h5sparse_format:
 *   csr`, `h5sparse_shape`);
 * - CSC: the same with `csc_matrix`; `indices` are then row numbers.
 * Everything is read in ranges of about a million values, so the memory is
 * the dense result plus a few MB whatever the file's size or dtype, and every
 * value is checked on the way: finite, and not negative for counts.
 */

const CHUNK = 1 << 20;

export interface MatrixNames {
  /** Row names (obs index), for messages. */
  ids: readonly string[];
  /** Column names (gene names), for messages. */
  genes: readonly string[];
}

export interface ReadMatrixOptions {
  /** Reject negative values (scale: counts). */
  counts: boolean;
}

/** `X` as a dense Float32Array of ids.length x genes.length; its shape must be exactly that. */
export function readX(file: H5File, names: MatrixNames, opts: ReadMatrixOptions): Float32Array {
  const kind = file.kind('X');
  if (kind === undefined) {
    const layers = file.kind('layers') === 'group' ? file.keys('layers') : [];
    const hint = layers.length > 0 ? `; the file has layers ${layers.map((l) => describe(l)).join(', ')}, but the expression matrix is read from X` : '';
    throw file.error('X', `expected the expression matrix X, but got none${hint}`);
  }
  const rows = names.ids.length;
  const cols = names.genes.length;
  const check = new ValueCheck(file, names, opts.counts);
  if (kind === 'dataset') {
    requireShape(file, 'X', file.shape('X'), rows, cols);
    return readDense(file, rows, cols, check);
  }
  const encoding = file.attrString('X', 'encoding-type') ?? file.attrString('X', 'h5sparse_format');
  const layout = encoding === 'csr_matrix' || encoding === 'csr' ? 'csr' : encoding === 'csc_matrix' || encoding === 'csc' ? 'csc' : undefined;
  if (layout === undefined) {
    throw file.error('X', `expected X as a dense dataset or a sparse group with encoding-type csr_matrix or csc_matrix, but got a group with encoding-type ${describe(encoding)}`);
  }
  const shape = file.attr('X', 'shape') ?? file.attr('X', 'h5sparse_shape');
  requireShape(file, 'X', shapeNumbers(shape), rows, cols);
  return readSparse(file, layout, rows, cols, check);
}

function readDense(file: H5File, rows: number, cols: number, check: ValueCheck): Float32Array {
  const values = new Float32Array(rows * cols);
  const block = Math.max(1, Math.floor(CHUNK / Math.max(1, cols)));
  for (let start = 0; start < rows; start += block) {
    const end = Math.min(rows, start + block);
    const chunk = file.readNumbers('X', start, end);
    const base = start * cols;
    for (let i = 0; i < chunk.length; i++) {
      const value = chunk[i] as number;
      // As float32 (how it is kept), so a float64 X beyond its range is caught too. One comparison
      // catches NaN and both infinities (v - v is NaN for them), and the rare negative count.
      const kept = Math.fround(value);
      if (kept - kept !== 0 || (check.counts && value < 0)) check.fail('X', base + i, value, cols);
      values[base + i] = kept;
    }
  }
  return values;
}

/**
 * CSR and CSC in one pass over `data` and `indices`: `indptr` splits them by
 * major axis (rows for CSR, columns for CSC), `indices` gives the minor index.
 * Duplicate entries are summed, as scipy's toarray() does.
 */
function readSparse(file: H5File, layout: 'csr' | 'csc', rows: number, cols: number, check: ValueCheck): Float32Array {
  const major = layout === 'csr' ? rows : cols;
  const minor = layout === 'csr' ? cols : rows;
  const indptr = file.readNumbers('X/indptr');
  if (indptr.length !== major + 1) {
    throw file.error('X/indptr', `expected ${major + 1} entries (one more than the ${layout === 'csr' ? 'rows' : 'columns'} of X), but got ${indptr.length}`);
  }
  const nnz = file.shape('X/data')[0] ?? 0;
  const nIndices = file.shape('X/indices')[0] ?? 0;
  if (nIndices !== nnz) throw file.error('X/indices', `expected as many entries as X/data (${nnz}), but got ${nIndices}`);
  if (indptr[0] !== 0 || indptr[major] !== nnz) {
    throw file.error('X/indptr', `expected to start at 0 and end at the length of X/data (${nnz}), but got ${indptr[0]} and ${indptr[major]}`);
  }
  for (let m = 0; m < major; m++) {
    if ((indptr[m + 1] as number) < (indptr[m] as number)) {
      throw file.error('X/indptr', `expected non-decreasing offsets, but got ${indptr[m]} then ${indptr[m + 1]} at position ${m + 1}`);
    }
  }

  const values = new Float32Array(rows * cols);
  let m = 0; // the current major index: the entry at position p belongs to it while p < indptr[m + 1]
  for (let start = 0; start < nnz; start += CHUNK) {
    const end = Math.min(nnz, start + CHUNK);
    const data: NumberArray = file.readNumbers('X/data', start, end);
    const indices: NumberArray = file.readNumbers('X/indices', start, end);
    for (let i = 0; i < data.length; i++) {
      const p = start + i;
      while (p >= (indptr[m + 1] as number)) m++;
      const k = indices[i] as number;
      if (!(k >= 0 && k < minor)) {
        throw file.error('X/indices', `expected ${layout === 'csr' ? 'column' : 'row'} indices from 0 to ${minor - 1}, but got ${k} at position ${p}`);
      }
      const at = layout === 'csr' ? m * cols + k : k * cols + m;
      const value = data[i] as number;
      // Duplicate entries are summed, so the sum is what must fit in float32.
      const kept = Math.fround((values[at] as number) + value);
      if (kept - kept !== 0 || (check.counts && value < 0)) check.fail('X/data', at, value, cols);
      values[at] = kept;
    }
  }
  return values;
}

function shapeNumbers(shape: unknown): number[] | undefined {
  if (ArrayBuffer.isView(shape) || Array.isArray(shape)) return Array.from(shape as ArrayLike<number | bigint>, Number);
  return undefined;
}

function requireShape(file: H5File, path: string, shape: number[] | undefined, rows: number, cols: number): void {
  if (shape === undefined) throw file.error(path, 'expected a shape attribute (rows, columns) on the sparse matrix, but got none');
  if (shape.length === 2 && shape[0] === rows && shape[1] === cols) return;
  const got = shape.length === 2 ? `${shape[0]} x ${shape[1]}` : `a ${shape.length}-D array (${shape.join(', ')})`;
  throw file.error(path, `expected X of ${rows} x ${cols} (one row per obs entry, one column per var entry), but got ${got}`);
}

/** Says which value is bad, by sample id and gene name, at the dataset it was read from. */
class ValueCheck {
  constructor(
    private readonly file: H5File,
    private readonly names: MatrixNames,
    readonly counts: boolean,
  ) {}

  fail(path: string, flatIndex: number, value: number, cols: number): never {
    const row = Math.floor(flatIndex / cols);
    const where = `sample ${describe(this.names.ids[row])}, gene ${describe(this.names.genes[flatIndex - row * cols])}`;
    if (value - value !== 0) throw this.file.error(path, `expected finite values, but got ${value} for ${where}`);
    // Seven significant digits: a float32 read as a double would otherwise print as -0.12800000607967377.
    if (this.counts && value < 0) throw this.file.error(path, `expected non-negative counts (scale: counts), but got ${Number(value.toPrecision(7))} for ${where}`);
    throw this.file.error(path, `expected values within float32 range (magnitude at most ${FLOAT32_MAX.toPrecision(3)}${path === 'X/data' ? ', duplicate entries summed' : ''}), but got ${value} for ${where}`);
  }
}
