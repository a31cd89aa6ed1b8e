import assert from 'node:assert/strict';
import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { loadDataset } from '../../../trainer/data/dataset.js';
import { readH5ad, type ReadH5adOptions } from '../../../trainer/data/h5ad-reader.js';
import { prepare } from '../../../trainer/data/preprocess.js';
import { tempDir, writeFiles } from './helpers.js';
import { writeH5ad } from './h5ad-writer.js';

// The committed fixtures were written by anndata 0.8 itself
// (bench/reference/h5ad_fixtures.py); expected.json is what anndata reads
// back from them, so these tests check the reader against the real writer.

export const FIXTURES = fileURLToPath(new URL('../../fixtures/h5ad/', import.meta.url));

interface Expected {
  obs_names: string[];
  var_names: string[];
  shape: [number, number];
  X: number[];
  labels: Record<string, number[]>;
  var_columns?: Record<string, string[]>;
}

const expected = JSON.parse(await readFile(join(FIXTURES, 'expected.json'), 'utf8')) as { files: Record<string, Expected> };

let root: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ dir: root, cleanup } = await tempDir('cellsweep-h5ad-'));
});
after(async () => cleanup());

/** What each fixture exercises, and how its labels column is read. */
const CASES: Array<{ file: string; what: string; column: string; opts: Omit<ReadH5adOptions, 'labelsColumn'> }> = [
  { file: 'dense.h5ad', what: 'dense float64 X with negatives, int64 labels', column: 'response', opts: { scale: 'normalized' } },
  { file: 'csr.h5ad', what: 'CSR with int64 data, indices and indptr; bool labels', column: 'sensitive', opts: { scale: 'counts' } },
  { file: 'categorical.h5ad', what: 'CSR float32; categorical labels with categories [0, 1]', column: 'response', opts: { scale: 'counts' } },
  { file: 'text_labels.h5ad', what: 'dense float32; categorical text labels with a mapping', column: 'condition', opts: { scale: 'counts', sensitiveValue: 'sensitive' } },
  { file: 'text_labels.h5ad', what: 'a plain string-array labels column with a mapping', column: 'status', opts: { scale: 'counts', sensitiveValue: 'sens' } },
  { file: 'csc.h5ad', what: 'CSC float32', column: 'response', opts: { scale: 'counts' } },
  { file: 'legacy.h5ad', what: 'anndata 0.7 categoricals (__categories reference) and h5sparse attributes', column: 'response', opts: { scale: 'counts', sensitiveValue: 'sens' } },
];

for (const c of CASES) {
  test(`h5ad ${c.file}: ${c.what}`, async () => {
    const want = expected.files[c.file] as Expected;
    const got = await readH5ad(join(FIXTURES, c.file), { ...c.opts, labelsColumn: c.column });
    assert.deepEqual(got.ids, want.obs_names);
    assert.deepEqual(got.genes, want.var_names);
    assert.equal(got.values.length, want.shape[0] * want.shape[1]);
    assert.deepEqual(Array.from(got.values), want.X.map((v) => Math.fround(v)));
    assert.deepEqual(Array.from(got.labels ?? []), want.labels[c.column]);
  });
}

test('h5ad: gene_column takes the gene names from a var column instead of the index', async () => {
  const want = expected.files['dense.h5ad'] as Expected;
  const got = await readH5ad(join(FIXTURES, 'dense.h5ad'), { scale: 'normalized', labelsColumn: 'response', geneColumn: 'symbol' });
  assert.deepEqual(got.genes, want.var_columns?.symbol);
  assert.deepEqual(got.genes, ['A', 'B', 'C', 'D', 'E']);
});

test('h5ad: without a labels column no labels are read (they come from a labels file)', async () => {
  const got = await readH5ad(join(FIXTURES, 'csr.h5ad'), { scale: 'counts' });
  assert.equal(got.labels, undefined);
  assert.equal(got.ids.length, 8);
});

test('a dataset directory with h5ad domains loads through the manifest, format inferred from .h5ad', async () => {
  const dir = join(root, 'manifest');
  await writeFiles(dir, {
    'dataset.yaml': [
      'name: h5',
      'bulk:',
      '  expression: bulk.h5ad',
      '  labels_column: response',
      '  gene_column: symbol',
      'cells:',
      '  expression: cells.h5ad',
      '  format: h5ad',
      '  labels_column: condition',
      '  sensitive_value: sensitive',
      '  scale: counts',
      '',
    ].join('\n'),
  });
  await copyFile(join(FIXTURES, 'dense.h5ad'), join(dir, 'bulk.h5ad'));
  await copyFile(join(FIXTURES, 'text_labels.h5ad'), join(dir, 'cells.h5ad'));
  const dataset = await loadDataset(dir);
  assert.deepEqual(dataset.bulk.genes, ['A', 'B', 'C', 'D', 'E']);
  assert.equal(dataset.bulk.scale, 'normalized');
  assert.deepEqual(Array.from(dataset.cells.labels), expected.files['text_labels.h5ad']?.labels.condition);
  assert.equal(dataset.cells.scale, 'counts');
  assert.equal(dataset.cells.file, join(dir, 'cells.h5ad'));
});

test('an h5ad domain can take its labels from a labels file instead of an obs column', async () => {
  const dir = join(root, 'labels-file');
  const ids = expected.files['csr.h5ad']?.obs_names ?? [];
  await writeFiles(dir, {
    'dataset.yaml': 'bulk:\n  expression: bulk.h5ad\n  labels_column: response\ncells:\n  expression: cells.h5ad\n  labels: labels.csv\n  scale: counts\n',
    'labels.csv': ['cell,response', ...ids.map((id, i) => `${id},${i % 2}`), ''].join('\n'),
  });
  await copyFile(join(FIXTURES, 'categorical.h5ad'), join(dir, 'bulk.h5ad'));
  await copyFile(join(FIXTURES, 'csr.h5ad'), join(dir, 'cells.h5ad'));
  const dataset = await loadDataset(dir);
  assert.deepEqual(Array.from(dataset.cells.labels), ids.map((_, i) => i % 2));
});

/** A modest CSR matrix with a known dense equivalent: value (r * 7 + c * 13) % 11 where that is below 2, else 0 (~18% non-zero). */
function modestCsr(rows: number, cols: number): { data: Float32Array; indices: Int32Array; indptr: BigInt64Array; dense: Float32Array } {
  const dense = new Float32Array(rows * cols);
  const data: number[] = [];
  const indices: number[] = [];
  const indptr = [0n];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = (r * 7 + c * 13) % 11;
      if (v < 2 || c === 0) {
        const value = v + 1 + (c === 0 ? 5 : 0);
        dense[r * cols + c] = value;
        data.push(value);
        indices.push(c);
      }
    }
    indptr.push(BigInt(data.length));
  }
  return { data: Float32Array.from(data), indices: Int32Array.from(indices), indptr: BigInt64Array.from(indptr), dense };
}

test('a modest CSR file (3,000 cells x 2,500 genes) loads exactly as its dense equivalent, and prepares', async () => {
  const rows = 3000;
  const cols = 2500;
  const csr = modestCsr(rows, cols);
  // The reader takes data and indices in ranges of 2^20 values: cross at least one boundary.
  assert.ok(csr.data.length > 2 ** 20, `${csr.data.length} non-zeros`);
  const genes = Array.from({ length: cols }, (_, c) => `G${c}`);
  const ids = Array.from({ length: rows }, (_, r) => `cell${r}`);
  const labels = ids.map((_, r) => r % 3 === 0 ? 1 : 0);
  const dir = join(root, 'modest');
  await writeFiles(dir, {
    'dataset.yaml': 'bulk:\n  expression: bulk.h5ad\n  labels_column: response\ncells:\n  expression: cells.h5ad\n  labels_column: response\n  scale: counts\n',
  });
  await writeH5ad(join(dir, 'cells.h5ad'), { obsNames: ids, varNames: genes, X: { csr, shape: [rows, cols] }, obs: { response: labels } });
  const bulkRows = 20;
  await writeH5ad(join(dir, 'bulk.h5ad'), {
    obsNames: Array.from({ length: bulkRows }, (_, r) => `line${r}`),
    varNames: genes.slice(0, 1000),
    X: { dense: Float32Array.from({ length: bulkRows * 1000 }, (_, i) => (i % 17) / 17), shape: [bulkRows, 1000] },
    obs: { response: Array.from({ length: bulkRows }, (_, r) => r % 2) },
  });
  const dataset = await loadDataset(dir);
  assert.deepEqual(dataset.cells.values, csr.dense);
  assert.deepEqual(Array.from(dataset.cells.labels), labels);
  const prepared = prepare(dataset, { minGenes: 1 });
  assert.equal(prepared.genes.length, 1000);
  assert.equal(prepared.cells.rows, rows);
  assert.equal(prepared.cells.x.length, rows * 1000);
});
