import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { resolveSettings, SLEEP } from '../../../core/model-specs.js';
import { InterruptedError } from '../../../core/errors.js';
import { loadPrepared } from '../../../trainer/data/index.js';
import { rocAuc } from '../../../trainer/metrics/index.js';
import { sleepModel } from '../../../trainer/models/sleep.js';
import { tempDir, tinyDataset } from '../../e2e/helpers.js';

const data = await loadPrepared(await tinyDataset(join(tempDir('sleep'), 'd'), 'data6'));

async function auc(signal: number, seed: number, opts: { epochs?: number; abort?: AbortSignal } = {}): Promise<{ auc: number; epochs: number[] }> {
  const epochs: number[] = [];
  const out = await sleepModel.train({
    data,
    settings: resolveSettings(SLEEP, { signal, seconds: 0.01, epochs: opts.epochs ?? 2 }),
    seed,
    signal: opts.abort ?? new AbortController().signal,
    onEpoch: (p) => epochs.push(p.epoch),
    evaluateEachEpoch: false,
  });
  return { auc: rocAuc(data.cells.y, out.cellScores), epochs };
}

test('the sleep test model: the same signal and seed give the same AUC, more signal a higher one, one progress report per epoch', async () => {
  const a = await auc(0.2, 42, { epochs: 3 });
  assert.equal((await auc(0.2, 42)).auc, a.auc);
  assert.notEqual((await auc(0.2, 50)).auc, a.auc);
  assert.deepEqual(a.epochs, [1, 2, 3]);
  const low = (await auc(0, 42)).auc;
  const high = (await auc(0.6, 42)).auc;
  assert.ok(Math.abs(low - 0.5) < 0.15, `no signal, about chance (${low})`);
  assert.ok(high > a.auc && a.auc > low, `${low} < ${a.auc} < ${high}`);
});

test('the sleep test model stops at an epoch boundary when cancelled', async () => {
  const stop = new AbortController();
  stop.abort();
  await assert.rejects(auc(0.5, 1, { abort: stop.signal }), InterruptedError);
});
