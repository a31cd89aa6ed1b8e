import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { SAMPLING_STRATEGIES, type SamplingStrategy } from '../../core/model-specs.js';
import { Rng } from '../../core/rng.js';
import { createBulkSampler, type BulkMatrix, type BulkSampler } from '../../trainer/sampling/index.js';
import { nearestNeighbours } from '../../trainer/sampling/knn.js';

/** rows x cols uniform values, `positives` rows labelled 1 at random places. */
function makeData(rows: number, cols: number, positives: number, seed: string): BulkMatrix {
  const rng = new Rng(seed);
  const x = Float32Array.from({ length: rows * cols }, () => rng.float());
  const y = new Uint8Array(rows);
  y.fill(1, 0, positives);
  rng.shuffle(y);
  return { x, y, rows, cols };
}

function sampler(strategy: SamplingStrategy, data: BulkMatrix, batchSize = 8, smoteK = 5, seed = 'create'): BulkSampler {
  return createBulkSampler(strategy, data, { batchSize, smoteK }, new Rng(seed));
}

function rowOf(x: Float32Array, cols: number, r: number): Float32Array {
  return x.subarray(r * cols, (r + 1) * cols);
}

function squaredDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let c = 0; c < a.length; c++) s += (a[c] - b[c]) ** 2;
  return s;
}

/** Brute force: the minority rows within the k-th smallest distance of row i (ties included). */
function bruteNeighbours(data: BulkMatrix, minority: number[], i: number, k: number): number[] {
  const a = rowOf(data.x, data.cols, i);
  const others = minority.filter((j) => j !== i).map((j) => ({ j, d: squaredDistance(a, rowOf(data.x, data.cols, j)) }));
  others.sort((p, q) => p.d - q.d);
  const kth = others[Math.min(k, others.length) - 1].d;
  return others.filter((o) => o.d <= kth * (1 + 1e-9)).map((o) => o.j);
}

/** Where `s` lies on the segment a -> b: t in [0, 1] and the residual, or undefined when off the segment. */
function segmentPosition(s: Float32Array, a: Float32Array, b: Float32Array): number | undefined {
  let num = 0;
  let den = 0;
  for (let c = 0; c < s.length; c++) {
    num += (s[c] - a[c]) * (b[c] - a[c]);
    den += (b[c] - a[c]) ** 2;
  }
  const t = den === 0 ? 0 : num / den;
  if (t < -1e-6 || t > 1 + 1e-6) return undefined;
  for (let c = 0; c < s.length; c++) {
    // float32 rounding of a + t (b - a) with values in [0, 1).
    if (Math.abs(s[c] - (a[c] + t * (b[c] - a[c]))) > 1e-6) return undefined;
  }
  return t;
}

function classCounts(y: Uint8Array): [number, number] {
  let ones = 0;
  for (const v of y) ones += v;
  return [y.length - ones, ones];
}

describe('createBulkSampler', () => {
  test('rejects bad arguments with a message saying what was expected', () => {
    const data = makeData(10, 3, 4, 'args');
    const create = (strategy: string, d: BulkMatrix, batchSize = 4, smoteK = 5): BulkSampler =>
      createBulkSampler(strategy as SamplingStrategy, d, { batchSize, smoteK }, new Rng(1));
    assert.throws(() => create('random', data), {
      name: 'RangeError',
      message: 'createBulkSampler: expected a sampling strategy (none, weighted, smote), but got "random"',
    });
    assert.throws(() => create('none', data, 1), { name: 'RangeError', message: 'createBulkSampler: expected a batch size >= 2, but got 1' });
    assert.throws(() => create('none', data, 2.5), { message: 'createBulkSampler: expected a batch size >= 2, but got 2.5' });
    assert.throws(() => create('smote', data, 4, 0), { message: 'createBulkSampler: expected SMOTE k >= 1, but got 0' });
    assert.throws(() => create('none', { ...data, rows: 11 }), {
      message: 'createBulkSampler: expected x of 11 x 3 = 33 values, but got 30',
    });
    assert.throws(() => create('none', { ...data, y: new Uint8Array(9) }), { message: 'createBulkSampler: expected 10 labels, but got 9' });
    const y = data.y.slice();
    y[7] = 2;
    assert.throws(() => create('weighted', { ...data, y }), { message: 'createBulkSampler: expected labels 0 or 1, but got 2 at row 7' });
    assert.throws(() => create('none', { ...data, rows: -1 }), { message: 'createBulkSampler: expected rows to be an integer >= 0, but got -1' });
  });

  for (const strategy of SAMPLING_STRATEGIES) {
    describe(`${strategy}: shared contract`, () => {
      const data = makeData(103, 6, 21, `det-${strategy}`);

      test('the same seeds give the same rows and batches; other seeds do not', () => {
        const a = sampler(strategy, data, 16);
        const b = sampler(strategy, data, 16);
        assert.deepEqual(a.x, b.x);
        assert.deepEqual(a.y, b.y);
        const epochs = (s: BulkSampler, seed: number): Int32Array[][] => {
          const rng = new Rng(seed);
          return [s.epoch(rng), s.epoch(rng), s.epoch(rng)];
        };
        assert.deepEqual(epochs(a, 7), epochs(b, 7));
        assert.notDeepEqual(epochs(a, 7), epochs(a, 8));
        const [first, second] = epochs(a, 7);
        assert.notDeepEqual(first, second, 'consecutive epochs repeat the same batches');
      });

      test('batches hold in-range indices, batchSize rows each, the last at least 2', () => {
        for (const batchSize of [2, 5, 16, 64, 1000]) {
          const s = sampler(strategy, data, batchSize);
          const batches = s.epoch(new Rng(batchSize));
          assert.ok(batches.length > 0);
          batches.forEach((batch, b) => {
            assert.ok(batch instanceof Int32Array);
            if (b < batches.length - 1) assert.equal(batch.length, batchSize);
            else assert.ok(batch.length >= 2 && batch.length <= batchSize, `last batch of ${batch.length}`);
            for (const i of batch) assert.ok(Number.isInteger(i) && i >= 0 && i < s.rows, `index ${i} out of [0, ${s.rows})`);
          });
          const drawn = batches.reduce((n, batch) => n + batch.length, 0);
          const expected = s.rows % batchSize === 1 ? s.rows - 1 : s.rows;
          assert.equal(drawn, expected, `batch size ${batchSize}`);
        }
      });

      test('a last batch of one row is dropped, one of two is kept', () => {
        const nine = makeData(9, 2, 3, 'nine');
        const ten = makeData(10, 2, 5, 'ten');
        assert.deepEqual(sampler(strategy, ten, 4).epoch(new Rng(1)).map((b) => b.length), [4, 4, 2]);
        if (strategy !== 'smote') {
          assert.deepEqual(sampler(strategy, nine, 4).epoch(new Rng(1)).map((b) => b.length), [4, 4]);
        }
        assert.deepEqual(sampler(strategy, makeData(1, 2, 0, 'one'), 4).epoch(new Rng(1)), []);
        assert.deepEqual(sampler(strategy, makeData(0, 2, 0, 'empty'), 4).epoch(new Rng(1)), []);
      });

      test('a single class does not crash', () => {
        for (const positives of [0, 30]) {
          const single = makeData(30, 4, positives, 'single');
          const s = sampler(strategy, single, 8);
          assert.equal(s.rows, 30);
          assert.deepEqual(s.y, single.y);
          const batches = s.epoch(new Rng(3));
          assert.equal(batches.reduce((n, b) => n + b.length, 0), 30);
          for (const batch of batches) for (const i of batch) assert.ok(i >= 0 && i < 30);
        }
      });

      test('does not modify its input', () => {
        const before = { x: data.x.slice(), y: data.y.slice() };
        const s = sampler(strategy, data, 8);
        s.epoch(new Rng(1));
        assert.deepEqual(data.x, before.x);
        assert.deepEqual(data.y, before.y);
      });
    });
  }
});

describe('none', () => {
  test('every epoch is a new permutation of all rows', () => {
    const data = makeData(50, 3, 10, 'perm');
    const s = sampler('none', data, 8);
    assert.equal(s.x, data.x);
    assert.equal(s.y, data.y);
    const rng = new Rng(11);
    const orders = [0, 1, 2].map(() => s.epoch(rng).flatMap((b) => Array.from(b)));
    const all = Array.from({ length: 50 }, (_, i) => i);
    for (const order of orders) assert.deepEqual([...order].sort((p, q) => p - q), all);
    assert.notDeepEqual(orders[0], orders[1]);
    assert.notDeepEqual(orders[0], all, 'the first epoch is not shuffled');
  });
});

describe('weighted', () => {
  test('draws both classes about equally from 90/10 data, and every minority row about equally', () => {
    const data = makeData(1000, 2, 100, 'imbalanced');
    const s = sampler('weighted', data, 128);
    const rng = new Rng('weighted-epochs');
    const hits = new Int32Array(1000);
    let total = 0;
    let minority = 0;
    for (let e = 0; e < 50; e++) {
      const batches = s.epoch(rng);
      assert.equal(batches.reduce((n, b) => n + b.length, 0), 1000, 'an epoch draws `rows` indices');
      for (const batch of batches) {
        for (const i of batch) {
          hits[i]++;
          total++;
          minority += data.y[i];
        }
      }
    }
    // 50,000 draws at p = 0.5: sd 0.0022, so +-0.015 is ~7 sd. Unweighted sampling gives 0.1.
    const share = minority / total;
    assert.ok(Math.abs(share - 0.5) < 0.015, `minority share ${share}`);
    // Each minority row: Binomial(50,000, 0.005), mean 250, sd 15.8; majority rows: mean 27.8, sd 5.3.
    for (let i = 0; i < 1000; i++) {
      if (data.y[i] === 1) assert.ok(hits[i] > 150 && hits[i] < 350, `minority row ${i} drawn ${hits[i]} times`);
      else assert.ok(hits[i] > 3 && hits[i] < 60, `majority row ${i} drawn ${hits[i]} times`);
    }
  });

  test('draws with replacement', () => {
    const data = makeData(200, 2, 100, 'replacement');
    const drawn = sampler('weighted', data, 200).epoch(new Rng(5))[0];
    // 200 draws from 200 rows without repeats has probability 200!/200^200.
    assert.ok(new Set(drawn).size < 200);
  });
});

describe('smote', () => {
  function minorityRows(y: Uint8Array, label: number): number[] {
    return Array.from(y, (v, i) => (v === label ? i : -1)).filter((i) => i >= 0);
  }

  test('balances the classes, original rows first and untouched', () => {
    for (const [rows, positives] of [
      [70, 13],
      [70, 57],
      [200, 3],
    ]) {
      const data = makeData(rows, 9, positives, `bal-${rows}-${positives}`);
      const s = sampler('smote', data, 16, 5);
      const majority = Math.max(positives, rows - positives);
      assert.equal(s.rows, 2 * majority);
      assert.equal(s.cols, 9);
      assert.equal(s.x.length, s.rows * 9);
      assert.deepEqual(classCounts(s.y), [majority, majority]);
      assert.deepEqual(s.x.subarray(0, rows * 9), data.x);
      assert.deepEqual(s.y.subarray(0, rows), data.y);
      const minorityLabel = positives < rows - positives ? 1 : 0;
      for (let r = rows; r < s.rows; r++) assert.equal(s.y[r], minorityLabel);
    }
  });

  test('each synthetic row lies between a minority row and one of its k nearest minority neighbours', () => {
    for (const [k, positives, cols] of [
      [5, 13, 9],
      [1, 11, 3],
      [3, 20, 40],
    ]) {
      const data = makeData(90, cols, positives, `segments-${k}`);
      const s = sampler('smote', data, 16, k);
      const minority = minorityRows(data.y, 1);
      const neighbours = new Map(minority.map((i) => [i, bruteNeighbours(data, minority, i, k)]));
      const steps: number[] = [];
      for (let r = data.rows; r < s.rows; r++) {
        const row = rowOf(s.x, cols, r);
        let t: number | undefined;
        for (const i of minority) {
          for (const j of neighbours.get(i) ?? []) {
            t = segmentPosition(row, rowOf(data.x, cols, i), rowOf(data.x, cols, j));
            if (t !== undefined) break;
          }
          if (t !== undefined) break;
        }
        assert.ok(t !== undefined, `k=${k}: synthetic row ${r} is on no segment to a ${k}-nearest minority neighbour`);
        steps.push(t);
      }
      // The step is uniform in [0, 1): its mean is near 1/2, not stuck at an end.
      const mean = steps.reduce((p, q) => p + q, 0) / steps.length;
      assert.ok(mean > 0.3 && mean < 0.7, `mean step ${mean} over ${steps.length} rows`);
    }
  });

  test('with k >= the minority size, every other minority row is a neighbour', () => {
    const data = makeData(204, 6, 4, 'small-minority');
    const s = sampler('smote', data, 16, 10);
    const minority = minorityRows(data.y, 1);
    const used = new Set<string>();
    for (let r = data.rows; r < s.rows; r++) {
      const row = rowOf(s.x, 6, r);
      for (const i of minority) {
        for (const j of minority) {
          if (i >= j) continue;
          const t = segmentPosition(row, rowOf(data.x, 6, i), rowOf(data.x, 6, j));
          if (t !== undefined && t > 0.01 && t < 0.99) used.add(`${i}-${j}`);
        }
      }
    }
    // 196 synthetic rows, 6 pairs: each pair is missed with probability (5/6)^196.
    assert.equal(used.size, 6, `pairs used: ${[...used].join(', ')}`);
  });

  test('a minority of one row is duplicated', () => {
    const data = makeData(12, 5, 1, 'lonely');
    const s = sampler('smote', data, 4, 5);
    const [lonely] = minorityRows(data.y, 1);
    assert.equal(s.rows, 22);
    for (let r = 12; r < 22; r++) assert.deepEqual(rowOf(s.x, 5, r), rowOf(data.x, 5, lonely));
    assert.deepEqual(classCounts(s.y), [11, 11]);
  });

  test('balanced data gets no synthetic rows', () => {
    const data = makeData(40, 5, 20, 'balanced');
    const s = sampler('smote', data, 8);
    assert.equal(s.rows, 40);
    assert.deepEqual(s.x, data.x);
    assert.deepEqual(s.y, data.y);
  });

  test('epochs are permutations of the augmented rows', () => {
    const data = makeData(60, 4, 15, 'smote-epochs');
    const s = sampler('smote', data, 10);
    assert.equal(s.rows, 90);
    const order = s.epoch(new Rng(2)).flatMap((b) => Array.from(b));
    assert.deepEqual(
      order.sort((p, q) => p - q),
      Array.from({ length: 90 }, (_, i) => i),
    );
  });

  test('synthetic rows depend on the creation seed, which the caller keeps unmoved', () => {
    const data = makeData(60, 4, 15, 'smote-seed');
    assert.notDeepEqual(sampler('smote', data, 10, 5, 'a').x, sampler('smote', data, 10, 5, 'b').x);
    const rng = new Rng('caller');
    createBulkSampler('smote', data, { batchSize: 10, smoteK: 5 }, rng);
    assert.equal(rng.float(), new Rng('caller').float());
  });
});

describe('nearestNeighbours', () => {
  test('matches brute force, for every size of the blocked loops', () => {
    for (let m = 1; m <= 11; m++) {
      const data = makeData(2 * m + 3, 7, 0, `knn-${m}`);
      // Scattered rows, as minority rows are in real data.
      const members = Int32Array.from({ length: m }, (_, i) => 2 * i + 1);
      for (let k = 0; k < m; k++) {
        const result = nearestNeighbours(data.x, 7, members, k);
        assert.equal(result.length, m * k);
        for (let i = 0; i < m; i++) {
          const a = rowOf(data.x, 7, members[i]);
          const expected = Array.from(members.keys())
            .filter((j) => j !== i)
            .sort((p, q) => squaredDistance(a, rowOf(data.x, 7, members[p])) - squaredDistance(a, rowOf(data.x, 7, members[q])))
            .slice(0, k);
          assert.deepEqual(Array.from(result.subarray(i * k, (i + 1) * k)), expected, `m=${m} k=${k} i=${i}`);
        }
      }
    }
  });

  test('breaks equal distances by the lower position', () => {
    // Four identical rows: every other row is at distance 0.
    const x = new Float32Array(4 * 3).fill(0.25);
    assert.deepEqual(Array.from(nearestNeighbours(x, 3, Int32Array.from([0, 1, 2, 3]), 2)), [1, 2, 0, 2, 0, 1, 0, 1]);
  });

  test('rejects k beyond the other members', () => {
    assert.throws(() => nearestNeighbours(new Float32Array(6), 2, Int32Array.from([0, 1, 2]), 3), {
      name: 'RangeError',
      message: 'nearestNeighbours: expected k in [0, 2], but got 3',
    });
  });
});
