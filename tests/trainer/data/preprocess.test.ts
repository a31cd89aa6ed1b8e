import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prepare } from '../../../trainer/data/preprocess.js';
import type { Dataset, DomainMatrix, ValueScale } from '../../../trainer/data/types.js';
import { rejectsWithDataError } from './helpers.js';

function domain(genes: string[], rows: number[][], labels: number[], scale: ValueScale, file: string): DomainMatrix {
  return {
    ids: rows.map((_, i) => `${file.split('.')[0]}${i + 1}`),
    genes,
    values: Float32Array.from(rows.flat()),
    labels: Uint8Array.from(labels),
    scale,
    file,
  };
}

function dataset(bulk: DomainMatrix, cells: DomainMatrix): Dataset {
  return { name: 'toy', dir: '/toy', bulk, cells };
}

const BULK = domain(
  ['A', 'B', 'C', 'D'],
  [
    [1, 10, 5, -1],
    [3, 20, 5, 0],
    [2, 30, 5, 1],
  ],
  [0, 1, 0],
  'normalized',
  'bulk.tsv',
);

/** Column `gene` of a prepared matrix. */
function column(x: Float32Array, width: number, gene: number): number[] {
  return Array.from({ length: x.length / width }, (_, r) => x[r * width + gene] as number);
}

test('keeps the genes of both domains in the bulk order and MinMax-scales each domain separately', () => {
  const cells = domain(
    ['D', 'X', 'B', 'A'],
    [
      [4, 9, 0, 7],
      [8, 9, 2, 7],
    ],
    [1, 0],
    'normalized',
    'cells.tsv',
  );
  const out = prepare(dataset(BULK, cells));
  assert.deepEqual(out.genes, ['A', 'B', 'D']);
  assert.deepEqual(column(out.bulk.x, 3, 0), [0, 1, 0.5]);
  assert.deepEqual(column(out.bulk.x, 3, 1), [0, 0.5, 1]);
  assert.deepEqual(column(out.bulk.x, 3, 2), [0, 0.5, 1]);
  assert.deepEqual(column(out.cells.x, 3, 0), [0, 0], 'a constant gene becomes 0');
  assert.deepEqual(column(out.cells.x, 3, 1), [0, 1]);
  assert.deepEqual(column(out.cells.x, 3, 2), [0, 1]);
  assert.deepEqual(Array.from(out.bulk.y), [0, 1, 0]);
  assert.deepEqual(out.cells.ids, ['cells1', 'cells2']);
  assert.deepEqual(
    out.report.map((s) => `${s.step}: ${s.detail}`),
    [
      'detection filter: bulk: off (scale normalized)',
      'detection filter: cells: off (scale normalized)',
      'shared genes: kept 3 of 4 bulk genes and 3 of 4 cell genes',
      'normalize: bulk: values used as they are (scale normalized)',
      'normalize: cells: values used as they are (scale normalized)',
      'minmax: scaled each gene to [0, 1] within each domain; constant genes set to 0: 0 in bulk, 1 in cells',
      'labels: bulk: 1 sensitive / 2 resistant; cells: 1 sensitive / 1 resistant',
    ],
  );
});

test('counts: library size over all kept genes scaled to 10,000, then log1p, then MinMax', () => {
  const rows = [
    [1, 3, 0, 6],
    [2, 2, 4, 2],
    [0, 5, 5, 0],
  ];
  const cells = domain(['A', 'B', 'Z', 'C'], rows, [1, 0, 1], 'counts', 'cells.tsv');
  const out = prepare(dataset(BULK, cells), { filter: { cells: false } });
  assert.deepEqual(out.genes, ['A', 'B', 'C']);
  // Expected by hand: the library includes Z, which is not shared.
  const logged = rows.map((row) => {
    const library = row.reduce((s, v) => s + v, 0);
    return [row[0], row[1], row[3]].map((v) => Math.log1p(((v as number) / library) * 10_000));
  });
  for (let g = 0; g < 3; g++) {
    const values = logged.map((r) => r[g] as number);
    const min = Math.min(...values);
    const max = Math.max(...values);
    const want = values.map((v) => (v - min) / (max - min));
    column(out.cells.x, 3, g).forEach((got, r) => assert.ok(Math.abs(got - (want[r] as number)) < 1e-6, `gene ${g} row ${r}: ${got} vs ${want[r]}`));
  }
  assert.ok(out.report.some((s) => s.detail === 'cells: library size scaled to 10,000, then log1p (median library size 10)'));
});

test('detection filters: on by default for counts, and they report what they removed', async () => {
  // Cell 3 detects 1 gene; gene E is detected in 2 cells only.
  const cells = domain(
    ['A', 'B', 'C', 'D', 'E'],
    [
      [1, 1, 1, 0, 1],
      [1, 1, 1, 1, 0],
      [0, 0, 3, 0, 0],
      [2, 1, 1, 1, 4],
      [1, 1, 2, 3, 0],
    ],
    [1, 0, 1, 0, 1],
    'counts',
    'cells.tsv',
  );
  const out = prepare(dataset(BULK, cells), { minGenes: 3 });
  assert.deepEqual(out.cells.ids, ['cells1', 'cells2', 'cells4', 'cells5']);
  assert.deepEqual(Array.from(out.cells.y), [1, 0, 0, 1]);
  assert.deepEqual(out.genes, ['A', 'B', 'C', 'D']);
  assert.equal(out.cells.rows, 4);
  assert.equal(out.bulk.rows, 3, 'the normalized bulk is not filtered');
  assert.deepEqual(
    out.report.filter((s) => s.step === 'detection filter').map((s) => s.detail),
    [
      'bulk: off (scale normalized)',
      'cells: removed 1 of 5 cells with fewer than 3 detected genes, then 1 of 5 genes detected in fewer than 3 cells',
    ],
  );
  // The default threshold is the paper's 200, capped at 10% of the genes: 1 here, so only an empty cell goes.
  const byDefault = prepare(dataset(BULK, cells));
  assert.equal(byDefault.cells.rows, 5);
  assert.match(byDefault.report[1]?.detail ?? '', /removed 0 of 5 cells with fewer than 1 detected genes/);
  // Explicitly off.
  assert.equal(prepare(dataset(BULK, cells), { filter: { cells: false }, minGenes: 3 }).cells.rows, 5);
  // Explicitly on for a normalized domain: a value > 0 counts as detected (D only in bulk3).
  const filteredBulk = prepare(dataset(BULK, cells), { filter: { bulk: true }, minGenes: 1, minCells: 3 });
  assert.deepEqual(filteredBulk.genes, ['A', 'B', 'C']);
  assert.equal(filteredBulk.report[0]?.detail, 'bulk: removed 0 of 3 cell lines with fewer than 1 detected genes, then 1 of 4 genes detected in fewer than 3 cell lines');
  // ... and removing rows until one class is left is an error.
  await rejectsWithDataError(() => prepare(dataset(BULK, cells), { filter: { bulk: true }, minGenes: 4, minCells: 1 }), {
    file: 'bulk.tsv',
    detail: 'expected both classes, 0 and 1, among the bulk labels left by the detection filter, but got only 0 (resistant) for all 1 samples',
  });
});

test('a filter that would remove every row, every gene or a whole class is an error, not an empty result', async () => {
  const cells = domain(
    ['A', 'B'],
    [
      [1, 0],
      [0, 2],
      [3, 0],
    ],
    [1, 0, 1],
    'counts',
    'cells.tsv',
  );
  await rejectsWithDataError(() => prepare(dataset(BULK, cells), { minGenes: 2 }), {
    file: 'cells.tsv',
    detail: 'expected the detection filter to keep some cells, but got none of 3 with at least 2 detected genes: lower minGenes or turn the filter off',
  });
  await rejectsWithDataError(() => prepare(dataset(BULK, cells), { minCells: 4 }), {
    file: 'cells.tsv',
    detail: 'expected the detection filter to keep some genes, but got none of 2 detected in at least 4 cells: lower minCells or turn the filter off',
  });
  const private_ = domain(['A', 'Q'], [[1, 1], [0, 2], [0, 3]], [1, 0, 1], 'counts', 'cells.tsv');
  await rejectsWithDataError(() => prepare(dataset(BULK, private_), { minGenes: 1, minCells: 2 }), {
    file: 'cells.tsv',
    detail: 'expected at least one shared gene to pass the detection filters, but got none: lower minCells or turn the filter off',
  });
  const oneClassLeft = domain(['A', 'B'], [[1, 1], [0, 0], [2, 2], [3, 1]], [1, 0, 1, 1], 'counts', 'cells.tsv');
  await rejectsWithDataError(() => prepare(dataset(BULK, oneClassLeft), { minGenes: 1, minCells: 1 }), {
    file: 'cells.tsv',
    detail: 'expected both classes, 0 and 1, among the cell labels left by the detection filter, but got only 1 (sensitive) for all 3 samples',
  });
});

test('no shared genes at all is reported with examples of both gene namespaces', async () => {
  const cells = domain(['TP53', 'EGFR'], [[1, 2], [2, 1]], [1, 0], 'normalized', 'cells.tsv');
  await rejectsWithDataError(() => prepare(dataset(BULK, cells)), {
    detail: 'expected at least one gene shared by the bulk (bulk.tsv) and the cells (cells.tsv), but got none: bulk genes look like "A", "B", "C"; cell genes like "TP53", "EGFR"',
  });
});

test('each prepared domain keeps its scale and the MinMax map, which gives back the values before scaling', () => {
  const rows = [
    [1, 3, 0, 6],
    [2, 2, 4, 2],
    [0, 5, 5, 0],
  ];
  const cells = domain(['A', 'B', 'Z', 'C'], rows, [1, 0, 1], 'counts', 'cells.tsv');
  const out = prepare(dataset(BULK, cells), { filter: { cells: false } });
  assert.equal(out.bulk.scale, 'normalized');
  assert.equal(out.cells.scale, 'counts');
  // Bulk: the input values come back (C is constant: range 0, x 0, back to its value 5).
  const bulkMap = out.bulk.minmax;
  assert.ok(bulkMap !== undefined);
  assert.deepEqual(Array.from(bulkMap.range), [2, 20, 0]);
  const bulkGenes = ['A', 'B', 'C'].map((g) => BULK.genes.indexOf(g));
  for (let r = 0; r < 3; r++) {
    for (let g = 0; g < 3; g++) {
      const back = (out.bulk.x[r * 3 + g] as number) * (bulkMap.range[g] as number) + (bulkMap.min[g] as number);
      assert.ok(Math.abs(back - (BULK.values[r * 4 + (bulkGenes[g] as number)] as number)) < 1e-5, `bulk row ${r} gene ${g}: ${back}`);
    }
  }
  // Cells: the log-normalised values come back.
  const cellMap = out.cells.minmax;
  assert.ok(cellMap !== undefined);
  rows.forEach((row, r) => {
    const library = row.reduce((s, v) => s + v, 0);
    [row[0], row[1], row[3]].forEach((v, g) => {
      const want = Math.log1p(((v as number) / library) * 10_000);
      const back = (out.cells.x[r * 3 + g] as number) * (cellMap.range[g] as number) + (cellMap.min[g] as number);
      assert.ok(Math.abs(back - want) < 1e-5, `cells row ${r} gene ${g}: ${back} vs ${want}`);
    });
  });
});

test("the dataset's own options (its manifest) apply, the caller's override them key by key, and the report says so", () => {
  const cells = domain(
    ['A', 'B', 'C', 'D', 'E'],
    [
      [1, 1, 1, 0, 1],
      [1, 1, 1, 1, 0],
      [0, 0, 3, 0, 0],
      [2, 1, 1, 1, 4],
      [1, 1, 2, 3, 0],
    ],
    [1, 0, 1, 0, 1],
    'counts',
    'cells.tsv',
  );
  const withOptions: Dataset = { ...dataset(BULK, cells), preprocess: { minGenes: 3, targetSum: 100 } };
  const out = prepare(withOptions);
  assert.equal(out.cells.rows, 4, 'min_genes 3 from the manifest removed cell 3');
  assert.equal(out.report[0]?.step, 'options');
  assert.equal(out.report[0]?.detail, 'from the dataset manifest: min_genes 3, target_sum 100');
  assert.ok(out.report.some((s) => s.detail.startsWith('cells: library size scaled to 100, then log1p')));

  const overridden = prepare(withOptions, { minGenes: 1, filter: { cells: true } });
  assert.equal(overridden.cells.rows, 5);
  assert.equal(overridden.report[0]?.detail, 'from the dataset manifest: min_genes 3, target_sum 100; overridden by the caller: minGenes');
  // Filter settings merge per domain: the manifest turns the bulk filter on, the caller leaves it.
  const filtered = prepare({ ...withOptions, preprocess: { filter: { bulk: true }, minGenes: 1, minCells: 3 } }, { filter: { cells: false } });
  assert.deepEqual(
    filtered.report.filter((s) => s.step === 'detection filter').map((s) => s.detail),
    ['bulk: removed 0 of 3 cell lines with fewer than 1 detected genes, then 1 of 4 genes detected in fewer than 3 cell lines', 'cells: off (scale counts)'],
  );
  assert.equal(prepare(dataset(BULK, cells)).report.some((s) => s.step === 'options'), false, 'no manifest options, no line');
});

test('invalid options are errors, whoever sets them', async () => {
  const cells = domain(['A', 'B'], [[1, 2], [2, 1]], [1, 0], 'normalized', 'cells.tsv');
  await rejectsWithDataError(() => prepare(dataset(BULK, cells), { minCells: -1 }), {
    detail: 'expected the preprocessing option minCells to be a whole number of at least 0, but got -1',
  });
  await rejectsWithDataError(() => prepare({ ...dataset(BULK, cells), preprocess: { targetSum: 0 } }), {
    detail: 'expected the preprocessing option targetSum to be a number above 0, but got 0',
  });
  await rejectsWithDataError(() => prepare(dataset(BULK, cells), { hvg: 2.5 }), {
    detail: 'expected the preprocessing option hvg to be a whole number of at least 1, but got 2.5',
  });
});
