import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../../trainer/backend/index.js';
import { isWasmMatMulPatched, patchWasmMatMul, unpatchWasmMatMul } from '../../../trainer/backend/wasm-matmul.js';

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
