import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { InterruptedError, TrainingError } from '../../../core/errors.js';
import { BULK_MLP, resolveSettings } from '../../../core/model-specs.js';
import type { Params } from '../../../core/params.js';
import { Rng } from '../../../core/rng.js';
import { selectBackend } from '../../../trainer/backend/index.js';
import type { PreparedData } from '../../../trainer/data/types.js';
import { rocAuc } from '../../../trainer/metrics/index.js';
import { bulkMlp } from '../../../trainer/models/bulk-mlp.js';
import type { EpochProgress, TrainInput, TrainOutput } from '../../../trainer/models/family.js';
import { BatchNorm1d, Dropout, linearLayers, ReLU } from '../../../trainer/models/layers.js';
import { buildPredictor, predictorHiddenSizes } from '../../../trainer/models/predictor.js';

before(async () => {
  await selectBackend('wasm', { log: () => {} });
});

interface Synthetic {
  bulkRows?: number;
  cellRows?: number;
  genes?: number;
  /** Genes whose sum decides the bulk labels. */
  bulkSignal?: number[];
  /** Genes whose sum decides the cell labels. */
  cellSignal?: number[];
}

/** Values in [0, 1] (as after MinMax scaling); label 1 when the signal genes sum above their median. */
function syntheticData(seed: number, opts: Synthetic = {}): PreparedData {
  const { bulkRows = 300, cellRows = 200, genes = 50, bulkSignal = [0, 1, 2, 3, 4], cellSignal = bulkSignal } = opts;
  const rng = new Rng(seed);
  const domain = (rows: number, signal: number[], stream: Rng) => {
    const x = new Float32Array(rows * genes);
    for (let i = 0; i < x.length; i++) x[i] = stream.float();
    const y = new Uint8Array(rows);
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (const g of signal) s += x[r * genes + g] as number;
      // The sum of k uniforms has median k / 2.
      y[r] = s > signal.length / 2 ? 1 : 0;
    }
    return { x, y, rows };
  };
  return {
    genes: Array.from({ length: genes }, (_, g) => `g${g}`),
    bulk: domain(bulkRows, bulkSignal, rng.derive('bulk')),
    cells: domain(cellRows, cellSignal, rng.derive('cells')),
    report: [],
  };
}

// Small and quick to learn: the defaults (depth 5, dropout 0.5, lr 1e-3) need many more epochs.
const FAST: Params = { depth: 2, dropout: 0.3, lr: 1e-2, epochs: 12, batch_size: 32, sampling: 'none' };

function input(data: PreparedData, overrides: Partial<TrainInput> & { params?: Params; raw?: Record<string, number | string | boolean> } = {}): TrainInput {
  const { params = {}, raw = {}, ...rest } = overrides;
  return {
    data,
    // resolveSettings checks ranges; `raw` bypasses it to plant values no sweep could choose.
    settings: { ...resolveSettings(BULK_MLP, { ...FAST, ...params }), ...raw },
    seed: 42,
    signal: new AbortController().signal,
    onEpoch: () => {},
    evaluateEachEpoch: false,
    ...rest,
  };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)));
  return d;
}

const shared = syntheticData(1);

test('learns a signal that bulk and cells share: cell AUC > 0.9', async () => {
  const epochs: EpochProgress[] = [];
  const out = await bulkMlp.train(input(shared, { onEpoch: (p) => epochs.push(p), evaluateEachEpoch: true }));
  const auc = rocAuc(shared.cells.y, out.cellScores);
  assert.ok(auc > 0.9, `cell AUC ${auc}`);
  assert.equal(out.cellScores.length, shared.cells.rows);
  assert.ok(out.cellScores.every((s) => s >= 0 && s <= 1), 'scores are probabilities');
  assert.equal(out.epochs, 12);
  assert.deepEqual(
    epochs.map((p) => [p.epoch, p.epochs]),
    Array.from({ length: 12 }, (_, i) => [i + 1, 12]),
  );
  for (const p of epochs) {
    assert.deepEqual(Object.keys(p.losses).sort(), ['bce', 'total']);
    assert.equal(p.losses.bce, p.losses.total);
    assert.equal(typeof p.auc, 'number');
  }
  const first = epochs[0] as EpochProgress;
  const last = epochs[epochs.length - 1] as EpochProgress;
  assert.ok((last.losses.bce as number) < (first.losses.bce as number), 'the loss went down');
  assert.deepEqual(out.finalLosses, last.losses);
  assert.equal(last.auc, auc, 'the last epoch reports the final model');
});

test('is bulk-only: with the cell labels driven by other genes it does not transfer', async () => {
  const shifted = syntheticData(1, { cellSignal: [10, 11, 12, 13, 14] });
  const out = await bulkMlp.train(input(shifted));
  const auc = rocAuc(shifted.cells.y, out.cellScores);
  assert.ok(auc > 0.3 && auc < 0.7, `cell AUC ${auc} should be near chance`);
});

test('is deterministic: same seed gives identical scores, another seed different ones', async () => {
  // Weighted sampling and dropout both draw from the run's Rng.
  const params: Params = { sampling: 'weighted', epochs: 3, dropout: 0.3 };
  const a = await bulkMlp.train(input(shared, { params, seed: 7 }));
  const b = await bulkMlp.train(input(shared, { params, seed: 7 }));
  const c = await bulkMlp.train(input(shared, { params, seed: 8 }));
  assert.equal(maxAbsDiff(a.cellScores, b.cellScores), 0);
  assert.deepEqual(a.finalLosses, b.finalLosses);
  assert.ok(maxAbsDiff(a.cellScores, c.cellScores) > 1e-3, 'another seed trains another model');
});

test('smote sampling trains too', async () => {
  const out = await bulkMlp.train(input(shared, { params: { sampling: 'smote', smote_k: 3, epochs: 2 } }));
  assert.equal(out.cellScores.length, shared.cells.rows);
});

test('frees its tensors: the count is flat across epochs and back to the start after train()', async () => {
  const start = tf.memory().numTensors;
  const perEpoch: number[] = [];
  await bulkMlp.train(
    input(shared, { params: { depth: 4, epochs: 4 }, evaluateEachEpoch: true, onEpoch: () => perEpoch.push(tf.memory().numTensors) }),
  );
  assert.equal(perEpoch.length, 4);
  assert.ok(
    perEpoch.every((n) => n === perEpoch[0]),
    `tensors per epoch: ${perEpoch.join(', ')}`,
  );
  assert.ok((perEpoch[0] as number) > start, 'the model lives while training');
  assert.equal(tf.memory().numTensors, start);
});

async function failure(run: Promise<TrainOutput>): Promise<unknown> {
  try {
    await run;
  } catch (err) {
    return err;
  }
  assert.fail('expected train() to throw');
}

test('a diverging learning rate is a TrainingError naming the epoch and the term', async () => {
  const start = tf.memory().numTensors;
  // lr = 1e9 only blows the loss up to ~1e17: the loss from logits stays finite and BatchNorm
  // renormalises every layer. 1e30 overflows float32 within the first epoch.
  const err = await failure(bulkMlp.train(input(shared, { raw: { lr: 1e30 }, params: { epochs: 5 } })));
  assert.ok(err instanceof TrainingError, String(err));
  assert.equal(err.term, 'bce');
  assert.equal(err.failureCode, 'non_finite_loss');
  assert.ok(err.epoch >= 1 && err.epoch <= 5);
  assert.match(err.message, new RegExp(`loss term "bce" became (NaN|-?Infinity) at epoch ${err.epoch} \\(batch \\d+ of \\d+\\)`));
  assert.equal(tf.memory().numTensors, start, 'nothing leaks on failure');
});

test('a huge planted input value is a TrainingError', async () => {
  const bulk = { ...shared.bulk, x: shared.bulk.x.slice() };
  // Near float32's maximum: BatchNorm's variance overflows and the backward pass
  // makes NaN gradients, so the next loss (epoch 1 or 2, one batch per epoch) is NaN.
  bulk.x.fill(3.4e38, 0, shared.genes.length);
  const err = await failure(bulkMlp.train(input({ ...shared, bulk }, { params: { sampling: 'none', batch_size: 300, epochs: 5 } })));
  assert.ok(err instanceof TrainingError, String(err));
  assert.ok(err.epoch <= 2, `epoch ${err.epoch}`);
  assert.equal(err.term, 'bce');
  assert.match(err.message, new RegExp(`loss term "bce" became NaN at epoch ${err.epoch} \\(batch 1 of 1\\)`));
});

test('an aborted signal stops training at the next epoch boundary with InterruptedError', async () => {
  const start = tf.memory().numTensors;
  const controller = new AbortController();
  const seen: number[] = [];
  const err = await failure(
    bulkMlp.train(
      input(shared, {
        params: { epochs: 10 },
        signal: controller.signal,
        onEpoch: (p) => {
          seen.push(p.epoch);
          if (p.epoch === 2) controller.abort();
        },
      }),
    ),
  );
  assert.ok(err instanceof InterruptedError, String(err));
  assert.match(err.message, /before epoch 3 of 10/);
  assert.deepEqual(seen, [1, 2]);
  assert.equal(tf.memory().numTensors, start);

  const already = new AbortController();
  already.abort();
  assert.ok((await failure(bulkMlp.train(input(shared, { signal: already.signal })))) instanceof InterruptedError);
});

test('an abort from another task is seen while training runs (the loop yields)', async () => {
  const controller = new AbortController();
  const seen: number[] = [];
  setImmediate(() => controller.abort());
  const err = await failure(
    bulkMlp.train(input(shared, { params: { epochs: 20 }, signal: controller.signal, onEpoch: (p) => seen.push(p.epoch) })),
  );
  assert.ok(err instanceof InterruptedError, String(err));
  assert.ok(seen.length < 20, `stopped after ${seen.length} epochs`);
});

test('every depth 2..6 builds the hidden sizes of SCTL Table 5', () => {
  const expected: Record<number, number[]> = {
    2: [128, 64],
    3: [128, 128, 64],
    4: [128, 128, 128, 64],
    5: [128, 128, 128, 128, 64],
    6: [128, 128, 128, 128, 128, 64],
  };
  for (let depth = 2; depth <= 6; depth++) {
    assert.deepEqual(predictorHiddenSizes(depth), expected[depth]);
    const model = buildPredictor(50, depth, 0.5, new Rng(depth));
    const shapes = linearLayers(model).map((l) => [l.inFeatures, l.outFeatures]);
    const sizes = [50, ...(expected[depth] as number[]), 1];
    assert.deepEqual(
      shapes,
      sizes.slice(0, -1).map((s, i) => [s, sizes[i + 1]]),
      `depth ${depth}`,
    );
    // Each hidden layer is Linear -> BatchNorm -> ReLU -> Dropout(rate); the output layer is a bare Linear.
    const kinds = model.layers.map((l) => l.constructor.name);
    assert.deepEqual(kinds, [...Array<string[]>(depth).fill(['Linear', 'BatchNorm1d', 'ReLU', 'Dropout']).flat(), 'Linear']);
    assert.ok(model.layers.filter((l) => l instanceof Dropout).every((l) => (l as Dropout).rate === 0.5));
    assert.ok(model.layers.filter((l) => l instanceof BatchNorm1d).every((l, i) => (l as BatchNorm1d).features === sizes[i + 1]));
    assert.equal(model.layers.filter((l) => l instanceof ReLU).length, depth);
    model.dispose();
  }
  assert.throws(() => predictorHiddenSizes(1), /from 2 to 6, but got 1/);
  assert.throws(() => predictorHiddenSizes(7), /from 2 to 6, but got 7/);
});

test('inconsistent data shapes are a DataError before any training', async () => {
  const bad = { ...shared, cells: { ...shared.cells, rows: shared.cells.rows + 1 } };
  await assert.rejects(bulkMlp.train(input(bad)), /cells: expected 201 x 50 values and 201 labels/);
});
