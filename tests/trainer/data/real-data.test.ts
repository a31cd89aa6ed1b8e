import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadDataset } from '../../../trainer/data/dataset.js';
import { prepare } from '../../../trainer/data/preprocess.js';
import { REAL_DATA } from './helpers.js';

// Expected figures are those of shared/data/README.md.
const PAIRS = [
  { pair: 'gefitinib-jhu006', bulk: 566, bulkSensitive: 70, cells: 66, cellsSensitive: 33, cellGenes: 2933, shared: 141, missingIC50: 34 },
  { pair: 'afatinib-scc47', bulk: 577, bulkSensitive: 36, cells: 120, cellsSensitive: 60, cellGenes: 2876, shared: 148, missingIC50: 0 },
];

const sum = (labels: Uint8Array): number => labels.reduce((s, v) => s + v, 0);

for (const expected of PAIRS) {
  test(`real pair ${expected.pair}: loads as a SCAD pair with the README's shapes and labels`, async () => {
    const dataset = await loadDataset(join(REAL_DATA, expected.pair));
    assert.equal(dataset.name, expected.pair);
    assert.equal(dataset.bulk.ids.length, expected.bulk);
    assert.equal(dataset.bulk.genes.length, 706);
    assert.equal(dataset.bulk.values.length, expected.bulk * 706);
    assert.equal(sum(dataset.bulk.labels), expected.bulkSensitive);
    assert.equal(dataset.bulk.scale, 'normalized');
    assert.equal(dataset.cells.ids.length, expected.cells);
    assert.equal(dataset.cells.genes.length, expected.cellGenes);
    assert.equal(sum(dataset.cells.labels), expected.cellsSensitive);
    assert.equal(dataset.bulk.logIC50?.length, expected.bulk);
    assert.equal(dataset.bulk.logIC50?.filter(Number.isNaN).length, expected.missingIC50);
    assert.equal(dataset.cells.logIC50, undefined);
    assert.equal(dataset.bulk.ids[0], 'ACH-000001');
    assert.equal(dataset.bulk.genes[0], '10000');
  });

  test(`real pair ${expected.pair}: prepare keeps the ${expected.shared} shared genes, scaled to [0, 1]`, async () => {
    const dataset = await loadDataset(join(REAL_DATA, expected.pair));
    const prepared = prepare(dataset);
    assert.equal(prepared.genes.length, expected.shared);
    assert.equal(prepared.bulk.rows, expected.bulk);
    assert.equal(prepared.cells.rows, expected.cells);
    assert.equal(prepared.bulk.x.length, expected.bulk * expected.shared);
    assert.equal(prepared.cells.x.length, expected.cells * expected.shared);
    assert.deepEqual(prepared.bulk.ids, dataset.bulk.ids);
    // Shared genes keep the bulk's order.
    const bulkOrder = prepared.genes.map((g) => dataset.bulk.genes.indexOf(g));
    assert.deepEqual(bulkOrder, [...bulkOrder].sort((a, b) => a - b));
    for (const x of [prepared.bulk.x, prepared.cells.x]) {
      assert.ok(x.every((v) => v >= 0 && v <= 1));
    }
    // MinMax: every non-constant gene reaches 0 and 1 in the bulk.
    const width = prepared.genes.length;
    let scaled = 0;
    for (let g = 0; g < width; g++) {
      let min = Infinity;
      let max = -Infinity;
      for (let r = 0; r < prepared.bulk.rows; r++) {
        const v = prepared.bulk.x[r * width + g] as number;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      if (min === max) continue;
      assert.deepEqual([min, max], [0, 1], `gene ${prepared.genes[g]}`);
      scaled++;
    }
    assert.ok(scaled > width / 2, `${scaled} of ${width} genes vary in the bulk`);
    const detail = prepared.report.find((s) => s.step === 'shared genes')?.detail;
    assert.equal(
      detail,
      `kept ${expected.shared} of 706 bulk genes and ${expected.shared} of ${expected.cellGenes.toLocaleString('en-US')} cell genes`,
    );
  });
}

test('the byte-level number parser gives exactly what Number() gives on the real files (CRLF target included)', async () => {
  const pair = join(REAL_DATA, 'afatinib-scc47');
  const dataset = await loadDataset(pair);
  for (const [domain, file] of [
    [dataset.bulk, 'source.tsv'],
    [dataset.cells, 'target.tsv'],
  ] as const) {
    const lines = (await readFile(join(pair, file), 'utf8')).split(/\r?\n/).filter((l) => l !== '');
    const header = (lines[0] as string).split('\t');
    const first = header.indexOf('logIC50') >= 0 ? 3 : 2;
    assert.deepEqual(domain.genes, header.slice(first));
    const naive = new Float32Array(domain.values.length);
    lines.slice(1).forEach((line, r) => {
      const fields = line.split('\t');
      assert.equal(domain.ids[r], fields[0]);
      assert.equal(domain.labels[r], Number(fields[1]));
      for (let g = 0; g < domain.genes.length; g++) naive[r * domain.genes.length + g] = Number(fields[g + first]);
    });
    assert.deepEqual(domain.values, naive);
  }
});
