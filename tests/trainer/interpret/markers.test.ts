import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MarkerGene } from '../../../proto/gen/cellsweep/v1/run.js';
import { bonferroni, differentialExpression, groupMeans, markerGenes, predictedGroups } from '../../../trainer/interpret/index.js';
import { assertClose, DBL_MIN, fixtures, matrixOf, type MarkerGeneFixture } from './fixtures.js';

const REL = 1e-10;
/** The brief's tolerance on fold changes (the differences seen are ~1e-15: sums in another order). */
const LFC_TOL = 1e-6;

function assertMarkers(actual: MarkerGene[], expected: MarkerGeneFixture[], what: string): void {
  assert.deepEqual(
    actual.map((m) => m.gene),
    expected.map((m) => m.gene),
    `${what}: selected genes`,
  );
  actual.forEach((m, i) => {
    const e = expected[i]!;
    assertClose(m.statistic, e.statistic, REL, `${what} ${m.gene} statistic`);
    assertClose(m.logFoldChange, e.logFoldChange, 0, `${what} ${m.gene} logFoldChange`, LFC_TOL);
    if (e.pValue >= DBL_MIN) {
      assertClose(m.pValue, e.pValue, REL, `${what} ${m.gene} pValue`);
      assertClose(m.pAdjusted, e.pAdjusted, REL, `${what} ${m.gene} pAdjusted`);
    } else {
      assert.ok(m.pValue < DBL_MIN && m.pAdjusted < DBL_MIN * 30, `${what} ${m.gene}: underflowed p ${m.pValue}`);
    }
  });
}

describe('markerGenes against the scanpy formulas (numpy/scipy reference)', () => {
  for (const c of fixtures.markers) {
    test(c.name, () => {
      const m = matrixOf(c.matrix);
      const opts = { scale: c.scale, tieCorrect: c.tie_correct, ...c.opts };
      const res = markerGenes(m.values, m.rows, m.cols, m.genes, m.sensitive, opts);
      assertMarkers(res.sensitive, c.markers.sensitive, 'sensitive');
      assertMarkers(res.resistant, c.markers.resistant, 'resistant');
      assert.equal(res.effect, c.scale === 'counts' ? 'log2FoldChange' : 'meanDifference');
      assert.equal(res.nSensitive, m.sensitive.filter(Boolean).length);
      assert.equal(res.nResistant + res.nSensitive, m.rows);
      assert.equal(res.genesTested, m.cols);
    });

    test(`${c.name}: every gene's adjusted p and effect`, () => {
      const m = matrixOf(c.matrix);
      const de = differentialExpression(m.values, m.rows, m.cols, m.sensitive, { scale: c.scale, tieCorrect: c.tie_correct });
      for (const side of ['sensitive', 'resistant'] as const) {
        const adj = c.per_gene[`p_adj_${side}`];
        const lfc = c.per_gene[`lfc_${side}`];
        for (let g = 0; g < m.cols; g++) {
          const what = `${side} ${m.genes[g]}`;
          assertClose(de[side].effect[g]!, lfc[g]!, 0, `${what} effect`, LFC_TOL);
          if (adj[g]! >= DBL_MIN) assertClose(de[side].pAdjusted[g]!, adj[g]!, REL, `${what} p_adj`);
          else assert.ok(de[side].pAdjusted[g]! < DBL_MIN * m.cols, what);
        }
      }
    });
  }

  test('the reference cases exercise every filter', () => {
    const counts = fixtures.markers.find((c) => c.name === 'log1p counts, tie_correct=False')!;
    const pg = counts.per_gene;
    const genes = matrixOf(counts.matrix).genes;
    const passing = genes.filter((_, g) => pg.z_sensitive[g]! > 0 && pg.p_adj_sensitive[g]! < 0.05 && pg.lfc_sensitive[g]! > 0.7);
    assert.ok(passing.length > 10, `top 10 cuts the list (${passing.length} pass)`);
    assert.ok(genes.some((_, g) => pg.p_adj_sensitive[g]! < 0.05 && pg.z_sensitive[g]! > 0 && pg.lfc_sensitive[g]! <= 0.7), 'a significant gene with a small fold change');
    assert.ok(genes.some((_, g) => pg.p_adj_sensitive[g]! >= 0.05 && pg.lfc_sensitive[g]! > 0.7), 'a large fold change that is not significant');
  });
});

describe('selection rules', () => {
  const c = fixtures.markers.find((k) => k.name === 'log1p counts, tie_correct=False')!;
  const m = matrixOf(c.matrix);
  const opts = { scale: 'counts' as const, ...c.opts };

  test('the counts fixture mask is predictedGroups of its scores', () => {
    const g = predictedGroups(Float32Array.from(m.scores!));
    assert.deepEqual(g.sensitive, m.sensitive);
  });

  test('constant genes are never markers: z 0, p 1, fold change 0', () => {
    const de = differentialExpression(m.values, m.rows, m.cols, m.sensitive, { scale: 'counts' });
    for (const name of ['CONST0', 'CONST3']) {
      const g = m.genes.indexOf(name);
      for (const side of ['sensitive', 'resistant'] as const) {
        assert.equal(de[side].z[g], 0);
        assert.equal(de[side].pValue[g], 1);
        assert.equal(de[side].pAdjusted[g], 1);
        assert.equal(de[side].effect[g], 0);
      }
    }
  });

  test('the strongly up gene leads the sensitive list, the strongly down gene the resistant list', () => {
    const res = markerGenes(m.values, m.rows, m.cols, m.genes, m.sensitive, opts);
    assert.equal(res.sensitive[0]!.gene, 'UP');
    assert.equal(res.resistant[0]!.gene, 'DOWN');
    for (const list of [res.sensitive, res.resistant]) {
      for (let i = 1; i < list.length; i++) assert.ok(list[i - 1]!.statistic >= list[i]!.statistic, 'sorted by z, descending');
      for (const k of list) assert.ok(k.statistic > 0 && k.logFoldChange > 0.7 && k.pAdjusted < 0.05);
    }
  });

  test('a gene whose rank test and fold change disagree is a marker of neither group', () => {
    const g = m.genes.indexOf('DISAGREE');
    const de = differentialExpression(m.values, m.rows, m.cols, m.sensitive, { scale: 'counts' });
    // It would pass p and fold change on the resistant side, with z < 0 there.
    assert.ok(de.resistant.pAdjusted[g]! < 0.05 && de.resistant.effect[g]! > 0.7 && de.resistant.z[g]! < 0);
    const res = markerGenes(m.values, m.rows, m.cols, m.genes, m.sensitive, { ...opts, top: 1000 });
    assert.ok(!res.sensitive.some((k) => k.gene === 'DISAGREE'));
    assert.ok(!res.resistant.some((k) => k.gene === 'DISAGREE'));
  });

  test('equal z keep the gene order (UP, G04, G06 are all perfectly separated)', () => {
    const res = markerGenes(m.values, m.rows, m.cols, m.genes, m.sensitive, opts);
    assert.deepEqual(res.sensitive.slice(0, 3).map((k) => k.gene), ['UP', 'G04', 'G06']);
    assert.equal(res.sensitive[0]!.statistic, res.sensitive[2]!.statistic);
  });

  test('top, pMax and minAbsLfc are applied', () => {
    assert.equal(markerGenes(m.values, m.rows, m.cols, m.genes, m.sensitive, { ...opts, top: 0 }).sensitive.length, 0);
    const all = markerGenes(m.values, m.rows, m.cols, m.genes, m.sensitive, { ...opts, top: 1000 }).sensitive;
    assert.ok(all.length > 10);
    const strict = markerGenes(m.values, m.rows, m.cols, m.genes, m.sensitive, { ...opts, top: 1000, pMax: 1e-6 }).sensitive;
    assert.deepEqual(strict.map((k) => k.gene), all.filter((k) => k.pAdjusted < 1e-6).map((k) => k.gene));
    const big = markerGenes(m.values, m.rows, m.cols, m.genes, m.sensitive, { ...opts, top: 1000, minAbsLfc: 2.5 }).sensitive;
    assert.deepEqual(big.map((k) => k.gene), all.filter((k) => k.logFoldChange > 2.5).map((k) => k.gene));
    assert.ok(strict.length < all.length && big.length < all.length && big.length > 0);
  });

  test('defaults are the paper\'s: p_adj < 0.05, log fold change > 0.7, top 10, no tie correction', () => {
    const byDefault = markerGenes(m.values, m.rows, m.cols, m.genes, m.sensitive, { scale: 'counts' });
    assert.deepEqual(byDefault, markerGenes(m.values, m.rows, m.cols, m.genes, m.sensitive, { scale: 'counts', pMax: 0.05, minAbsLfc: 0.7, top: 10, tieCorrect: false }));
    assert.equal(byDefault.sensitive.length, 10);
  });
});

describe('helpers and errors', () => {
  test('bonferroni: p times the genes tested, at most 1', () => {
    assert.deepEqual(Array.from(bonferroni(Float64Array.from([0.001, 0.2, 0, 1e-300]), 10)), [0.01, 1, 0, 1e-299]);
    assert.deepEqual(Array.from(bonferroni(Float64Array.from([0.01, 0.3]))), [0.02, 0.6]);
  });

  test('groupMeans averages each side in double', () => {
    const x = Float32Array.from([1, 10, 2, 20, 4, 40]);
    const { group, rest } = groupMeans(x, 3, 2, [true, false, true]);
    assert.deepEqual(Array.from(group), [2.5, 25]);
    assert.deepEqual(Array.from(rest), [2, 20]);
    assert.throws(() => groupMeans(Float32Array.from([1, Number.POSITIVE_INFINITY, 2, 3]), 2, 2, [true, false]), { name: 'RangeError', message: /gene 1 has a non-finite/ });
  });

  test('normalized scale: the effect is the difference of means, in the input units', () => {
    const x = Float32Array.from([1, 0, 3, 0, -1, 0, -2, 1]); // 4 cells x 2 genes
    const de = differentialExpression(x, 4, 2, [true, true, false, false], { scale: 'normalized' });
    assert.equal(de.effect, 'meanDifference');
    assert.deepEqual(Array.from(de.sensitive.effect), [2 - -1.5, 0 - 0.5]);
    assert.deepEqual(Array.from(de.resistant.effect), [-1.5 - 2, 0.5 - 0]);
  });

  test('counts scale: scanpy\'s log2 of expm1 of the mean log1p values, with its 1e-9', () => {
    const v = Math.log1p(3);
    const x = Float32Array.from([v, 0, v, 0, 0, 0, 0, 0]);
    const de = differentialExpression(x, 4, 2, [true, true, false, false], { scale: 'counts' });
    assertClose(de.sensitive.effect[0]!, Math.log2((Math.expm1(Math.fround(v)) + 1e-9) / 1e-9), 1e-15, 'up from nothing');
    assert.equal(de.sensitive.effect[1], 0);
  });

  test('an empty predicted group is a clear error', () => {
    const m = matrixOf('log1p counts 80x30');
    const none = m.sensitive.map(() => false);
    assert.throws(() => markerGenes(m.values, m.rows, m.cols, m.genes, none, { scale: 'counts' }), {
      name: 'RangeError',
      message: /both predicted groups non-empty: 0 of 80 cells predicted sensitive \(all scores at or below the median/,
    });
    assert.throws(() => markerGenes(m.values, m.rows, m.cols, m.genes, m.sensitive.map(() => true), { scale: 'counts' }), {
      name: 'RangeError',
      message: /80 of 80 cells predicted sensitive/,
    });
    // What a constant predictor leads to, end to end.
    const flat = predictedGroups(new Float32Array(m.rows).fill(0.5));
    assert.throws(() => markerGenes(m.values, m.rows, m.cols, m.genes, flat.sensitive, { scale: 'counts' }), RangeError);
  });

  test('bad shapes and options are RangeErrors', () => {
    const m = matrixOf('z-scores 100x25');
    const call = (o: object, genes = m.genes, cols = m.cols) =>
      markerGenes(m.values, m.rows, cols, genes, m.sensitive, { scale: 'normalized', ...o });
    assert.throws(() => call({}, m.genes.slice(1)), { name: 'RangeError', message: /24 gene names for 25 columns/ });
    assert.throws(() => call({}, m.genes.slice(1), 24), { name: 'RangeError', message: /not 100 x 24/ });
    assert.throws(() => call({ pMax: 0 }), { name: 'RangeError', message: /pMax/ });
    assert.throws(() => call({ pMax: 1.5 }), { name: 'RangeError', message: /pMax/ });
    assert.throws(() => call({ minAbsLfc: -1 }), { name: 'RangeError', message: /minAbsLfc/ });
    assert.throws(() => call({ top: 2.5 }), { name: 'RangeError', message: /top/ });
    assert.throws(() => call({ scale: 'log' }), { name: 'RangeError', message: /scale/ });
  });
});
