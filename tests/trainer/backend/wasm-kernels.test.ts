import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../../trainer/backend/index.js';
import { registerReduceGradients, unregisterReduceGradients } from '../../../trainer/backend/reduce-gradients.js';
import { isWasmGatherPatched, patchWasmGather, unpatchWasmGather } from '../../../trainer/backend/wasm-gather.js';
import { isWasmIdentityPatched, patchWasmIdentity, unpatchWasmIdentity } from '../../../trainer/backend/wasm-identity.js';
import { isWasmReducePatched, patchWasmReduce, unpatchWasmReduce } from '../../../trainer/backend/wasm-reduce.js';

before(async () => {
  await selectBackend('wasm', { log: () => {} });
});

let seed = 100;
const rand = (shape: number[]): tf.Tensor => tf.randomUniform(shape, -1, 1, 'float32', seed++);

/** Runs each case with the original kernels, then the replacements, and returns both outputs. */
function both(cases: (() => tf.Tensor)[], unpatch: () => void, patch: () => void): [Float32Array[], Float32Array[], number[][]] {
  const run = () => cases.map((c) => tf.tidy(() => c().dataSync() as Float32Array));
  unpatch();
  const want = run();
  patch();
  const shapes = cases.map((c) => tf.tidy(() => c().shape));
  return [want, run(), shapes];
}

test('selecting the wasm backend installs the replacements', () => {
  assert.ok(isWasmGatherPatched());
  assert.ok(isWasmReducePatched());
});

test('row gather: the original kernel’s result bit for bit, other gathers unchanged', () => {
  const x = rand([50, 7, 3]);
  const m = rand([40, 33]);
  const ints = tf.tensor2d(Array.from({ length: 40 }, (_, i) => i * 7 - 3), [20, 2], 'int32');
  const idx = tf.tensor1d([3, 3, 0, 49, 17], 'int32');
  const cases = [
    () => tf.gather(x, idx),
    () => tf.gather(m, tf.tensor1d([39, 0, 5], 'int32')),
    () => tf.gather(m, tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32')),
    () => tf.gather(ints, tf.tensor1d([19, 1], 'int32')),
    () => tf.gather(m, tf.tensor1d([], 'int32')),
    () => tf.gather(m, tf.tensor1d([4, 1], 'int32'), 1), // another axis: the original kernel
  ];
  const [want, got, shapes] = both(cases, unpatchWasmGather, patchWasmGather);
  cases.forEach((_, i) => assert.deepEqual(Array.from(got[i]!), Array.from(want[i]!), `case ${i}`));
  assert.deepEqual(shapes.slice(0, 3), [[5, 7, 3], [3, 33], [2, 2, 33]]);
  assert.throws(() => tf.gather(m, tf.tensor1d([40], 'int32')), /index value 40 is not in \[0, 39\]/);
  tf.dispose([x, m, ints, idx]);
});

test('sum and mean over leading axes: the original kernels’ results bit for bit', () => {
  const a = rand([256, 37]);
  const b = rand([5, 6, 7]);
  // Values of very different sizes, so that the order of the sums shows in the last bits.
  const c = tf.tidy(() => tf.mul(rand([300, 9]), tf.pow(10, tf.mul(rand([300, 9]), 6))));
  const cases = [
    () => tf.sum(a, 0),
    () => tf.mean(a, 0),
    () => tf.sum(a, 0, true),
    () => tf.mean(b, [0, 1]),
    () => tf.sum(b, [1, 0], true),
    () => tf.sum(c, 0),
    () => tf.mean(c, -2),
    () => tf.sum(b, 1), // not leading: the original kernel
    () => tf.mean(a, 1),
    () => tf.sum(a),
  ];
  const [want, got, shapes] = both(cases, unpatchWasmReduce, patchWasmReduce);
  cases.forEach((_, i) => assert.deepEqual(Array.from(got[i]!), Array.from(want[i]!), `case ${i}`));
  assert.deepEqual(shapes.slice(0, 5), [[37], [37], [1, 37], [7], [1, 1, 7]]);
  tf.dispose([a, b, c]);
});

test('the replacements free what they allocate', () => {
  const m = rand([30, 20]);
  const backend = tf.engine().backend;
  const start = backend.numDataIds();
  for (let i = 0; i < 3; i++) tf.tidy(() => [tf.gather(m, tf.tensor1d([1, 2], 'int32')), tf.sum(m, 0), tf.mean(m, 0)].forEach((t) => t.dataSync()));
  assert.equal(backend.numDataIds(), start);
  m.dispose();
});

test('identity shares the data: a clone outlives its source, and gradients are unchanged', () => {
  assert.ok(isWasmIdentityPatched());
  const x = rand([6, 4]);
  const copy = tf.clone(x);
  const want = Array.from(x.dataSync());
  x.dispose();
  assert.deepEqual(Array.from(copy.dataSync()), want);
  copy.dispose();
  // A loss whose tape saves tensors (cloned by the engine), with and without copying.
  const w = tf.variable(rand([4, 3]));
  const inp = rand([6, 4]);
  const grad = () => tf.tidy(() => Array.from(tf.variableGrads(() => tf.sum(tf.square(tf.relu(tf.matMul(inp, w))))).grads[w.name]!.dataSync()));
  unpatchWasmIdentity();
  const copying = grad();
  patchWasmIdentity();
  assert.deepEqual(grad(), copying);
  tf.dispose([w, inp]);
});

test('sum and mean gradients by row copies: tfjs-core’s gradients bit for bit', () => {
  const x = rand([40, 3, 5]);
  const w = tf.variable(rand([40, 3, 5]));
  const losses: (() => tf.Scalar)[] = [
    () => tf.sum(tf.mul(tf.sum(tf.mul(x, w), 0), rand([3, 5]))),
    () => tf.sum(tf.mul(tf.mean(tf.mul(x, w), [0, 1], true), rand([1, 1, 5]))),
    () => tf.mean(tf.mul(x, w)) as tf.Scalar,
    () => tf.sum(tf.mul(tf.mean(tf.mul(x, w), 1), rand([40, 5]))), // not leading: the original formula
    () => tf.sum(tf.mul(tf.sum(tf.mul(x, w), [1, 0]), rand([5]))),
  ];
  const grads = () => losses.map((loss, i) => tf.tidy(() => { seed = 500 + i; return Array.from(tf.variableGrads(loss, [w]).grads[w.name]!.dataSync()); }));
  unregisterReduceGradients();
  const want = grads();
  registerReduceGradients();
  const got = grads();
  losses.forEach((_, i) => assert.deepEqual(got[i], want[i], `loss ${i}`));
  tf.dispose([x, w]);
});
