import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { RunSpec } from '../../proto/gen/cellsweep/v1/run.js';
import { toWireParams, type Params } from '../../core/params.js';
import { selectBackend } from '../../trainer/backend/index.js';
import { type PreparedData, loadPrepared } from '../../trainer/data/index.js';
import { executeRun, type RunContext } from '../../trainer/run.js';
import { DatasetCache } from '../../trainer/worker/dataset-cache.js';
import { tempDir, tinyDataset } from '../e2e/helpers.js';

/** executeRun turns every way a run can end into an outcome; only cancellation throws. */
async function context(): Promise<{ ctx: RunContext; dataset: string; loads: string[] }> {
  await selectBackend('wasm', { log: () => undefined });
  const dataset = await tinyDataset(join(tempDir('run'), 'd'), 'data6');
  const clean = await loadPrepared(dataset);
  const loads: string[] = [];
  // A second path serves the same data with one bulk sample planted near float32's maximum:
  // BatchNorm's variance overflows and the loss becomes NaN during training.
  const poisoned: PreparedData = { ...clean, bulk: { ...clean.bulk, x: clean.bulk.x.slice() } };
  poisoned.bulk.x.fill(3.4e38, 0, clean.genes.length);
  const datasets = new DatasetCache(async (path) => {
    loads.push(path);
    return path.endsWith('#poisoned') ? poisoned : clean;
  });
  const ctx: RunContext = { trainerId: 'unit', backend: 'wasm', datasets, signal: new AbortController().signal, onProgress: () => undefined };
  return { ctx, dataset, loads };
}

function spec(dataset: string, params: Params): RunSpec {
  return { runId: 's/0/42', study: 's', trial: 0, seed: 42, model: 'bulk-mlp', params: toWireParams(params), dataset, reportEpochMetrics: false, interpret: false };
}

test('a non-finite loss ends the run as failed with the epoch and the loss term; the next run trains', async () => {
  const { ctx, dataset } = await context();
  const bad = await executeRun(spec(`${dataset}#poisoned`, { epochs: 3, sampling: 'none', batch_size: 1024 }), ctx);
  assert.ok('failure' in bad, JSON.stringify(bad));
  assert.equal(bad.failure.code, 'non_finite_loss');
  assert.ok(bad.failure.epoch >= 1 && bad.failure.epoch <= 3);
  assert.match(bad.failure.reason, new RegExp(`loss term "bce" became NaN at epoch ${bad.failure.epoch}`));
  assert.equal(bad.failure.trainerId, 'unit');
  const good = await executeRun(spec(dataset, { epochs: 1 }), ctx);
  assert.ok('result' in good, JSON.stringify(good));
});

test('the dataset is loaded once per path and reused by later runs', async () => {
  const { ctx, dataset, loads } = await context();
  for (const seed of [1, 2, 3]) {
    const out = await executeRun({ ...spec(dataset, { epochs: 1 }), seed }, ctx);
    assert.ok('result' in out);
  }
  assert.deepEqual(loads, [dataset]);
});

test('a run cancelled before it starts throws InterruptedError without loading data or training', async () => {
  const { ctx, dataset, loads } = await context();
  const stop = new AbortController();
  stop.abort();
  const progress: unknown[] = [];
  let loaded = false;
  await assert.rejects(executeRun(spec(dataset, { epochs: 1 }), { ...ctx, signal: stop.signal, onProgress: (p) => progress.push(p), onLoaded: () => (loaded = true) }), {
    name: 'InterruptedError',
  });
  assert.deepEqual([loads, progress, loaded], [[], [], false]);
});

test('a run cancelled mid-training throws InterruptedError at the next epoch and reports no later epoch', async () => {
  const { ctx, dataset } = await context();
  const stop = new AbortController();
  const epochs: number[] = [];
  const run = executeRun(spec(dataset, { epochs: 5 }), {
    ...ctx,
    signal: stop.signal,
    onProgress: (p) => {
      epochs.push(p.epoch);
      if (p.epoch === 2) stop.abort();
    },
  });
  await assert.rejects(run, { name: 'InterruptedError' });
  assert.deepEqual(epochs, [1, 2]);
});

test('target_fraction trains and scores on a seeded share of the cells: the same subsample number gives the same cells and result', async () => {
  const { ctx, dataset } = await context();
  const all = await executeRun(spec(dataset, { epochs: 2 }), ctx);
  const sub = (which: number): Promise<unknown> => executeRun(spec(dataset, { epochs: 2, target_fraction: 0.8, target_subsample: which }), ctx);
  const [a, again, b] = [await sub(1), await sub(1), await sub(2)];
  assert.ok('result' in all && 'result' in (a as object) && 'result' in (b as object), JSON.stringify({ all, a, b }));
  const result = (o: unknown) => (o as { result: { cells: number; auc: number; trainSeconds: number; loadSeconds: number } }).result;
  assert.equal(result(a).cells, Math.round(0.8 * result(all).cells));
  const scores = (o: unknown) => ({ auc: result(o).auc, cells: result(o).cells });
  assert.deepEqual(scores(again), scores(a), 'same subsample and seed: same result');
  assert.notEqual(result(b).auc, result(a).auc, 'another subsample scores other cells');
});
