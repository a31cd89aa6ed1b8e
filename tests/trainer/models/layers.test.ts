import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../../core/rng.js';
import { selectBackend } from '../../../trainer/backend/index.js';
import { Adam } from '../../../trainer/models/adam.js';
import { linearInit } from '../../../trainer/models/init.js';
import { BatchNorm1d, Dropout, EVAL, Linear, trainingContext } from '../../../trainer/models/layers.js';
import { bceWithLogits } from '../../../trainer/models/loss.js';

/** torch's outputs for the cases below: bench/reference/layers_fixtures.py (its command is in the file). */
const TORCH = JSON.parse(readFileSync(new URL('../../fixtures/layers_torch.json', import.meta.url), 'utf8')) as {
  batch_norm: { train: number[]; running: { mean: number[]; var: number[] }; eval: number[] };
  adam: { after_two_steps: number[] };
};

before(async () => {
  await selectBackend('wasm', { log: () => {} });
});

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    assert.ok(Math.abs(a - e) <= tol, `${what}[${i}]: expected ${e}, got ${a} (tolerance ${tol})`);
  }
}

const values = (t: tf.Tensor): number[] => Array.from(t.dataSync());
/** A variable without leaking its initial tensor. */
const variable = (v: number[]): tf.Variable => tf.tidy(() => tf.variable(tf.tensor1d(v)));

test('BatchNorm1d normalises with batch statistics in training and moves the running statistics, as torch does', () => {
  const bn = new BatchNorm1d(2);
  bn.gamma.assign(tf.tensor1d([2, 0.5]));
  bn.beta.assign(tf.tensor1d([1, -1]));
  const x = tf.tensor2d([
    [1, 2],
    [3, 6],
    [5, 10],
  ]);
  // By hand: mean (3, 6), biased variance (8/3, 32/3), unbiased (4, 16).
  const inv0 = 1 / Math.sqrt(8 / 3 + 1e-5);
  const inv1 = 1 / Math.sqrt(32 / 3 + 1e-5);
  const train = bn.apply(x, trainingContext(new Rng(1)));
  assertClose(values(train), [-2 * inv0 * 2 + 1, -4 * inv1 * 0.5 - 1, 1, -1, 2 * inv0 * 2 + 1, 4 * inv1 * 0.5 - 1], 1e-6, 'training output');
  // The same case in torch.nn.BatchNorm1d(2) with weight (2, 0.5) and bias (1, -1).
  assertClose(values(train), TORCH.batch_norm.train, 1e-6, 'training output vs torch');
  // Running statistics: 0.9 * (0, 0) + 0.1 * (3, 6) and 0.9 * (1, 1) + 0.1 * (4, 16): unbiased variance.
  assertClose(values(bn.runningMean), [0.3, 0.6], 1e-7, 'running mean');
  assertClose(values(bn.runningVar), [1.3, 2.5], 1e-6, 'running variance');
  assertClose(values(bn.runningMean), TORCH.batch_norm.running.mean, 1e-7, 'running mean vs torch');
  assertClose(values(bn.runningVar), TORCH.batch_norm.running.var, 1e-6, 'running variance vs torch');
  const evalOut = bn.apply(x, EVAL);
  const expectedEval = [1, 2, 3, 6, 5, 10].map((v, i) =>
    i % 2 === 0 ? ((v - 0.3) / Math.sqrt(1.3 + 1e-5)) * 2 + 1 : ((v - 0.6) / Math.sqrt(2.5 + 1e-5)) * 0.5 - 1,
  );
  assertClose(values(evalOut), expectedEval, 1e-5, 'evaluation output');
  assertClose(values(evalOut), TORCH.batch_norm.eval, 1e-5, 'evaluation output vs torch');
  // Evaluation leaves the running statistics alone.
  assertClose(values(bn.runningMean), [0.3, 0.6], 1e-7, 'running mean after eval');
  tf.dispose([x, train, evalOut]);
  bn.dispose();
});

test('BatchNorm1d refuses a single row in training, as torch does', () => {
  const bn = new BatchNorm1d(3);
  const x = tf.ones([1, 3]) as tf.Tensor2D;
  assert.throws(() => bn.apply(x, trainingContext(new Rng(1))), /at least 2 rows/);
  tf.dispose(x);
  bn.dispose();
});

test('binary cross-entropy from logits is exact for moderate logits and finite for huge ones', () => {
  const z = tf.tensor1d([-3, -0.5, 0, 0.5, 3]);
  const y = tf.tensor1d([0, 1, 1, 0, 1]);
  const naive = [-3, -0.5, 0, 0.5, 3].map((zi, i) => {
    const p = 1 / (1 + Math.exp(-zi));
    const yi = [0, 1, 1, 0, 1][i] as number;
    return -(yi * Math.log(p) + (1 - yi) * Math.log(1 - p));
  });
  const loss = bceWithLogits(z, y);
  assertClose(values(loss), [naive.reduce((a, b) => a + b) / naive.length], 1e-6, 'moderate logits');

  // sigmoid(100) rounds to 1 in float32: a naive log(1 - p) would be -Infinity.
  const big = tf.tensor1d([100, -100, 1e4, -1e4]);
  const labels = tf.tensor1d([1, 1, 0, 0]);
  const bigLoss = bceWithLogits(big, labels);
  assertClose(values(bigLoss), [(0 + 100 + 1e4 + 0) / 4], 1e-3, 'huge logits');
  tf.dispose([z, y, loss, big, labels, bigLoss]);
});

test('binary cross-entropy gradient is (sigmoid(z) - y) / n, including at z = 0', () => {
  const z = tf.tensor1d([0, 0, 2, -40]);
  const y = tf.tensor1d([1, 0, 1, 1]);
  const grad = tf.grad((logits: tf.Tensor) => bceWithLogits(logits as tf.Tensor1D, y))(z);
  const sig = (v: number): number => 1 / (1 + Math.exp(-v));
  assertClose(values(grad), [(0.5 - 1) / 4, 0.5 / 4, (sig(2) - 1) / 4, (sig(-40) - 1) / 4], 1e-7, 'gradient');
  tf.dispose([z, y, grad]);
});

test('Adam matches a hand-computed torch.optim.Adam update with weight decay for 2 steps', () => {
  const p = variable([1, -2, 0.5]);
  const opt = new Adam([p], { lr: 0.01, weightDecay: 0.1 });
  const grads = [
    [0.5, 3, -1],
    [-0.25, 1, 2],
  ];
  // torch's rule in float64: g += wd p; m, v moments; p -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps).
  const expected = [1, -2, 0.5];
  const m = [0, 0, 0];
  const v = [0, 0, 0];
  grads.forEach((g, k) => {
    const t = k + 1;
    for (let i = 0; i < 3; i++) {
      const gi = (g[i] as number) + 0.1 * (expected[i] as number);
      m[i] = 0.9 * (m[i] as number) + 0.1 * gi;
      v[i] = 0.999 * (v[i] as number) + 0.001 * gi * gi;
      const denom = Math.sqrt(v[i] as number) / Math.sqrt(1 - 0.999 ** t) + 1e-8;
      expected[i] = (expected[i] as number) - ((0.01 / (1 - 0.9 ** t)) * (m[i] as number)) / denom;
    }
    const gradTensor = tf.tensor1d(g);
    opt.step({ [p.name]: gradTensor });
    gradTensor.dispose();
    assertClose(values(p), expected, 1e-6, `step ${t}`);
  });
  // And torch.optim.Adam itself on this case.
  assertClose(values(p), TORCH.adam.after_two_steps, 1e-6, 'vs torch');
  opt.dispose();
  p.dispose();
});

test('Adam skips a parameter without a gradient and frees its state on dispose', () => {
  const before = tf.memory().numTensors;
  const a = variable([1]);
  const b = variable([1]);
  const opt = new Adam([a, b], { lr: 0.1 });
  const g = tf.tensor1d([1]);
  opt.step({ [a.name]: g });
  assert.ok(Math.abs((a.dataSync()[0] as number) - 0.9) < 1e-6, 'a moved by lr on the first step');
  assert.equal(b.dataSync()[0], 1, 'b untouched');
  opt.dispose();
  tf.dispose([a, b, g]);
  assert.equal(tf.memory().numTensors, before);
});

test('Linear uses the PyTorch default init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias, from the Rng', () => {
  const { weight, bias } = linearInit(400, 300, new Rng(7));
  const bound = 1 / Math.sqrt(400);
  for (const arr of [weight, bias]) {
    assert.ok(arr.every((w) => Math.abs(w) <= bound));
  }
  // A uniform on [-b, b] has mean 0 and variance b^2 / 3.
  const mean = weight.reduce((s, w) => s + w, 0) / weight.length;
  const variance = weight.reduce((s, w) => s + (w - mean) ** 2, 0) / weight.length;
  assert.ok(Math.abs(mean) < 0.01 * bound, `mean ${mean}`);
  assert.ok(Math.abs(variance / (bound * bound / 3) - 1) < 0.02, `variance ratio ${variance / (bound * bound / 3)}`);
  // Same stream, same weights; another stream, other weights.
  assert.deepEqual(linearInit(400, 300, new Rng(7)).weight, weight);
  assert.notDeepEqual(linearInit(400, 300, new Rng(8)).weight, weight);

  const layer = new Linear(3, 2, new Rng(7));
  assert.deepEqual(layer.weight.shape, [3, 2]);
  assert.deepEqual(layer.bias.shape, [2]);
  const x = tf.tensor2d([[1, 0, 0]]);
  const out = layer.apply(x);
  const w = layer.weight.dataSync();
  const bvals = layer.bias.dataSync();
  assertClose(values(out), [(w[0] as number) + (bvals[0] as number), (w[1] as number) + (bvals[1] as number)], 1e-6, 'x W + b');
  tf.dispose([x, out]);
  layer.dispose();
});

test('Dropout is inverted, seeded, and off in evaluation', () => {
  const drop = new Dropout(0.25);
  const x = tf.ones([200, 50]) as tf.Tensor2D;
  const a = drop.apply(x, trainingContext(new Rng(3)));
  const b = drop.apply(x, trainingContext(new Rng(3)));
  const c = drop.apply(x, trainingContext(new Rng(4)));
  const av = a.dataSync();
  assert.deepEqual(av, b.dataSync(), 'same seed stream, same mask');
  assert.notDeepEqual(av, c.dataSync(), 'other seed, other mask');
  const kept = av.filter((v) => v !== 0);
  assert.ok(kept.every((v) => Math.abs(v - 1 / 0.75) < 1e-6), 'survivors scaled by 1 / (1 - rate)');
  const dropped = 1 - kept.length / av.length;
  assert.ok(Math.abs(dropped - 0.25) < 0.02, `dropped fraction ${dropped}`);
  assert.equal(drop.apply(x, EVAL), x, 'identity in evaluation');
  assert.throws(() => new Dropout(1), /rate in \[0, 1\)/);
  tf.dispose([x, a, b, c]);
});
