import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { TrainingError } from '../../../core/errors.js';
import { Rng } from '../../../core/rng.js';
import { selectBackend } from '../../../trainer/backend/index.js';
import { Adam } from '../../../trainer/models/adam.js';
import { trainingContext } from '../../../trainer/models/layers.js';
import { bceWithLogits } from '../../../trainer/models/loss.js';
import { predictProbabilities } from '../../../trainer/models/predict.js';
import { buildPredictor } from '../../../trainer/models/predictor.js';
import { trainStep, type LossTerms } from '../../../trainer/models/step.js';

before(async () => {
  await selectBackend('wasm', { log: () => {} });
});

const place = { epoch: 3, batch: 2, batches: 5 };

function setup() {
  const rng = new Rng(11);
  const model = buildPredictor(8, 2, 0.5, rng.derive('init'));
  const x = tf.tensor2d(Array.from({ length: 16 * 8 }, () => rng.float()), [16, 8]);
  const y = tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 2));
  const optimizer = new Adam(model.params(), { lr: 1e-3, weightDecay: 5e-4 });
  const ctx = trainingContext(rng.derive('dropout'));
  const loss = (): LossTerms => {
    const bce = bceWithLogits(tf.reshape(model.apply(x, ctx), [16]) as tf.Tensor1D, y);
    return { bce, total: bce };
  };
  const dispose = () => {
    model.dispose();
    optimizer.dispose();
    tf.dispose([x, y]);
  };
  return { model, optimizer, loss, dispose };
}

test('a training step leaves the tensor count flat and returns every term', () => {
  const { model, optimizer, loss, dispose } = setup();
  const counts: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < 5; i++) {
    const terms = trainStep(model.params(), optimizer, loss, place);
    assert.deepEqual(Object.keys(terms), ['bce', 'total']);
    values.push(terms.bce as number);
    counts.push(tf.memory().numTensors);
  }
  assert.ok(counts.every((c) => c === counts[0]), `tensors after each step: ${counts.join(', ')}`);
  assert.ok(values.every(Number.isFinite));
  dispose();
});

test('a non-finite term is a TrainingError naming it, and the parameters are not updated', () => {
  const { model, optimizer, dispose } = setup();
  const before = model.params().map((p) => Array.from(p.dataSync()));
  const start = tf.memory().numTensors;
  const poisoned = (): LossTerms => {
    const fine = tf.mean(tf.square(model.params()[0] as tf.Variable)) as tf.Scalar;
    const mmd = tf.div(fine, 0) as tf.Scalar;
    return { fine, mmd, total: tf.add(fine, mmd) as tf.Scalar };
  };
  assert.throws(
    () => trainStep(model.params(), optimizer, poisoned, place),
    (err: unknown) =>
      err instanceof TrainingError &&
      err.epoch === 3 &&
      err.term === 'mmd' &&
      err.failureCode === 'non_finite_loss' &&
      err.message.startsWith('loss term "mmd" became Infinity at epoch 3 (batch 2 of 5)'),
  );
  assert.deepEqual(model.params().map((p) => Array.from(p.dataSync())), before);
  assert.equal(tf.memory().numTensors, start, 'nothing leaks when the step throws');
  dispose();
});

test('predictions in chunks equal one pass over all rows', () => {
  const rng = new Rng(3);
  const model = buildPredictor(8, 3, 0.5, rng);
  const x = Float32Array.from({ length: 50 * 8 }, () => rng.float());
  const forward = (batch: tf.Tensor2D) => model.apply(batch, { training: false });
  const whole = predictProbabilities(x, 50, 8, forward, 1000);
  const chunked = predictProbabilities(x, 50, 8, forward, 7);
  assert.deepEqual(chunked, whole);
  assert.ok(whole.every((p) => p > 0 && p < 1));
  assert.equal(predictProbabilities(new Float32Array(0), 0, 8, forward).length, 0);
  model.dispose();
});
