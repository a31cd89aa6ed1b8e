/**
 * Writes a dataset as cellsweep prepares it (trainer/data `loadPrepared`:
 * gene intersection, per-domain MinMax) so that the PyTorch experiments of
 * bench/transfer/sctl_torch_train.py train on exactly the matrices the
 * TypeScript trainer sees.
 *
 *   node --import tsx bench/transfer/dump-prepared.ts DATASET_DIR OUT_PREFIX
 *
 * Writes OUT_PREFIX.json (genes, row counts, labels, ids, the MinMax maps)
 * and OUT_PREFIX.bulk.f32 / OUT_PREFIX.cells.f32 (row-major float32, little
 * endian). The MinMax maps give the values before scaling back
 * (v = x * range + min), for the scaling variants.
 */
import { writeFileSync } from 'node:fs';
import { loadPrepared } from '../../trainer/data/load-prepared.js';

const [dir, out] = process.argv.slice(2);
if (dir === undefined || out === undefined) {
  console.error('usage: node --import tsx bench/transfer/dump-prepared.ts DATASET_DIR OUT_PREFIX');
  process.exit(2);
}
const data = await loadPrepared(dir);
const bytes = (x: Float32Array): Buffer => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
writeFileSync(`${out}.bulk.f32`, bytes(data.bulk.x));
writeFileSync(`${out}.cells.f32`, bytes(data.cells.x));
const map = (m: { min: Float32Array; range: Float32Array } | undefined): { min: number[]; range: number[] } | null =>
  m === undefined ? null : { min: Array.from(m.min), range: Array.from(m.range) };
writeFileSync(
  `${out}.json`,
  JSON.stringify({
    dataset: dir,
    genes: data.genes,
    bulk: { rows: data.bulk.rows, y: Array.from(data.bulk.y), ids: data.bulk.ids ?? null, minmax: map(data.bulk.minmax) },
    cells: { rows: data.cells.rows, y: Array.from(data.cells.y), ids: data.cells.ids ?? null, minmax: map(data.cells.minmax) },
    report: data.report,
  }),
);
console.error(`wrote ${out}.json, .bulk.f32, .cells.f32: ${data.bulk.rows} bulk x ${data.genes.length} genes, ${data.cells.rows} cells`);
