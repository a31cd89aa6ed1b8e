import { test } from 'node:test';
import assert from 'node:assert/strict';
import { subsampleCells, targetSubsample } from '../../../trainer/data/subsample.js';
import type { PreparedData } from '../../../trainer/data/types.js';

/** 10 cells x 2 genes; cell i holds values (i, 10 + i) and label i % 2, so every kept row can be traced back. */
function data(): PreparedData {
  const rows = 10;
  const x = new Float32Array(rows * 2);
  for (let i = 0; i < rows; i++) x.set([i, 10 + i], i * 2);
  const cells = { x, y: Uint8Array.from({ length: rows }, (_, i) => i % 2), rows, ids: Array.from({ length: rows }, (_, i) => `c${i}`) };
  return { genes: ['g1', 'g2'], bulk: { x: new Float32Array(4), y: Uint8Array.from([0, 1]), rows: 2 }, cells, report: [] };
}

test('a subsample keeps round(fraction x cells) whole rows, in order, with their labels and ids; the bulk and the cache entry are untouched', () => {
  const full = data();
  const sub = subsampleCells(full, { fraction: 0.8, which: 3 });
  assert.equal(sub.cells.rows, 8);
  const kept = Array.from({ length: 8 }, (_, i) => sub.cells.x[i * 2]!);
  assert.deepEqual([...kept].sort((p, q) => p - q), kept, 'original order');
  kept.forEach((row, i) => {
    assert.equal(sub.cells.x[i * 2 + 1], 10 + row);
    assert.equal(sub.cells.y[i], row % 2);
    assert.equal(sub.cells.ids![i], `c${row}`);
  });
  assert.equal(sub.bulk, full.bulk);
  assert.deepEqual(Array.from(full.cells.x.subarray(0, 4)), [0, 10, 1, 11], 'the full data is not modified');
  assert.match(sub.report.at(-1)!.detail, /kept 8 of 10 cells \(target_fraction 0\.8, target_subsample 3\)/);
});

test('the draw depends on target_subsample only: the same number draws the same cells, others differ', () => {
  const draw = (which: number): number[] => Array.from(subsampleCells(data(), { fraction: 0.5, which }).cells.ids!, (id) => Number(id.slice(1)));
  assert.deepEqual(draw(7), draw(7));
  const distinct = new Set([0, 1, 2, 3, 4, 5].map((w) => draw(w).join(',')));
  assert.ok(distinct.size >= 4, `${distinct.size} distinct draws of 6`);
});

test('fraction 1 is the data itself; a fraction that keeps under 2 cells or one class is a data error naming the setting', () => {
  const full = data();
  assert.equal(subsampleCells(full, targetSubsample({})), full);
  assert.throws(() => subsampleCells(full, { fraction: 0.1, which: 0 }), /target_fraction.*target_fraction 0\.1 of 10 cells keeps 1; at least 2 are needed/);
  const oneClass = { ...full, cells: { ...full.cells, y: Uint8Array.from({ length: 10 }, (_, i) => (i === 0 ? 1 : 0)) } };
  const which = [...Array(50).keys()].find((w) => {
    try {
      subsampleCells(oneClass, { fraction: 0.2, which: w });
      return false;
    } catch {
      return true;
    }
  });
  assert.ok(which !== undefined, 'some 2-cell draw misses the only positive cell');
  assert.throws(() => subsampleCells(oneClass, { fraction: 0.2, which: which! }), /target_subsample.*expected both classes/);
});
