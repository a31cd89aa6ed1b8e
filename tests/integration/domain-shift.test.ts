import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveSettings } from '../../core/model-specs.js';
import { summarize } from '../../core/stats.js';
import { selectBackend } from '../../trainer/backend/index.js';
import { writeSyntheticDataset, loadPrepared } from '../../trainer/data/index.js';
import { rocAuc } from '../../trainer/metrics/index.js';
import { modelFamily } from '../../trainer/models/registry.js';
import { tempDir } from '../e2e/helpers.js';

/**
 * The synthetic data must have a real domain shift: the bulk-only baseline,
 * well trained, scores clearly below a perfect transfer (the true response
 * program, read from truth.tsv, which training never sees). Otherwise a
 * transfer model would have nothing to prove on it.
 */
test('bulk-mlp trained on bulk only is clearly worse on the cells than the true program', { timeout: 180_000 }, async () => {
  await selectBackend('wasm', { log: () => undefined });
  const dir = join(tempDir('shift'), 'data1');
  await writeSyntheticDataset(dir, { shape: 'data1', genes: 300, seed: 11 });
  const data = await loadPrepared(dir);

  const truth = new Map(
    readFileSync(join(dir, 'truth.tsv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => {
        const [id, activity] = line.split('\t');
        return [id!, Number(activity)] as const;
      }),
  );
  const ids = data.cells.ids!;
  const perfect = rocAuc(data.cells.y, ids.map((id) => truth.get(id)!));

  const family = modelFamily('bulk-mlp');
  const settings = resolveSettings(family.spec, { epochs: 15, depth: 3, lr: 0.002 });
  const aucs: number[] = [];
  const bulkFit: number[] = [];
  for (const seed of [42, 50, 60]) {
    const out = await family.train({ data, settings, seed, signal: new AbortController().signal, onEpoch: () => undefined, evaluateEachEpoch: false });
    aucs.push(rocAuc(data.cells.y, out.cellScores));
    // The same model on its own (bulk) domain: it did learn the bulk task.
    const onBulk = await family.train({ data: { ...data, cells: data.bulk }, settings, seed, signal: new AbortController().signal, onEpoch: () => undefined, evaluateEachEpoch: false });
    bulkFit.push(rocAuc(data.bulk.y, onBulk.cellScores));
  }
  const baseline = summarize(aucs).mean;
  const fit = summarize(bulkFit).mean;
  console.log(`perfect transfer AUC ${perfect.toFixed(3)}, bulk-mlp on cells ${baseline.toFixed(3)} (${aucs.map((a) => a.toFixed(3)).join(', ')}), bulk-mlp on bulk ${fit.toFixed(3)}`);
  assert.ok(perfect > 0.85, `the true program separates the cells (AUC ${perfect})`);
  assert.ok(fit > 0.85, `bulk-mlp learns the bulk task (AUC ${fit})`);
  assert.ok(baseline < perfect - 0.1, `bulk-only ${baseline} must be at least 0.10 below perfect transfer ${perfect}`);
  assert.ok(baseline > 0.5, `but the bulk signal carries over partly (${baseline})`);
});
