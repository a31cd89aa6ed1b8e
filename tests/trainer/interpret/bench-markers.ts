/**
 * Timing of markerGenes on data5's shape (SCIENCE.md: 7,440 cells x 12,715
 * genes). Not a test (a time limit in a test fails on a busy machine); run by hand:
 *   node --import tsx tests/trainer/interpret/bench-markers.ts [sparse|dense] [cells] [genes]
 * sparse: seeded log1p-like counts, 70% zeros, as scRNA-seq counts (scale 'counts');
 * dense: seeded normal values, as the z-scored SCAD matrices (scale 'normalized').
 */
import { Rng } from '../../../core/rng.js';
import { markerGenes, predictedGroups } from '../../../trainer/interpret/index.js';

const kind = process.argv[2] ?? 'sparse';
if (kind !== 'sparse' && kind !== 'dense') throw new Error(`kind must be sparse or dense, got ${kind}`);
const cells = Number(process.argv[3] ?? 7440);
const genes = Number(process.argv[4] ?? 12715);
const rng = new Rng(5);
const x = new Float32Array(cells * genes);
for (let i = 0; i < x.length; i++) {
  if (kind === 'dense') {
    x[i] = rng.normal();
    continue;
  }
  const u = rng.float();
  // Mostly zeros, then a few distinct small log1p levels, then a continuous tail.
  x[i] = u < 0.7 ? 0 : u < 0.85 ? Math.log1p(Math.floor((u - 0.7) * 40)) : Math.log1p(6 + 60 * (u - 0.85));
}
const scores = new Float32Array(cells);
for (let i = 0; i < cells; i++) scores[i] = rng.float();
const names = Array.from({ length: genes }, (_, g) => `g${g}`);

for (const tieCorrect of [false, true]) {
  const t0 = performance.now();
  const groups = predictedGroups(scores);
  const m = markerGenes(x, cells, genes, names, groups.sensitive, { scale: kind === 'dense' ? 'normalized' : 'counts', tieCorrect });
  const ms = performance.now() - t0;
  console.log(
    `${kind} ${cells} x ${genes}, tieCorrect=${tieCorrect}: ${(ms / 1000).toFixed(2)} s ` +
      `(${groups.nSensitive} / ${groups.nResistant} cells, ${m.sensitive.length} + ${m.resistant.length} markers)`,
  );
}
