import assert from 'node:assert/strict';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { DataError } from '../../../core/errors.js';
import { loadDataset } from '../../../trainer/data/dataset.js';
import { readH5ad, type ReadH5adOptions } from '../../../trainer/data/h5ad-reader.js';
import { rejectsWithDataError, tempDir, writeFiles } from './helpers.js';
import { writeH5ad, type H5adSpec } from './h5ad-writer.js';

// Every malformed .h5ad ends in one DataError naming the file and the
// dataset path inside it (as the error's field). Each case starts from a
// valid file and breaks one thing; the first test shows the valid one reads.

const FIXTURES = fileURLToPath(new URL('../../fixtures/h5ad/', import.meta.url));

let root: string;
let cleanup: () => Promise<void>;
let counter = 0;
before(async () => {
  ({ dir: root, cleanup } = await tempDir('cellsweep-h5ad-bad-'));
});
after(async () => cleanup());

const IDS = ['c1', 'c2', 'c3'];
const GENES = ['A', 'B', 'C'];
const VALID: H5adSpec = {
  obsNames: IDS,
  varNames: GENES,
  X: { dense: Float32Array.from([1, 0, 2, 0, 3, 4, 5, 6, 0]), shape: [3, 3] },
  obs: { response: [1, 0, 1], kind: ['T', 'B', 'T'] },
};
const COUNTS: ReadH5adOptions = { scale: 'counts', labelsColumn: 'response' };

/** A new .h5ad file from VALID with `change` applied. */
async function h5ad(change: Partial<H5adSpec> = {}, name = 'cells.h5ad'): Promise<string> {
  const path = join(root, `case${++counter}-${name}`);
  await writeH5ad(path, { ...VALID, ...change });
  return path;
}

const csr = (data: number[], indices: number[], indptr: number[], shape: [number, number] = [3, 3]): H5adSpec['X'] => ({
  csr: { data: Float32Array.from(data), indices: Int32Array.from(indices), indptr: Int32Array.from(indptr) },
  shape,
});

test('the valid file reads (so every failure below is caused by the one change)', async () => {
  const got = await readH5ad(await h5ad(), COUNTS);
  assert.deepEqual(got.ids, IDS);
  assert.deepEqual(Array.from(got.labels ?? []), [1, 0, 1]);
  assert.deepEqual(Array.from(got.values), [1, 0, 2, 0, 3, 4, 5, 6, 0]);
  const sparse = await readH5ad(await h5ad({ X: csr([1, 2, 3, 4, 5, 6], [0, 2, 1, 2, 0, 1], [0, 2, 4, 6]) }), COUNTS);
  assert.deepEqual(Array.from(sparse.values), [1, 0, 2, 0, 3, 4, 5, 6, 0]);
});

test('not an HDF5 file: text, empty', async () => {
  const text = join(root, 'text.h5ad');
  await writeFile(text, 'cell,A,B\nc1,1,2\n');
  await rejectsWithDataError(readH5ad(text, COUNTS), {
    file: 'text.h5ad',
    detail: 'expected an HDF5 file (AnnData .h5ad), but got a file starting with "cell,A,B.c1,1,2." without the HDF5 signature',
  });
  const empty = join(root, 'empty.h5ad');
  await writeFile(empty, '');
  await rejectsWithDataError(readH5ad(empty, COUNTS), {
    file: 'empty.h5ad',
    detail: 'expected an HDF5 file (AnnData .h5ad), but got an empty file without the HDF5 signature',
  });
});

test('a truncated file says so, with what HDF5 found', async () => {
  const whole = await readFile(join(FIXTURES, 'csr.h5ad'));
  const path = join(root, 'truncated.h5ad');
  await writeFile(path, whole.subarray(0, Math.floor(whole.length / 2)));
  await rejectsWithDataError(readH5ad(path, COUNTS), {
    file: 'truncated.h5ad',
    detail: new RegExp(
      `truncated\\.h5ad: expected a readable HDF5 file, but got one HDF5 cannot open \\(truncated file: eof = ${Math.floor(whole.length / 2)}, .*stored_eof = ${whole.length}\\): the file is probably truncated or corrupt`,
    ),
  });
});

test('a file corrupt inside is a DataError at the object that cannot be read, and later files still read', async () => {
  const whole = await readFile(join(FIXTURES, 'csr.h5ad'));
  // Zeroing object headers of the fixture's groups: at 4000-8000 HDF5 reports an error; at 2000-4000 it aborts
  // inside the WebAssembly module (which prints "Aborted(...)" to stderr), after which a fresh instance is used.
  for (const [from, to] of [
    [4000, 8000],
    [2000, 4000],
  ] as const) {
    const path = join(root, `corrupt-${from}.h5ad`);
    await writeFile(path, Buffer.from(whole).fill(0x5a, from, to));
    await assert.rejects(readH5ad(path, { scale: 'counts', labelsColumn: 'sensitive' }), (err: unknown) => {
      assert.ok(err instanceof DataError, String(err));
      assert.ok(err.place.file?.endsWith(`corrupt-${from}.h5ad`));
      assert.ok(err.place.field !== undefined, 'names the dataset path inside the file');
      assert.match(err.message, /an error from HDF5 \(.+\): the file is probably corrupt/);
      return true;
    });
    const fine = await readH5ad(join(FIXTURES, 'csr.h5ad'), { scale: 'counts', labelsColumn: 'sensitive' });
    assert.equal(fine.ids.length, 8);
    assert.equal(fine.values[0], 5);
  }
});

test('missing X, and X of an unknown encoding', async () => {
  await rejectsWithDataError(readH5ad(await h5ad({ X: undefined as never, layers: ['counts'] }), COUNTS), {
    file: 'cells.h5ad',
    field: 'X',
    detail: 'expected the expression matrix X, but got none; the file has layers "counts", but the expression matrix is read from X',
  });
  const sparse = csr([1], [0], [0, 1, 1, 1]);
  await rejectsWithDataError(readH5ad(await h5ad({ X: { ...(sparse as object), encoding: 'coo_matrix' } as H5adSpec['X'] }), COUNTS), {
    file: 'cells.h5ad',
    field: 'X',
    detail: 'expected X as a dense dataset or a sparse group with encoding-type csr_matrix or csc_matrix, but got a group with encoding-type "coo_matrix"',
  });
});

test('a missing obs column lists the columns there are; a missing gene column too', async () => {
  await rejectsWithDataError(readH5ad(await h5ad(), { ...COUNTS, labelsColumn: 'respons' }), {
    file: 'cells.h5ad',
    field: 'obs/respons',
    detail: 'expected an obs column "respons", but got none; the obs columns are "response", "kind"',
  });
  await rejectsWithDataError(readH5ad(await h5ad(), { ...COUNTS, geneColumn: 'symbol' }), {
    file: 'cells.h5ad',
    field: 'var/symbol',
    detail: 'expected a var column "symbol", but got none; the var columns are none',
  });
});

test('labels that are not 0/1 without a mapping, and mappings that do not fit the column', async () => {
  await rejectsWithDataError(readH5ad(await h5ad(), { ...COUNTS, labelsColumn: 'kind' }), {
    file: 'cells.h5ad',
    field: 'obs/kind',
    detail: 'expected labels 0 or 1, or a sensitive_value in the manifest naming the value that means sensitive, but got "T" for "c1"; the column holds "B", "T"',
  });
  await rejectsWithDataError(readH5ad(await h5ad({ obs: { response: [1, 2, 0] } }), COUNTS), {
    file: 'cells.h5ad',
    field: 'obs/response',
    detail: 'expected labels 0 or 1, or a sensitive_value in the manifest naming the value that means sensitive, but got 2 for "c2"; the column holds "0", "1", "2"',
  });
  await rejectsWithDataError(readH5ad(await h5ad(), { ...COUNTS, labelsColumn: 'kind', sensitiveValue: 't' }), {
    file: 'cells.h5ad',
    field: 'obs/kind',
    detail: 'expected the sensitive_value "t" among the column\'s values, but got only "B", "T"',
  });
  await rejectsWithDataError(readH5ad(await h5ad({ obs: { response: ['sens', 'res', 'unknown'] } }), { ...COUNTS, sensitiveValue: 'sens' }), {
    file: 'cells.h5ad',
    field: 'obs/response',
    detail: 'expected two values ("sens" for sensitive and one for resistant), but got 3: "res", "sens", "unknown"',
  });
  // A categorical code of -1 is a missing value.
  await rejectsWithDataError(readH5ad(await h5ad({ obs: { response: { categories: ['res', 'sens'], codes: [1, -1, 0] } } }), { ...COUNTS, sensitiveValue: 'sens' }), {
    file: 'cells.h5ad',
    field: 'obs/response',
    detail: 'expected a label for every sample, but got a missing value for "c2"',
  });
  // So is a masked entry of a nullable integer column; unmasked, the column reads.
  await rejectsWithDataError(readH5ad(await h5ad({ obs: { response: { values: [1, 0, 1], mask: [false, false, true] } } }), COUNTS), {
    file: 'cells.h5ad',
    field: 'obs/response',
    detail: 'expected a label for every sample, but got a missing value for "c3"',
  });
  const nullable = await readH5ad(await h5ad({ obs: { response: { values: [1, 0, 1], mask: [false, false, false] } } }), COUNTS);
  assert.deepEqual(Array.from(nullable.labels ?? []), [1, 0, 1]);
  // With the mapping, the same column reads.
  const mapped = await readH5ad(await h5ad(), { ...COUNTS, labelsColumn: 'kind', sensitiveValue: 'T' });
  assert.deepEqual(Array.from(mapped.labels ?? []), [1, 0, 1]);
});

test('shapes that do not agree: X against obs and var, a labels column, CSR arrays', async () => {
  await rejectsWithDataError(readH5ad(await h5ad({ X: { dense: new Float32Array(6), shape: [3, 2] } }), COUNTS), {
    file: 'cells.h5ad',
    field: 'X',
    detail: 'expected X of 3 x 3 (one row per obs entry, one column per var entry), but got 3 x 2',
  });
  await rejectsWithDataError(readH5ad(await h5ad({ X: csr([1], [0], [0, 1, 1, 1], [4, 3]) }), COUNTS), {
    file: 'cells.h5ad',
    field: 'X',
    detail: 'expected X of 3 x 3 (one row per obs entry, one column per var entry), but got 4 x 3',
  });
  await rejectsWithDataError(readH5ad(await h5ad({ obs: { response: [1, 0] } }), COUNTS), {
    file: 'cells.h5ad',
    field: 'obs/response',
    detail: 'expected one value per obs row (3), but got 2',
  });
  await rejectsWithDataError(readH5ad(await h5ad({ X: csr([1, 2], [0, 1], [0, 1, 2]) }), COUNTS), {
    file: 'cells.h5ad',
    field: 'X/indptr',
    detail: 'expected 4 entries (one more than the rows of X), but got 3',
  });
  await rejectsWithDataError(readH5ad(await h5ad({ X: csr([1, 2], [0, 1], [0, 1, 2, 3]) }), COUNTS), {
    file: 'cells.h5ad',
    field: 'X/indptr',
    detail: 'expected to start at 0 and end at the length of X/data (2), but got 0 and 3',
  });
  await rejectsWithDataError(readH5ad(await h5ad({ X: csr([1, 2], [0, 3], [0, 1, 2, 2]) }), COUNTS), {
    file: 'cells.h5ad',
    field: 'X/indices',
    detail: 'expected column indices from 0 to 2, but got 3 at position 1',
  });
});

test('non-finite values in X, dense or sparse, name the sample and gene', async () => {
  await rejectsWithDataError(readH5ad(await h5ad({ X: { dense: Float32Array.from([1, 0, 2, 0, NaN, 4, 5, 6, 0]), shape: [3, 3] } }), COUNTS), {
    file: 'cells.h5ad',
    field: 'X',
    detail: 'expected finite values, but got NaN for sample "c2", gene "B"',
  });
  await rejectsWithDataError(readH5ad(await h5ad({ X: csr([1, 2, Infinity], [0, 2, 1], [0, 2, 2, 3]) }), { ...COUNTS, scale: 'normalized' }), {
    file: 'cells.h5ad',
    field: 'X/data',
    detail: 'expected finite values, but got Infinity for sample "c3", gene "B"',
  });
});

test('float64 values beyond float32 range, or duplicates that sum beyond it, name the sample and gene', async () => {
  await rejectsWithDataError(readH5ad(await h5ad({ X: { dense: Float64Array.from([1, 0, 2, 0, 1e39, 4, 5, 6, 0]), shape: [3, 3] } }), COUNTS), {
    file: 'cells.h5ad',
    field: 'X',
    detail: 'expected values within float32 range (magnitude at most 3.40e+38), but got 1e+39 for sample "c2", gene "B"',
  });
  const duplicates: H5adSpec['X'] = { csr: { data: Float64Array.from([3e38, 3e38]), indices: Int32Array.from([1, 1]), indptr: Int32Array.from([0, 2, 2, 2]) }, shape: [3, 3] };
  await rejectsWithDataError(readH5ad(await h5ad({ X: duplicates }), { ...COUNTS, scale: 'normalized' }), {
    file: 'cells.h5ad',
    field: 'X/data',
    detail: 'expected values within float32 range (magnitude at most 3.40e+38, duplicate entries summed), but got 3e+38 for sample "c1", gene "B"',
  });
});

test('negative values are errors with scale: counts only', async () => {
  const negative = { X: csr([1, -2.5, 3], [0, 2, 1], [0, 2, 2, 3]) };
  await rejectsWithDataError(readH5ad(await h5ad(negative), COUNTS), {
    file: 'cells.h5ad',
    field: 'X/data',
    detail: 'expected non-negative counts (scale: counts), but got -2.5 for sample "c1", gene "C"',
  });
  const normalized = await readH5ad(await h5ad(negative), { ...COUNTS, scale: 'normalized' });
  assert.equal(normalized.values[2], -2.5);
});

test('duplicated cell ids and gene names', async () => {
  await rejectsWithDataError(readH5ad(await h5ad({ obsNames: ['c1', 'c2', 'c1'] }), COUNTS), {
    file: 'cells.h5ad',
    field: 'obs/_index',
    detail: 'expected unique cell ids (obs names), but got "c1" in rows 1 and 3',
  });
  await rejectsWithDataError(readH5ad(await h5ad({ varNames: ['A', 'B', 'B'] }), COUNTS), {
    file: 'cells.h5ad',
    field: 'var/_index',
    detail: 'expected unique gene names, but got "B" in rows 2 and 3',
  });
  await rejectsWithDataError(readH5ad(await h5ad({ var: { symbol: ['TP53', 'MYC', 'TP53'] } }), { ...COUNTS, geneColumn: 'symbol' }), {
    file: 'cells.h5ad',
    field: 'var/symbol',
    detail: 'expected unique gene names, but got "TP53" in rows 1 and 3: choose a gene_column with unique names, or none to use the var index',
  });
});

test('through loadDataset: one class only, no shared genes, and the file errors pass through unchanged', async () => {
  const dataset = async (cells: Partial<H5adSpec>, manifestExtra = ''): Promise<string> => {
    const dir = join(root, `ds${++counter}`);
    await writeFiles(dir, {
      'dataset.yaml': `bulk:\n  expression: bulk.h5ad\n  labels_column: response\ncells:\n  expression: cells.h5ad\n  labels_column: response\n  scale: counts\n${manifestExtra}`,
    });
    await copyFile(join(FIXTURES, 'dense.h5ad'), join(dir, 'bulk.h5ad'));
    await writeH5ad(join(dir, 'cells.h5ad'), { ...VALID, ...cells });
    return dir;
  };
  // dense.h5ad's var index is Ensembl-like ids: no gene in common with A, B, C.
  await rejectsWithDataError(loadDataset(await dataset({})), {
    detail: /expected at least one gene shared by the bulk \(.*bulk\.h5ad\) and the cells \(.*cells\.h5ad\), but got none: bulk genes look like "ENSG00000000001"/,
  });
  await rejectsWithDataError(loadDataset(await dataset({ obs: { response: [1, 1, 1] } })), {
    file: 'cells.h5ad',
    field: 'obs/response',
    detail: 'expected both classes, 0 and 1, among the cell labels, but got only 1 (sensitive) for all 3 samples',
  });
  await rejectsWithDataError(loadDataset(await dataset({ X: { dense: Float32Array.from([1, 0, 2, 0, -3, 4, 5, 6, 0]), shape: [3, 3] } })), {
    file: 'cells.h5ad',
    field: 'X',
    detail: 'expected non-negative counts (scale: counts), but got -3 for sample "c2", gene "B"',
  });
  await rejectsWithDataError(loadDataset(await dataset({ obsNames: ['c1', 'c1', 'c3'] })), {
    file: 'cells.h5ad',
    field: 'obs/_index',
    detail: 'expected unique cell ids (obs names), but got "c1" in rows 1 and 2',
  });
});
