import assert from 'node:assert/strict';
import test from 'node:test';
import { f64Kernels } from '../../../trainer/backend/simd/vecmat-f64.js';

test('vecmat: x^T M, the plain loop’s result bit for bit, for shapes around the SIMD widths', () => {
  const k = f64Kernels();
  for (const [rows, cols] of [[1, 1], [1, 8], [3, 17], [5, 9], [2, 3], [128, 128], [64, 100], [300, 7]] as const) {
    const [m, x, out] = k.arrays([rows * cols, rows, cols]) as [Float64Array, Float64Array, Float64Array];
    for (let i = 0; i < m.length; i++) m[i] = Math.sin(i * 1.3) * Math.exp(i % 5);
    for (let i = 0; i < rows; i++) x[i] = Math.cos(i) + 0.1;
    k.vecmat(m, x, out, rows, cols);
    const plain = new Float64Array(cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) plain[j] = (plain[j] as number) + (m[i * cols + j] as number) * (x[i] as number);
    assert.deepEqual(out, plain, `${rows} x ${cols}`);
  }
});

test('vecmat: arrays grow the memory and come zeroed; arrays from elsewhere are refused', () => {
  const k = f64Kernels();
  const [big] = k.arrays([2_000_000]) as [Float64Array];
  big.fill(7);
  const [again] = k.arrays([2_000_000]) as [Float64Array];
  assert.ok(again.every((v) => v === 0), 'zeroed');
  const [m, x] = k.arrays([4, 2]) as [Float64Array, Float64Array];
  assert.throws(() => k.vecmat(m, x, new Float64Array(2), 2, 2), /vecmat: out is not an array from arrays\(\) of at least 2 values/);
  assert.throws(() => k.vecmat(m, x, x, 3, 2), /vecmat: m is not an array from arrays\(\) of at least 6 values/);
});
