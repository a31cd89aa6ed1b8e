import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../../core/rng.js';
import { selectBackend } from '../../../trainer/backend/index.js';
import { ADAM_KERNEL, registerWasmAdam, unregisterWasmAdam } from '../../../trainer/backend/wasm-adam.js';
import { Adam, type AdamOptions } from '../../../trainer/models/adam.js';

before(async () => {
  await selectBackend('wasm', { log: () => {} });
});

const SHAPES = [[37, 11], [11], [5, 3, 2], [1]];

/** Runs `steps` Adam updates from fixed parameters and gradients; returns the parameters after each step. */
function train(options: AdamOptions, fused: boolean, steps: number, skip?: number): Float32Array[][] {
  if (fused) registerWasmAdam();
  else unregisterWasmAdam();
  try {
    assert.equal(tf.getKernel(ADAM_KERNEL, 'wasm') !== undefined, fused);
    const rng = new Rng(5);
    // Values over many magnitudes (and a few exact zeros), where a change in the order of operations would show.
    const values = (n: number) => Float32Array.from({ length: n }, (_, i) => (i % 17 === 0 ? 0 : rng.normal() * 10 ** rng.int(-6, 3)));
    const params = SHAPES.map((s) => tf.variable(tf.tensor(values(s.reduce((p, d) => p * d, 1)), s)));
    const adam = new Adam(params, options);
    const history: Float32Array[][] = [];
    for (let t = 0; t < steps; t++) {
      const grads: tf.NamedTensorMap = {};
      params.forEach((p, i) => {
        if (i !== skip || t % 2 === 0) grads[p.name] = tf.tensor(values(p.size), p.shape);
      });
      adam.step(grads);
      tf.dispose(Object.values(grads));
      history.push(params.map((p) => p.dataSync() as Float32Array));
    }
    adam.dispose();
    tf.dispose(params);
    return history;
  } finally {
    registerWasmAdam();
  }
}

test('the fused wasm update gives the op-by-op update bit for bit', () => {
  for (const options of [{ lr: 2e-4, weightDecay: 5e-4 }, { lr: 0.1 }, { lr: 1e-3, beta1: 0.5, beta2: 0.9, eps: 1e-6, weightDecay: 0.3 }]) {
    const ops = train(options, false, 6, 1);
    const fused = train(options, true, 6, 1);
    ops.forEach((step, t) => step.forEach((p, i) => assert.deepEqual(Array.from(fused[t]![i]!), Array.from(p), `${JSON.stringify(options)} step ${t + 1} tensor ${i}`)));
  }
});

test('a parameter without a gradient is left alone and its step count waits', () => {
  const history = train({ lr: 0.01 }, true, 3, 1);
  assert.deepEqual(Array.from(history[1]![1]!), Array.from(history[0]![1]!), 'no gradient at step 2: unchanged');
  assert.notDeepEqual(Array.from(history[2]![1]!), Array.from(history[1]![1]!));
});

test('the fused update frees what it allocates and keeps the variables', () => {
  const p = [tf.variable(tf.ones([4, 3])), tf.variable(tf.zeros([3]))];
  const adam = new Adam(p, { lr: 0.1, weightDecay: 0.01 });
  const grads = { [p[0]!.name]: tf.ones([4, 3]), [p[1]!.name]: tf.ones([3]) };
  adam.step(grads);
  const start = tf.memory().numTensors;
  const ids = tf.engine().backend.numDataIds();
  for (let i = 0; i < 3; i++) adam.step(grads);
  assert.equal(tf.memory().numTensors, start);
  assert.equal(tf.engine().backend.numDataIds(), ids);
  // torch: the first step moves every entry by lr (m / sqrt(v) = sign(g)).
  assert.ok(Math.abs((p[1]!.dataSync()[0] as number) + 0.4) < 1e-3);
  adam.dispose();
  tf.dispose([...p, ...Object.values(grads)]);
});
