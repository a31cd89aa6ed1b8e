import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { readH5ad } from '../../../trainer/data/h5ad-reader.js';
import { meanBins, seuratDispersion, topDispersion } from '../../../trainer/data/hvg.js';
import { prepare } from '../../../trainer/data/preprocess.js';
import type { Dataset, DomainMatrix, ValueScale } from '../../../trainer/data/types.js';
import { rejectsWithDataError } from './helpers.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/h5ad/', import.meta.url));

interface Reference {
  genes: string[];
  means: Array<number | null>;
  dispersions: Array<number | null>;
  dispersions_norm: Array<number | null>;
  cases: Array<{ n_top_genes: number; cutoff: number; selected: string[] }>;
}

const reference = JSON.parse(await readFile(join(FIXTURES, 'hvg_reference.json'), 'utf8')) as Reference;
const input = await readH5ad(join(FIXTURES, 'hvg_input.h5ad'), { scale: 'normalized' });
const computed = seuratDispersion(input.values, input.ids.length, input.genes.length);

/** Equal within `rel` relative error (absolute below 1), or both undefined (NaN / null). */
function assertClose(got: Float64Array, want: Array<number | null>, rel: number, what: string): void {
  assert.equal(got.length, want.length);
  want.forEach((w, i) => {
    const g = got[i] as number;
    if (w === null) assert.ok(Number.isNaN(g), `${what}[${i}]: want undefined, got ${g}`);
    else assert.ok(Math.abs(g - w) <= rel * Math.max(1, Math.abs(w)), `${what}[${i}]: want ${w}, got ${g}`);
  });
}

test("hvg: means, dispersions and normalised dispersions match a pandas transcription of scanpy's flavor='seurat' (bench/reference/h5ad_fixtures.py)", () => {
  assert.deepEqual(input.genes, reference.genes);
  // Summation order differs from numpy's pairwise sums: agreement to ~1e-7.
  assertClose(computed.means, reference.means, 1e-6, 'means');
  assertClose(computed.dispersions, reference.dispersions, 1e-6, 'dispersions');
  assertClose(computed.normalized, reference.dispersions_norm, 1e-6, 'dispersions_norm');
  assert.ok(reference.dispersions_norm.filter((v) => v === null).length >= 2, 'the reference has undetected genes, whose dispersion is undefined');
});

test("hvg: the selection is scanpy's above a positive cut-off, and leaves out genes without a dispersion below it", () => {
  for (const c of reference.cases) {
    const selected = Array.from(topDispersion(computed.normalized, c.n_top_genes), (g) => input.genes[g]);
    assert.equal(selected.length, c.n_top_genes);
    if (c.cutoff > 0) {
      assert.deepEqual(selected, c.selected, `n_top_genes ${c.n_top_genes}`);
    } else {
      // scanpy counts an undefined normalised dispersion as 0, so with a cut-off <= 0 it adds those genes on top of n.
      const undefinedGenes = new Set(reference.genes.filter((_, g) => reference.dispersions_norm[g] === null));
      assert.ok(c.selected.length > c.n_top_genes, 'the reference case exercises the difference');
      assert.deepEqual(selected, c.selected.filter((g) => !undefinedGenes.has(g)), `n_top_genes ${c.n_top_genes}`);
    }
  }
});

test('hvg: keeps the top n, ties broken by gene order, undefined values last, result in gene order', () => {
  const normalized = Float64Array.from([0.5, Number.NaN, 2, 0.5, -1, 2, 0.5]);
  assert.deepEqual(Array.from(topDispersion(normalized, 2)), [2, 5]);
  assert.deepEqual(Array.from(topDispersion(normalized, 3)), [0, 2, 5], 'of the three tied at 0.5, the first gene');
  assert.deepEqual(Array.from(topDispersion(normalized, 4)), [0, 2, 3, 5]);
  assert.deepEqual(Array.from(topDispersion(normalized, 6)), [0, 2, 3, 4, 5, 6], 'NaN after -1');
  assert.deepEqual(Array.from(topDispersion(normalized, 99)), [0, 1, 2, 3, 4, 5, 6]);
});

test("hvg: mean bins follow pandas' cut: 20 equal bins closed on the right, the lowest edge lowered by 0.1%", () => {
  // Edges 0, 1, ..., 20 with the first lowered to -0.02: 0 and 1 share bin 0, 1.5 and 2 bin 1, 20 is in bin 19.
  const bins = meanBins(Float64Array.from([0, 1, 1.5, 2, 2.0001, 19.99, 20]), 20);
  assert.deepEqual(Array.from(bins), [0, 0, 1, 1, 2, 19, 19]);
  // A flat range is widened by 0.1% on both sides first; 3 is then the middle edge, so the bin closed on it (pandas: 9).
  assert.deepEqual(Array.from(meanBins(Float64Array.from([3, 3, 3]), 20)), [9, 9, 9]);
});

test('hvg: a bin holding one gene gives it a normalised dispersion of 1, as scanpy does', () => {
  // Two rows, three genes: two low-mean genes share a bin, one high-mean gene is alone at the top.
  const x = Float32Array.from([0.1, 0.3, 5, 0.2, 0.1, 6]);
  const { normalized } = seuratDispersion(x, 2, 3);
  assert.equal(normalized[2], 1);
  assert.ok(Math.abs(Math.abs(normalized[0] as number) - Math.SQRT1_2) < 1e-9, 'two genes in a bin sit at -/+ 1/sqrt(2)');
});

function domain(genes: string[], rows: number[][], labels: number[], scale: ValueScale, file: string): DomainMatrix {
  return { ids: rows.map((_, i) => `${file}${i}`), genes, values: Float32Array.from(rows.flat()), labels: Uint8Array.from(labels), scale, file };
}

test('prepare with hvg: both domains keep the selected genes, in bulk order, and the report says how many', async () => {
  const genes = reference.genes;
  const cells: DomainMatrix = { ...domain([], [], [], 'normalized', 'cells'), ids: input.ids, genes, values: input.values, labels: Uint8Array.from(input.ids, (_, i) => i % 2) };
  const bulkRows = 4;
  const bulk = domain(
    genes,
    Array.from({ length: bulkRows }, (_, r) => genes.map((_, g) => (r * 31 + g * 7) % 13)),
    [0, 1, 0, 1],
    'normalized',
    'bulk',
  );
  const dataset: Dataset = { name: 'hvg', dir: '/hvg', bulk, cells };
  const out = prepare(dataset, { hvg: 40 });
  const want = reference.cases.find((c) => c.n_top_genes === 40)?.selected;
  assert.deepEqual(out.genes, want);
  assert.equal(out.bulk.x.length, bulkRows * 40);
  assert.equal(out.cells.x.length, input.ids.length * 40);
  // The bulk column of a kept gene is that gene's column, scaled.
  const g = genes.indexOf(want?.[0] as string);
  const column = Array.from({ length: bulkRows }, (_, r) => out.bulk.x[r * 40] as number);
  const raw = Array.from({ length: bulkRows }, (_, r) => (r * 31 + g * 7) % 13);
  const lo = Math.min(...raw);
  const hi = Math.max(...raw);
  assert.deepEqual(column, raw.map((v) => Math.fround((v - lo) / (hi - lo))));
  assert.ok(out.report.some((s) => s.step === 'hvg' && s.detail === 'kept 40 of 200 shared genes by normalised dispersion in the cells (Seurat flavour, 20 mean bins)'));
  const steps = out.report.map((s) => s.step);
  assert.ok(steps.indexOf('normalize') < steps.indexOf('hvg') && steps.indexOf('hvg') < steps.indexOf('minmax'));

  const all = prepare(dataset, { hvg: 500 });
  assert.equal(all.genes.length, 200);
  assert.ok(all.report.some((s) => s.step === 'hvg' && s.detail === 'kept all 200 shared genes (asked for 500)'));
  assert.equal(prepare(dataset).genes.length, 200, 'off by default');
});

test('prepare with hvg refuses cells that are not log-normalised (negative values)', async () => {
  const bulk = domain(['A', 'B', 'C'], [[1, 2, 3], [2, 3, 1]], [0, 1], 'normalized', 'bulk.tsv');
  const cells = domain(['A', 'B', 'C'], [[0.5, -1.2, 3], [1, 2, 0]], [0, 1], 'normalized', 'cells.tsv');
  await rejectsWithDataError(() => prepare({ name: 'z', dir: '/z', bulk, cells }, { hvg: 2 }), {
    file: 'cells.tsv',
    detail:
      'expected log-normalised, non-negative cell values for highly-variable-gene selection (Seurat dispersion undoes a log1p), but got -1.2 for gene "B": use scale: counts for raw counts, or remove hvg from the preprocessing options',
  });
  await rejectsWithDataError(() => prepare({ name: 'z', dir: '/z', bulk, cells }, { hvg: 0 }), {
    detail: 'expected the preprocessing option hvg to be a whole number of at least 1, but got 0',
  });
});
