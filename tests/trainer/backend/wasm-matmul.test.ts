import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../../trainer/backend/index.js';
import { isWasmMatMulPatched, patchWasmMatMul, swappedIsCheaper, unpatchWasmMatMul } from '../../../trainer/backend/wasm-matmul.js';

before(async () => {
  await selectBackend('wasm', { log: () => {} });
});

type Case = { name: string; run: () => tf.Tensor };

let seed = 1;
const rand = (shape: number[]): tf.Tensor => tf.randomUniform(shape, -1, 1, 'float32', seed++);

/** Every transpose flag combination for a plain, a batched and a broadcast matMul. */
function matMulCases(): Case[] {
  const cases: Case[] = [];
  const shapes: [string, number[], number[]][] = [
    ['2-D', [37, 23], [23, 19]],
    ['batched 3-D', [3, 17, 11], [3, 11, 13]],
    ['3-D by 2-D (broadcast)', [2, 9, 7], [7, 5]],
    ['a single row', [1, 31], [31, 8]],
  ];
  for (const [label, aShape, bShape] of shapes) {
    for (const transposeA of [false, true]) {
      for (const transposeB of [false, true]) {
        // Inputs stored transposed where the flag says so, so every combination computes a valid product.
        const swap = (s: number[]): number[] => [...s.slice(0, -2), s[s.length - 1] as number, s[s.length - 2] as number];
        const a = rand(transposeA ? swap(aShape) : aShape);
        const b = rand(transposeB ? swap(bShape) : bShape);
        cases.push({ name: `matMul ${label} tA=${transposeA} tB=${transposeB}`, run: () => tf.matMul(a, b, transposeA, transposeB) });
      }
    }
  }
  return cases;
}

/** _FusedMatMul with a bias and each activation the wasm kernel supports. */
function fusedCases(): Case[] {
  const cases: Case[] = [];
  const activations = ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'] as const;
  for (const activation of activations) {
    for (const transposeA of [false, true]) {
      for (const transposeB of [false, true]) {
        const a = rand(transposeA ? [2, 13, 21] : [2, 21, 13]);
        const b = rand(transposeB ? [2, 9, 13] : [2, 13, 9]);
        const bias = rand([9]);
        const prelu = rand([9]);
        cases.push({
          name: `fused ${activation} tA=${transposeA} tB=${transposeB}`,
          run: () =>
            tf.fused.matMul({
              a,
              b,
              transposeA,
              transposeB,
              bias,
              activation,
              preluActivationWeights: activation === 'prelu' ? prelu : undefined,
              leakyreluAlpha: activation === 'leakyrelu' ? 0.3 : undefined,
            }),
        });
      }
    }
  }
  return cases;
}

/** Gradients of a fused dense layer: autodiff sets the transpose flags on the backward matMuls. */
function gradientCases(): Case[] {
  const x = rand([16, 10]);
  const w = rand([10, 6]);
  const bias = rand([6]);
  const loss = (xs: tf.Tensor, ws: tf.Tensor) => tf.sum(tf.square(tf.fused.matMul({ a: xs as tf.Tensor2D, b: ws as tf.Tensor2D, bias, activation: 'relu' })));
  const [gx, gw] = [0, 1].map((i) => () => tf.grads(loss)([x, w])[i] as tf.Tensor);
  return [
    { name: 'gradient w.r.t. x', run: gx as () => tf.Tensor },
    { name: 'gradient w.r.t. w', run: gw as () => tf.Tensor },
  ];
}

function outputs(cases: Case[]): Float32Array[] {
  return cases.map((c) => tf.tidy(() => c.run().dataSync() as Float32Array));
}

test('the transpose-first kernels give the results of the original wasm kernels', () => {
  const cases = [...matMulCases(), ...fusedCases(), ...gradientCases()];
  unpatchWasmMatMul();
  assert.equal(isWasmMatMulPatched(), false);
  const reference = outputs(cases);
  patchWasmMatMul();
  assert.equal(isWasmMatMulPatched(), true);
  const patched = outputs(cases);
  cases.forEach((c, i) => {
    const want = reference[i] as Float32Array;
    const got = patched[i] as Float32Array;
    assert.equal(got.length, want.length, c.name);
    let worst = 0;
    for (let j = 0; j < want.length; j++) worst = Math.max(worst, Math.abs((got[j] as number) - (want[j] as number)));
    assert.ok(worst <= 1e-6, `${c.name}: max abs difference ${worst}`);
  });
});

test('the patched kernels free their transposed intermediates', () => {
  patchWasmMatMul();
  const a = rand([40, 30]);
  const b = rand([20, 30]);
  const backend = tf.engine().backend;
  const before = backend.numDataIds();
  for (let i = 0; i < 5; i++) tf.tidy(() => tf.matMul(a, b, false, true).dataSync());
  assert.equal(backend.numDataIds(), before);
  tf.dispose([a, b]);
});

test('patching is idempotent and reversible', () => {
  patchWasmMatMul();
  const patchedKernel = tf.getKernel(tf.BatchMatMul, 'wasm');
  patchWasmMatMul();
  assert.equal(tf.getKernel(tf.BatchMatMul, 'wasm'), patchedKernel, 'a second patch changes nothing');
  unpatchWasmMatMul();
  const original = tf.getKernel(tf.BatchMatMul, 'wasm');
  assert.notEqual(original, patchedKernel);
  patchWasmMatMul();
  assert.notEqual(tf.getKernel(tf.BatchMatMul, 'wasm'), original);
  assert.equal(tf.getKernel(tf.BatchMatMul, 'wasm')?.setupFunc, original?.setupFunc, 'the setup function is kept');
});

test('the orientation that copies less is chosen; only a transposed B needs a copy', () => {
  // dX = dY W^T of a wide layer: M = 256 rows, K = 12,966 genes, N = 1,024 units: copy dY, not W.
  assert.equal(swappedIsCheaper(256, 1024, 12966, false, true), true);
  // A narrow W: copying it is cheaper.
  assert.equal(swappedIsCheaper(256, 16, 12966, false, true), false);
  // Transposed A is read in place, as is B without the flag.
  assert.equal(swappedIsCheaper(12966, 1024, 256, true, false), false);
  assert.equal(swappedIsCheaper(256, 1024, 12966, false, false), false);
  assert.equal(swappedIsCheaper(24, 96, 700, true, true), true);
});

test('the SIMD product gives the unflagged wasm kernel’s result bit for bit, for every shape and flag', () => {
  // Sizes around the tile (5 x 8), panel (4, 1) and block (120 rows, 256 k) edges.
  const sizes = { m: [1, 4, 5, 6, 13, 121, 241], k: [1, 3, 8, 255, 257, 600], n: [1, 3, 4, 7, 8, 9, 13, 30] };
  const cases: { aShape: number[]; bShape: number[]; tA: boolean; tB: boolean }[] = [];
  let i = 0;
  for (const m of sizes.m) {
    for (const k of sizes.k) {
      for (const n of sizes.n) {
        const tA = i % 2 === 1;
        const tB = i % 3 === 1;
        const rank3 = i % 7 === 3;
        const lead = rank3 ? [1] : [];
        cases.push({ aShape: [...lead, ...(tA ? [k, m] : [m, k])], bShape: [...lead, ...(tB ? [n, k] : [k, n])], tA, tB });
        i++;
      }
    }
  }
  const inputs = cases.map((c) => [rand(c.aShape), rand(c.bShape)] as const);
  const perm = (t: tf.Tensor) => (t.rank === 3 ? [0, 2, 1] : [1, 0]);
  unpatchWasmMatMul();
  const want = inputs.map(([a, b], j) =>
    tf.tidy(() => tf.matMul(cases[j]!.tA ? tf.transpose(a, perm(a)) : a, cases[j]!.tB ? tf.transpose(b, perm(b)) : b).dataSync()),
  );
  patchWasmMatMul();
  const got = inputs.map(([a, b], j) => tf.tidy(() => tf.matMul(a, b, cases[j]!.tA, cases[j]!.tB).dataSync()));
  cases.forEach((c, j) => assert.deepEqual(Array.from(got[j]!), Array.from(want[j]!), JSON.stringify(c)));
  tf.dispose(inputs.flat());
});

test('the SIMD product frees its scratch memory and copies', () => {
  patchWasmMatMul();
  const a = rand([40, 300]);
  const b = rand([20, 300]);
  const backend = tf.engine().backend;
  const before = backend.numDataIds();
  for (let i = 0; i < 3; i++) tf.tidy(() => [tf.matMul(a, b, false, true), tf.matMul(b, a, false, true), tf.matMul(a, a, true, false)].forEach((t) => t.dataSync()));
  assert.equal(backend.numDataIds(), before);
  tf.dispose([a, b]);
});
