import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSyntheticDataset } from '../../trainer/data/index.js';
import { cli, tempDir } from '../e2e/helpers.js';

/**
 * The proof that SCTL transfers (issue 3), through the product: one sweep,
 * two trainer processes, the paper's six seeds, on synthetic data whose
 * domain shift a bulk-only model cannot bridge (the `subclonal` scenario of
 * docs/synthetic-data.md: a cell's response is set by its subclone, and the
 * cells barely measure the response genes). Four one-point studies:
 * SCTL at the real pairs' best setting (l1 = 1, l2 = 1, l3 = 5, depth 3,
 * encoder 256, 800 iterations), the same without OT (l1 = 0) and without
 * MMD (l2 = 0), and the bulk-only baseline at depth 3.
 *
 * Asserted, on mean AUC over the six seeds:
 * - SCTL - bulk-only >= 0.10 (measured with these settings: see
 *   bench/results/transfer.md, "Synthetic data"),
 * - removing OT lowers the AUC by at least 0.05,
 * - removing MMD lowers it less than removing OT does (the paper's ablations).
 */
const MARGIN_OVER_BULK = 0.1;
const OT_ABLATION_DROP = 0.05;

test('SCTL beats the bulk-only baseline by 0.10 AUC over six seeds, and removing OT costs more than removing MMD', { timeout: 40 * 60_000 }, async () => {
  const dir = tempDir('transfer');
  await writeSyntheticDataset(join(dir, 'subclonal'), { shape: 'data1', genes: 300, seed: 1, scenario: 'subclonal' });
  const sctl = 'encoder_hidden: 256, iterations: 800, l3: 5, sampling: weighted';
  writeFileSync(
    join(dir, 'sweep.yaml'),
    [
      'name: transfer-proof',
      'sampler: grid',
      'trials: 1',
      'seeds: [42, 50, 60, 70, 80, 124]',
      'space: {depth: {type: categorical, choices: [3]}}',
      'studies:',
      `  - {name: sctl, dataset: subclonal, model: sctl, fixed: {l1: 1, l2: 1, ${sctl}}}`,
      `  - {name: no-ot, dataset: subclonal, model: sctl, fixed: {l1: 0, l2: 1, ${sctl}}}`,
      `  - {name: no-mmd, dataset: subclonal, model: sctl, fixed: {l1: 1, l2: 0, ${sctl}}}`,
      '  - {name: bulk-only, dataset: subclonal, model: bulk-mlp, fixed: {sampling: weighted}}',
    ].join('\n'),
  );
  const out = join(dir, 'out');
  const res = await cli(['sweep', join(dir, 'sweep.yaml'), '--out', out, '--trainers', '2']);
  assert.equal(res.code, 0, res.stderr);

  const best = JSON.parse(readFileSync(join(out, 'best.json'), 'utf8')) as {
    studies: { study: string; best: { auc: { mean: number; n: number } } }[];
  };
  const auc = Object.fromEntries(
    best.studies.map((s) => {
      assert.equal(s.best.auc.n, 6, `${s.study}: every seed finished`);
      return [s.study, s.best.auc.mean];
    }),
  ) as Record<'sctl' | 'no-ot' | 'no-mmd' | 'bulk-only', number>;
  const report = `mean AUC: ${JSON.stringify(auc)}`;

  assert.ok(auc.sctl - auc['bulk-only'] >= MARGIN_OVER_BULK, `SCTL - bulk-only < ${MARGIN_OVER_BULK}; ${report}`);
  assert.ok(auc.sctl - auc['no-ot'] >= OT_ABLATION_DROP, `removing OT lowered the AUC by less than ${OT_ABLATION_DROP}; ${report}`);
  assert.ok(auc.sctl - auc['no-mmd'] < auc.sctl - auc['no-ot'], `removing MMD cost as much as removing OT; ${report}`);
});
