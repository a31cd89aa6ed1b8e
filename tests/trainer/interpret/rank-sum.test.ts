import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../core/rng.js';
import { rankSums, rankSumTest, rankSumZ } from '../../../trainer/interpret/index.js';
import { FAST_CAPACITY, keyBits, orderedKey, rankColumn, ZERO_KEY } from '../../../trainer/interpret/column-ranks.js';
import { assertClose, DBL_MIN, fixtures, matrixOf } from './fixtures.js';

/** Brief's tolerances against the scipy reference: z and p 1e-10 relative, p also in log space. */
const REL = 1e-10;

/** Average-rank sums the slow, obvious way: objects, a comparator sort, ties by scanning. */
function naiveRankSums(x: Float32Array, rows: number, cols: number, inGroup: boolean[]): { rankSum: number[]; tieSum: number[] } {
  const rankSum: number[] = [];
  const tieSum: number[] = [];
  for (let g = 0; g < cols; g++) {
    const cells = Array.from({ length: rows }, (_, r) => ({ v: x[r * cols + g]!, group: inGroup[r]! }));
    cells.sort((a, b) => a.v - b.v);
    let r = 0;
    let ties = 0;
    for (let i = 0; i < rows; ) {
      let j = i;
      while (j < rows && cells[j]!.v === cells[i]!.v) j++;
      const t = j - i;
      const avg = (i + 1 + j) / 2;
      for (let k = i; k < j; k++) if (cells[k]!.group) r += avg;
      ties += t * t * t - t;
      i = j;
    }
    rankSum.push(r);
    tieSum.push(ties);
  }
  return { rankSum, tieSum };
}

function randomMatrix(rng: Rng, rows: number, cols: number): Float32Array {
  const x = new Float32Array(rows * cols);
  for (let i = 0; i < x.length; i++) {
    const u = rng.float();
    // Zeros of both signs, small integers (ties), negatives, a continuous part, an infinity now and then.
    x[i] =
      u < 0.3 ? 0 : u < 0.35 ? -0 : u < 0.55 ? Math.floor(rng.float() * 4) : u < 0.6 ? -Math.floor(rng.float() * 3) : u < 0.999 ? rng.normal(0, 3) : Number.POSITIVE_INFINITY;
  }
  return x;
}

/** Rank sum and tie term of one column with the obvious computation. */
function naiveColumn(values: Float32Array, nGroup: number): [number, number] {
  const x = values;
  const { rankSum, tieSum } = naiveRankSums(x, x.length, 1, Array.from(x, (_, i) => i < nGroup));
  return [rankSum[0]!, tieSum[0]!];
}

function randomColumn(rng: Rng, n: number): Float32Array {
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = rng.float();
    values[i] =
      u < 0.25 ? 0 : u < 0.3 ? -0 : u < 0.35 ? 1e-40 /* subnormal */ : u < 0.37 ? Number.NEGATIVE_INFINITY : u < 0.39 ? Number.POSITIVE_INFINITY : u < 0.5 ? Math.round(rng.normal(0, 3)) : rng.normal(0, 100);
  }
  return values;
}

describe('rankColumn', () => {
  test('equals the obvious computation (zeros of both signs, subnormals, infinities, ties)', () => {
    const rng = new Rng(11);
    const out = new Float64Array(2);
    for (const [n, nGroup] of [
      [1, 1],
      [2, 1],
      [3, 0],
      [17, 5],
      [100, 60],
      [2048, 1000],
      [5000, 2500],
    ] as const) {
      const values = randomColumn(rng, n);
      assert.equal(rankColumn(new Int32Array(values.buffer), nGroup, out), true);
      assert.deepEqual(Array.from(out), naiveColumn(values, nGroup), `n = ${n}`);
    }
  });

  test('each radix digit decides: values that differ only in the low, middle or high bits', () => {
    const rng = new Rng(12);
    const out = new Float64Array(2);
    const ulp = 2 ** -23;
    const makers: [string, () => number][] = [
      ['low 11 bits', () => 1 + rng.int(0, 2047) * ulp],
      ['middle 11 bits', () => 1 + rng.int(0, 2047) * 2048 * ulp],
      ['high bits (exponents)', () => 2 ** rng.int(-20, 20)],
      ['negative, low bits', () => -(1 + rng.int(0, 2047) * ulp)],
    ];
    for (const [what, make] of makers) {
      for (const n of [500, FAST_CAPACITY + 7]) {
        const values = Float32Array.from({ length: n }, make);
        const nGroup = Math.floor(n / 3);
        assert.equal(rankColumn(new Int32Array(values.buffer), nGroup, out), true);
        assert.deepEqual(Array.from(out), naiveColumn(values, nGroup), `${what}, n = ${n}`);
      }
    }
  });

  test('columns of one value: all zeros, one repeated non-zero value, all negative', () => {
    const out = new Float64Array(2);
    const cases: [number[], number][] = [
      [[0, -0, 0, 0], 2],
      [[2.5, 2.5, 2.5], 1],
      [[-1, -1, -3, -2], 2],
      [[5, -5], 1],
    ];
    for (const [v, nGroup] of cases) {
      const values = Float32Array.from(v);
      assert.equal(rankColumn(new Int32Array(values.buffer), nGroup, out), true);
      assert.deepEqual(Array.from(out), naiveColumn(values, nGroup), v.join(' '));
    }
  });

  test(`a column longer than FAST_CAPACITY (${FAST_CAPACITY}) takes the other buffers and agrees`, () => {
    const rng = new Rng(13);
    const n = FAST_CAPACITY + 1001;
    const values = randomColumn(rng, n);
    const out = new Float64Array(2);
    assert.equal(rankColumn(new Int32Array(values.buffer), 30000, out), true);
    assert.deepEqual(Array.from(out), naiveColumn(values, 30000));
    // And back to a short column: the module's buffers are still right.
    const short = randomColumn(rng, 300);
    assert.equal(rankColumn(new Int32Array(short.buffer), 100, out), true);
    assert.deepEqual(Array.from(out), naiveColumn(short, 100));
    const nan = values.slice();
    nan[n - 5] = Number.NaN;
    assert.equal(rankColumn(new Int32Array(nan.buffer), 30000, out), false);
  });

  test('NaN is refused, whatever its sign bit and side', () => {
    const out = new Float64Array(2);
    assert.equal(rankColumn(new Int32Array(new Float32Array([1, Number.NaN, 2]).buffer), 1, out), false);
    assert.equal(rankColumn(new Int32Array(new Float32Array([0, 2, -Number.NaN]).buffer), 2, out), false);
    const negNaN = new Int32Array([0x3f800000, 0xffc00000 | 0]);
    assert.equal(rankColumn(negNaN, 1, out), false);
  });

  test('orderedKey keeps the numeric order of float32 values, one key for both zeros', () => {
    const values = [Number.NEGATIVE_INFINITY, -3.4e38, -2, -1e-40, -0, 0, 1e-45, 1e-40, 1, 1.0000001, 3.4e38, Number.POSITIVE_INFINITY];
    const key = (v: number) => orderedKey(new Int32Array(Float32Array.of(v).buffer)[0]!);
    for (let i = 1; i < values.length; i++) {
      if (Object.is(values[i - 1], -0)) assert.equal(key(values[i - 1]!), key(values[i]!), 'zeros');
      else assert.ok(key(values[i - 1]!) < key(values[i]!), `${values[i - 1]} < ${values[i]}`);
      const back = new Float32Array(Int32Array.of(keyBits(key(values[i]!))).buffer)[0];
      assert.equal(back, Math.fround(values[i]!) + 0, "keyBits inverts orderedKey (a zero comes back as +0)");
    }
    assert.equal(key(-0), ZERO_KEY);
  });
});

describe('rankSums', () => {
  test('equal the obvious computation exactly (ties, signed zeros, infinities, odd block sizes)', () => {
    const rng = new Rng(12);
    for (const [rows, cols] of [
      [2, 1],
      [7, 3],
      [50, 70],
      [301, 129],
    ] as const) {
      const x = randomMatrix(rng, rows, cols);
      const inGroup = Array.from({ length: rows }, (_, r) => r === 0 || (r !== 1 && rng.float() < 0.4));
      const fast = rankSums(x, rows, cols, inGroup);
      const slow = naiveRankSums(x, rows, cols, inGroup);
      assert.deepEqual(Array.from(fast.rankSum), slow.rankSum, `${rows} x ${cols} rank sums`);
      assert.deepEqual(Array.from(fast.tieSum), slow.tieSum, `${rows} x ${cols} tie sums`);
      assert.equal(fast.nGroup, inGroup.filter(Boolean).length);
    }
  });

  test('a 0/1 mask works like a boolean one', () => {
    const x = Float32Array.from([1, 5, 2, 3, 3, 3]); // column 1: 5, 3, 3 -> ranks 3, 1.5, 1.5
    const a = rankSums(x, 3, 2, [true, false, true]);
    const b = rankSums(x, 3, 2, Uint8Array.from([1, 0, 1]));
    assert.deepEqual(a, b);
    assert.deepEqual(Array.from(a.rankSum), [1 + 3, 3 + 1.5]);
    assert.deepEqual(Array.from(a.tieSum), [0, 2 * 2 * 2 - 2]);
  });

  test('an empty side, a wrong shape or a NaN is a RangeError', () => {
    const x = Float32Array.from([1, 2, 3, 4]);
    assert.throws(() => rankSums(x, 2, 2, [false, false]), { name: 'RangeError', message: /the group is empty \(0 in the group, 2 in the rest\)/ });
    assert.throws(() => rankSums(x, 2, 2, [true, true]), { name: 'RangeError', message: /the rest is empty/ });
    assert.throws(() => rankSums(x, 2, 2, [true]), { name: 'RangeError', message: /1 entries for 2 rows/ });
    assert.throws(() => rankSums(x, 3, 2, [true, false, true]), { name: 'RangeError', message: /not 3 x 2/ });
    assert.throws(() => rankSums(Float32Array.from([1, 2, Number.NaN, 4]), 2, 2, [true, false]), { name: 'RangeError', message: /gene 0 has a NaN/ });
  });
});

describe('rankSumTest against the scanpy formulas (numpy/scipy reference)', () => {
  for (const c of fixtures.markers) {
    test(c.name, () => {
      const m = matrixOf(c.matrix);
      for (const [side, mask] of [
        ['sensitive', m.sensitive],
        ['resistant', m.sensitive.map((s) => !s)],
      ] as const) {
        const res = rankSumTest(m.values, m.rows, m.cols, mask, { tieCorrect: c.tie_correct });
        const z = c.per_gene[`z_${side}`];
        const p = c.per_gene[`p_${side}`];
        const logp = c.per_gene[`logp_${side}`];
        for (let g = 0; g < m.cols; g++) {
          const what = `${side} ${m.genes[g]}`;
          assertClose(res.z[g]!, z[g]!, REL, `${what} z`);
          assertClose(res.logPValue[g]!, logp[g]!, REL, `${what} log p`, 1e-300);
          if (p[g]! >= DBL_MIN) assertClose(res.pValue[g]!, p[g]!, REL, `${what} p`);
          else assert.ok(res.pValue[g]! < DBL_MIN, `${what}: scipy's p underflowed, ours is ${res.pValue[g]}`);
        }
      }
    });
  }

  test('the cases include p below 1e-290, p that underflows, and a gene where tie correction matters', () => {
    const all = fixtures.markers.flatMap((c) => c.per_gene.p_sensitive);
    assert.ok(all.some((p) => p > 0 && p < 1e-290));
    assert.ok(all.some((p) => p === 0));
    const plain = fixtures.markers.find((c) => c.name === 'underflow, tie_correct=False')!;
    const tied = fixtures.markers.find((c) => c.name === 'underflow, tie_correct=True')!;
    const binary = matrixOf(plain.matrix).genes.indexOf('BINARY');
    assert.ok(tied.per_gene.z_sensitive[binary]! - plain.per_gene.z_sensitive[binary]! > 1);
  });

  test('a constant gene: z 0 and p 1, with and without tie correction', () => {
    const rows = 6;
    const x = new Float32Array(rows * 2);
    for (let r = 0; r < rows; r++) {
      x[r * 2] = 1.25; // constant
      x[r * 2 + 1] = r;
    }
    for (const tieCorrect of [false, true]) {
      const res = rankSumTest(x, rows, 2, [true, false, true, false, true, false], { tieCorrect });
      assert.equal(res.z[0], 0);
      assert.equal(res.pValue[0], 1);
      assert.equal(res.logPValue[0], 0);
      assert.notEqual(res.z[1], 0);
    }
  });

  test('the rest side mirrors the group side: z(rest) = -z(group)', () => {
    const m = matrixOf('log1p counts 80x30');
    const sums = rankSums(m.values, m.rows, m.cols, m.sensitive);
    for (const tieCorrect of [false, true]) {
      const zg = rankSumZ(sums, 'group', { tieCorrect });
      const zr = rankSumZ(sums, 'rest', { tieCorrect });
      for (let g = 0; g < m.cols; g++) assertClose(zr[g]!, -zg[g]!, 4 * Number.EPSILON, m.genes[g]!, 1e-300);
    }
  });
});
