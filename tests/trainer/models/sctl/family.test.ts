import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DataError, InterruptedError, TrainingError } from '../../../../core/errors.js';
import { resolveSettings, SCTL } from '../../../../core/model-specs.js';
import type { Params } from '../../../../core/params.js';
import { Rng } from '../../../../core/rng.js';
import { selectBackend } from '../../../../trainer/backend/index.js';
import type { PreparedData } from '../../../../trainer/data/types.js';
import { rocAuc } from '../../../../trainer/metrics/index.js';
import type { EpochProgress, TrainInput, TrainOutput } from '../../../../trainer/models/family.js';
import { sctlConfig } from '../../../../trainer/models/sctl/config.js';
import { sctl } from '../../../../trainer/models/sctl/family.js';

before(async () => {
  await selectBackend('wasm', { log: () => {} });
});

/**
 * Bulk and cells in [0, 1] whose labels follow the same signal genes; the
 * cells are shifted and rescaled (a domain gap the per-domain MinMax would
 * remove in real use, kept here small).
 */
function syntheticData(seed: number, opts: { bulkRows?: number; cellRows?: number; genes?: number } = {}): PreparedData {
  const { bulkRows = 200, cellRows = 120, genes = 40 } = opts;
  const signal = [0, 1, 2, 3, 4];
  const rng = new Rng(seed);
  const domain = (rows: number, stream: Rng, shift: number) => {
    const x = new Float32Array(rows * genes);
    const y = new Uint8Array(rows);
    for (let r = 0; r < rows; r++) {
      y[r] = r % 2;
      for (let g = 0; g < genes; g++) {
        const boost = signal.includes(g) && y[r] === 1 ? 0.35 : 0;
        x[r * genes + g] = Math.min(1, Math.max(0, 0.3 + shift + boost + 0.15 * stream.normal()));
      }
    }
    return { x, y, rows };
  };
  return {
    genes: Array.from({ length: genes }, (_, g) => `g${g}`),
    bulk: domain(bulkRows, rng.derive('bulk'), 0),
    cells: domain(cellRows, rng.derive('cells'), 0.05),
    report: [],
  };
}

// Small and quick: the defaults (1024 hidden, 800 iterations, lr 2e-4) are sized for ~10k genes.
const FAST: Params = { encoder_hidden: 32, latent: 8, depth: 2, dropout: 0.1, lr: 3e-3, iterations: 60, batch_size: 50, cell_batch_size: 40, sampling: 'none' };

function input(data: PreparedData, overrides: Partial<TrainInput> & { params?: Params; raw?: Record<string, number | string | boolean> } = {}): TrainInput {
  const { params = {}, raw = {}, ...rest } = overrides;
  return {
    data,
    // `raw` bypasses resolveSettings to plant values no sweep could choose.
    settings: { ...resolveSettings(SCTL, { ...FAST, ...params }), ...raw },
    seed: 42,
    signal: new AbortController().signal,
    onEpoch: () => {},
    evaluateEachEpoch: false,
    ...rest,
  };
}

async function failure(run: Promise<TrainOutput>): Promise<unknown> {
  try {
    await run;
  } catch (err) {
    return err;
  }
  assert.fail('expected train() to throw');
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)));
  return d;
}

const shared = syntheticData(1);

describe('the sctl spec', () => {
  test('defaults are the paper’s and its public code’s', () => {
    const s = resolveSettings(SCTL, {});
    assert.deepEqual(
      { l1: s.l1, l2: s.l2, l3: s.l3, depth: s.depth, sampling: s.sampling, iterations: s.iterations, batch_size: s.batch_size, cell_batch_size: s.cell_batch_size },
      { l1: 1, l2: 1, l3: 1, depth: 5, sampling: 'weighted', iterations: 800, batch_size: 128, cell_batch_size: 128 },
    );
    assert.deepEqual(
      { lr: s.lr, weight_decay: s.weight_decay, dropout: s.dropout, encoder_hidden: s.encoder_hidden, encoder_layers: s.encoder_layers, latent: s.latent },
      { lr: 2e-4, weight_decay: 5e-4, dropout: 0.5, encoder_hidden: 1024, encoder_layers: 1, latent: 16 },
    );
    assert.deepEqual(
      { a: s.recon_weight, b: s.kl_weight, kernel: s.mmd_kernel, sigma: s.mmd_sigma, eps: s.ot_eps, tau: s.ot_tau, outer: s.ot_outer, inner: s.ot_inner },
      { a: 10, b: 0.5, kernel: 'multi', sigma: 1000, eps: 0.1, tau: 1, outer: 10, inner: 10 },
    );
    const config = sctlConfig(s);
    assert.deepEqual(config.architecture.encoderHidden, [1024]);
    assert.deepEqual(config.objective.mmd, { kind: 'multi', bandwidths: 5, mul: 2 });
    assert.deepEqual(sctlConfig(resolveSettings(SCTL, { mmd_kernel: 'single', encoder_layers: 2, encoder_hidden: 64 })).objective.mmd, { kind: 'single', sigma: 1000 });
  });

  test('the ablations are allowed (l1 = 0, l2 = 0), negative weights are not', () => {
    assert.doesNotThrow(() => resolveSettings(SCTL, { l1: 0, l2: 0, l3: 0 }));
    assert.throws(() => resolveSettings(SCTL, { l2: -1 }), (err: unknown) => err instanceof ConfigError && /field 'l2': expected a number >= 0, but got -1/.test(err.message));
    assert.throws(() => resolveSettings(SCTL, { epochs: 3 }), /model 'sctl' has no setting 'epochs'/);
    assert.throws(() => resolveSettings(SCTL, { ot_eps: 0.001 }), /field 'ot_eps': expected a number >= 0.01/);
  });
});

describe('training', () => {
  test('learns a signal that bulk and cells share: cell AUC > 0.85, progress per pass over the bulk', async () => {
    const epochs: EpochProgress[] = [];
    const out = await sctl.train(input(shared, { onEpoch: (p) => epochs.push(p), evaluateEachEpoch: true }));
    const auc = rocAuc(shared.cells.y, out.cellScores);
    assert.ok(auc > 0.85, `cell AUC ${auc}`);
    assert.equal(out.cellScores.length, shared.cells.rows);
    assert.ok(out.cellScores.every((s) => s >= 0 && s <= 1), 'scores are probabilities');
    // 200 bulk rows in batches of 50: 4 steps per pass, so 60 iterations are 15 passes.
    assert.equal(out.epochs, 15);
    assert.deepEqual(
      epochs.map((p) => [p.epoch, p.epochs]),
      Array.from({ length: 15 }, (_, i) => [i + 1, 15]),
    );
    for (const p of epochs) {
      assert.deepEqual(Object.keys(p.losses), ['vae', 'ot', 'mmd', 'pred', 'recon', 'kl', 'total']);
      assert.ok(Object.values(p.losses).every(Number.isFinite));
      assert.equal(typeof p.auc, 'number');
    }
    const first = epochs[0]!.losses;
    const last = epochs[epochs.length - 1]!.losses;
    assert.ok(last.pred! < first.pred!, `pred ${first.pred} -> ${last.pred}`);
    assert.ok(last.recon! < first.recon!, `recon ${first.recon} -> ${last.recon}`);
    assert.deepEqual(out.finalLosses, last);
    assert.equal(epochs[epochs.length - 1]!.auc, auc, 'the last epoch reports the final model');
    assert.equal(out.plan, undefined, 'no plan unless asked');
  });

  test('the iteration budget cuts the last pass short', async () => {
    const seen: EpochProgress[] = [];
    // 4 steps per pass: 10 iterations are passes of 4, 4 and 2.
    const out = await sctl.train(input(shared, { params: { iterations: 10 }, onEpoch: (p) => seen.push(p) }));
    assert.equal(out.epochs, 3);
    assert.deepEqual(seen.map((p) => p.epoch), [1, 2, 3]);
  });

  test('is deterministic: same seed gives identical scores, another seed different ones', async () => {
    // Weighted sampling, cell batches, the reparameterisation noise and dropout all draw from the run's seed.
    const params: Params = { sampling: 'weighted', iterations: 12, dropout: 0.3 };
    const a = await sctl.train(input(shared, { params, seed: 7 }));
    const b = await sctl.train(input(shared, { params, seed: 7 }));
    const c = await sctl.train(input(shared, { params, seed: 8 }));
    assert.equal(maxAbsDiff(a.cellScores, b.cellScores), 0);
    assert.deepEqual(a.finalLosses, b.finalLosses);
    assert.ok(maxAbsDiff(a.cellScores, c.cellScores) > 1e-3, 'another seed trains another model');
  });

  test('frees its tensors: the count is flat across epochs and back to the start after train()', async () => {
    const start = tf.memory().numTensors;
    const perEpoch: number[] = [];
    await sctl.train(
      input(shared, { params: { iterations: 16, encoder_layers: 2 }, evaluateEachEpoch: true, interpret: true, onEpoch: () => perEpoch.push(tf.memory().numTensors) }),
    );
    assert.equal(perEpoch.length, 4);
    assert.ok(perEpoch.every((n) => n === perEpoch[0]), `tensors per epoch: ${perEpoch.join(', ')}`);
    assert.ok(perEpoch[0]! > start, 'the model lives while training');
    assert.equal(tf.memory().numTensors, start);
  });

  test('every variant trains: smote, the linear decoder, the single kernel, and the ablations', async () => {
    const variants: Params[] = [{ sampling: 'smote', smote_k: 3 }, { decoder: 'linear', mmd_kernel: 'single' }, { l1: 0 }, { l2: 0 }, { l1: 0, l2: 0 }];
    for (const params of variants) {
      const out = await sctl.train(input(shared, { params: { ...params, iterations: 4 } }));
      assert.equal(out.cellScores.length, shared.cells.rows, JSON.stringify(params));
      assert.ok(out.cellScores.every(Number.isFinite), JSON.stringify(params));
    }
  });
});

describe('the transport plan (interpret)', () => {
  test('is bulk samples x cells, finite, non-negative, its mass near 1, rows concentrated', async () => {
    const data = syntheticData(3, { bulkRows: 60, cellRows: 30 });
    const out = await sctl.train(input(data, { params: { iterations: 8, batch_size: 20, cell_batch_size: 20, sampling: 'smote' }, interpret: true }));
    const plan = out.plan!;
    // The dataset's bulk rows only: SMOTE's synthetic rows are not in the plan.
    assert.deepEqual([plan.rows, plan.cols, plan.values.length], [60, 30, 1800]);
    assert.ok(plan.values.every((v) => Number.isFinite(v) && v >= 0));
    const mass = plan.values.reduce((s, v) => s + v, 0);
    assert.ok(mass > 0.5 && mass < 1.5, `mass ${mass}`);
    // Uniform would be 1/1800 everywhere; OT puts most of a row's mass on a few cells.
    const row0 = Array.from(plan.values.subarray(0, 30));
    assert.ok(Math.max(...row0) > 5 * (row0.reduce((s, v) => s + v, 0) / 30), 'row 0 is not flat');
  });
});

describe('small or broken data', () => {
  test('fewer cells (or bulk rows) than a batch: the batch is the whole domain', async () => {
    const data = syntheticData(4, { bulkRows: 30, cellRows: 12 });
    const seen: EpochProgress[] = [];
    const out = await sctl.train(input(data, { params: { iterations: 3, batch_size: 128, cell_batch_size: 128 }, onEpoch: (p) => seen.push(p) }));
    assert.equal(out.cellScores.length, 12);
    assert.equal(out.epochs, 3, 'one batch per pass');
  });

  test('fewer than 2 cells or bulk samples is a DataError naming the numbers', async () => {
    const data = syntheticData(5, { bulkRows: 10, cellRows: 4 });
    const oneCell = { ...data, cells: { x: data.cells.x.slice(0, 40), y: data.cells.y.slice(0, 1), rows: 1 } };
    const err = await failure(sctl.train(input(oneCell)));
    assert.ok(err instanceof DataError, String(err));
    assert.equal(err.message, 'cells: sctl needs at least 2 cells (a BatchNorm batch has 2 rows or more), but got 1');
    const oneBulk = { ...data, bulk: { x: data.bulk.x.slice(0, 40), y: data.bulk.y.slice(0, 1), rows: 1 } };
    assert.match(String(await failure(sctl.train(input(oneBulk)))), /bulk: sctl needs at least 2 bulk samples .* but got 1/);
    const bad = { ...data, cells: { ...data.cells, rows: 5 } };
    assert.match(String(await failure(sctl.train(input(bad)))), /cells: expected 5 x 40 values and 5 labels, but got 160 values and 4 labels/);
  });

  test('a diverging learning rate is a TrainingError naming the epoch and the term', async () => {
    const start = tf.memory().numTensors;
    const err = await failure(sctl.train(input(shared, { raw: { lr: 1e30 }, params: { iterations: 40 } })));
    assert.ok(err instanceof TrainingError, String(err));
    assert.ok(['vae', 'ot', 'mmd', 'pred'].includes(err.term ?? ''), `term ${err.term}`);
    assert.equal(err.failureCode, 'non_finite_loss');
    assert.ok(err.epoch >= 1 && err.epoch <= 10);
    assert.match(err.message, new RegExp(`loss term "${err.term}" became (NaN|-?Infinity) at epoch ${err.epoch} \\(batch \\d+ of 4\\)`));
    assert.equal(tf.memory().numTensors, start, 'nothing leaks on failure');
  });

  test('a huge planted input value is a TrainingError naming the VAE term', async () => {
    const bulk = { ...shared.bulk, x: shared.bulk.x.slice() };
    // Near float32's maximum: the reconstruction error of that row overflows at once.
    bulk.x.fill(3.4e38, 0, shared.genes.length);
    const err = await failure(sctl.train(input({ ...shared, bulk }, { params: { batch_size: 200, iterations: 3 } })));
    assert.ok(err instanceof TrainingError, String(err));
    assert.equal(err.term, 'vae');
    assert.match(err.message, /loss term "vae" became (NaN|Infinity) at epoch 1 \(batch 1 of 1\)/);
  });

  test('an aborted signal stops training at the next epoch boundary with InterruptedError', async () => {
    const start = tf.memory().numTensors;
    const controller = new AbortController();
    const seen: number[] = [];
    const err = await failure(
      sctl.train(
        input(shared, {
          params: { iterations: 40 },
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
  });
});
