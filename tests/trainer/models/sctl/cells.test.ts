import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../../core/rng.js';
import { CellBatches } from '../../../../trainer/models/sctl/cells.js';

test('each pass is a fresh shuffle cut into full batches; the leftover cells wait for another pass', () => {
  const cells = new CellBatches(10, 4, new Rng(1));
  const passes = [0, 1, 2].map(() => [cells.next(), cells.next()]);
  for (const pass of passes) {
    const seen = pass.flatMap((b) => Array.from(b));
    assert.ok(pass.every((b) => b.length === 4));
    assert.equal(new Set(seen).size, 8, 'no cell twice in a pass');
    assert.ok(seen.every((i) => i >= 0 && i < 10));
  }
  assert.notDeepEqual(passes[0], passes[1], 'another order each pass');
  const counts = new Array(10).fill(0);
  const many = new CellBatches(10, 4, new Rng(2));
  for (let i = 0; i < 500; i++) for (const c of many.next()) counts[c]++;
  assert.ok(counts.every((n) => n > 150), `every cell is drawn: ${counts}`);
});

test('fewer cells than a batch: every batch is all the cells', () => {
  const cells = new CellBatches(5, 128, new Rng(3));
  assert.equal(cells.batchSize, 5);
  for (let i = 0; i < 3; i++) assert.deepEqual(Array.from(cells.next()).sort(), [0, 1, 2, 3, 4]);
});

test('is determined by its stream', () => {
  const a = new CellBatches(50, 16, new Rng(9));
  const b = new CellBatches(50, 16, new Rng(9));
  for (let i = 0; i < 10; i++) assert.deepEqual(a.next(), b.next());
});

test('bad sizes are RangeErrors', () => {
  assert.throws(() => new CellBatches(1, 4, new Rng(1)), /expected at least 2 cells, but got 1/);
  assert.throws(() => new CellBatches(10, 1, new Rng(1)), /expected a batch size >= 2, but got 1/);
});
