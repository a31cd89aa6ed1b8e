import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseManifest } from '../../../trainer/data/manifest.js';
import { rejectsWithDataError } from './helpers.js';

// The manifest keys for AnnData domains and the `preprocess:` block; every
// mistake names the line of dataset.yaml and the dotted key.

const BULK = 'bulk:\n  expression: bulk.tsv\n';

test('h5ad domains: format inferred from .h5ad, labels_column, sensitive_value as text, gene_column', () => {
  const m = parseManifest(
    `${BULK}cells:\n  expression: cells.h5ad\n  labels_column: condition\n  sensitive_value: 1\n  gene_column: symbol\n  scale: counts\n`,
    'dataset.yaml',
  );
  assert.deepEqual(m.cells, {
    expression: 'cells.h5ad',
    format: 'h5ad',
    scale: 'counts',
    labelsColumn: 'condition',
    sensitiveValue: '1',
    geneColumn: 'symbol',
    lines: { expression: 4 },
  });
  const explicit = parseManifest(`${BULK}cells:\n  expression: cells.anndata\n  format: h5ad\n  labels_column: response\n`, 'dataset.yaml');
  assert.equal(explicit.cells.format, 'h5ad');
  assert.equal(explicit.cells.sensitiveValue, undefined);
  assert.equal(parseManifest(`${BULK}cells:\n  expression: c.tsv\n`, 'dataset.yaml').cells.format, 'scad', 'other names keep the old default');
});

test('h5ad keys: required, exclusive, and only for format: h5ad', async () => {
  const cases: Array<{ cells: string; line: number; field: string; detail: string }> = [
    {
      cells: '  expression: cells.h5ad\n',
      line: 3,
      field: 'cells.labels_column',
      detail: 'expected labels_column (the obs column holding the labels) for format: h5ad, but got nothing',
    },
    {
      cells: '  expression: cells.h5ad\n  labels_column: response\n  labels: labels.csv\n',
      line: 6,
      field: 'cells.labels',
      detail: 'expected either labels_column or a labels file, not both, but got "labels.csv"',
    },
    {
      cells: '  expression: cells.h5ad\n  labels: labels.csv\n  sensitive_value: yes\n',
      line: 6,
      field: 'cells.sensitive_value',
      detail: 'expected sensitive_value only with labels_column, but got "yes"',
    },
    {
      cells: '  expression: cells.csv\n  labels: labels.csv\n  labels_column: response\n',
      line: 6,
      field: 'cells.labels_column',
      detail: 'expected no labels_column for format: table (it is for format: h5ad), but got "response"',
    },
    {
      cells: '  expression: cells.h5ad\n  labels_column: response\n  sensitive_value: [a, b]\n',
      line: 6,
      field: 'cells.sensitive_value',
      detail: 'expected a value of the labels column (text or a number), but got a list (["a","b"])',
    },
    {
      cells: '  expression: cells.h5ad\n  labels_column: 3\n',
      line: 5,
      field: 'cells.labels_column',
      detail: 'expected a non-empty string, but got 3',
    },
  ];
  for (const c of cases) {
    await rejectsWithDataError(() => parseManifest(`${BULK}cells:\n${c.cells}`, '/d/dataset.yaml'), {
      file: 'dataset.yaml',
      line: c.line,
      field: c.field,
      detail: c.detail,
    });
  }
});

test('preprocess block: every option, filter as one switch or per domain', () => {
  const m = parseManifest(
    `${BULK}cells:\n  expression: c.tsv\npreprocess:\n  hvg: 2000\n  filter: false\n  min_genes: 100\n  min_cells: 0\n  target_sum: 1e4\n`,
    'dataset.yaml',
  );
  assert.deepEqual(m.preprocess, { hvg: 2000, filter: { bulk: false, cells: false }, minGenes: 100, minCells: 0, targetSum: 10_000 });
  const perDomain = parseManifest(`${BULK}cells:\n  expression: c.tsv\npreprocess:\n  filter:\n    cells: true\n`, 'dataset.yaml');
  assert.deepEqual(perDomain.preprocess, { filter: { cells: true } });
  assert.equal(parseManifest(`${BULK}cells:\n  expression: c.tsv\n`, 'dataset.yaml').preprocess, undefined);
});

test('preprocess block: wrong values and unknown keys name their line', async () => {
  const cases: Array<{ block: string; line: number; field: string; detail: string }> = [
    { block: '  hvg: 0\n', line: 6, field: 'preprocess.hvg', detail: 'expected a whole number of genes to keep, at least 1 (omit hvg to keep all genes), but got 0' },
    { block: '  hvg: many\n', line: 6, field: 'preprocess.hvg', detail: 'expected a whole number of genes to keep, at least 1 (omit hvg to keep all genes), but got "many"' },
    { block: '  min_genes: -5\n', line: 6, field: 'preprocess.min_genes', detail: 'expected a whole number of detected genes, 0 or more, but got -5' },
    { block: '  hvg: 10\n  min_cells: 2.5\n', line: 7, field: 'preprocess.min_cells', detail: 'expected a whole number of rows, 0 or more, but got 2.5' },
    { block: '  target_sum: 0\n', line: 6, field: 'preprocess.target_sum', detail: 'expected a library size above 0, but got 0' },
    { block: '  filter: on\n', line: 6, field: 'preprocess.filter', detail: 'expected true, false, or a mapping with keys bulk and cells, but got "on"' },
    { block: '  filter:\n    cell: true\n', line: 7, field: 'preprocess.filter.cell', detail: 'expected one of the keys bulk, cells, but got "cell"' },
    { block: '  filter:\n    cells: 1\n', line: 7, field: 'preprocess.filter.cells', detail: 'expected true or false, but got 1' },
    { block: '  n_top_genes: 10\n', line: 6, field: 'preprocess.n_top_genes', detail: 'expected one of the keys hvg, filter, min_genes, min_cells, target_sum, but got "n_top_genes"' },
  ];
  for (const c of cases) {
    await rejectsWithDataError(() => parseManifest(`${BULK}cells:\n  expression: c.tsv\npreprocess:\n${c.block}`, '/d/dataset.yaml'), {
      file: 'dataset.yaml',
      line: c.line,
      field: c.field,
      detail: c.detail,
    });
  }
  await rejectsWithDataError(() => parseManifest(`${BULK}cells:\n  expression: c.tsv\npreprocess: 2000\n`, '/d/dataset.yaml'), {
    file: 'dataset.yaml',
    line: 5,
    field: 'preprocess',
    detail: 'expected a mapping with keys hvg, filter, min_genes, min_cells, target_sum, but got 2000',
  });
});
