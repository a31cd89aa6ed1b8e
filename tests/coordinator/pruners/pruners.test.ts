import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunResult } from '../../../proto/gen/cellsweep/v1/run.js';
import { compilePruner, createPruner } from '../../../coordinator/pruners/index.js';
import { compareTrials, summarizeTrial } from '../../../coordinator/study/aggregate.js';
import type { Study, Trial } from '../../../coordinator/study/sweep-state.js';
import type { StudyConfig } from '../../../coordinator/config/sweep-config.js';

const config: StudyConfig = { name: 's', dataset: '/d', model: 'bulk-mlp', space: { params: [] }, fixed: {}, trials: 50, seeds: [1, 2, 3, 4, 5, 6], sampler: 'random', samplerSeed: 0 };

function result(auc: number): RunResult {
  return { auc, aupr: auc, backend: 'x', trainSeconds: 0, loadSeconds: 0, epochs: 1, finalLosses: {}, bulkSamples: 1, cells: 1, genes: 1, trainerId: 'x' };
}

/** A study as pruners see it: its trials, and the best complete one as the journal's replay keeps it. */
function studyOf(trials: Trial[]): Study {
  const best = trials.filter((t) => t.state === 'COMPLETE').sort(compareTrials)[0];
  return { config, trials, progress: { trialsDone: 0, runsDone: 0, ...(best === undefined ? {} : { best }) } };
}

/** A trial with per-seed final AUCs and, optionally, per-seed epoch curves. */
function trial(number: number, state: Trial['state'], aucs: Record<number, number>, curves?: Record<number, number[]>): Trial {
  const t: Trial = { study: 's', number, params: {}, state, runs: new Map(Object.entries(aucs).map(([s, a]) => [Number(s), { seed: Number(s), result: result(a) }])) };
  if (curves !== undefined) t.progress = new Map(Object.entries(curves).map(([s, c]) => [Number(s), c]));
  summarizeTrial(t);
  return t;
}

test('pruner settings: defaults, and errors naming the field', () => {
  assert.deepEqual(compilePruner({ name: 'seeds' }), { name: 'seeds', options: { alpha: 0.05, min_seeds: 5 } });
  assert.deepEqual(compilePruner({ name: 'median', warmup_epochs: 3 }).options, { startup_trials: 5, warmup_epochs: 3, interval_epochs: 1 });
  assert.throws(() => compilePruner({ name: 'hyperband' }), /field 'pruner\.name': expected a pruner name \(median, successive-halving, seeds\), but got "hyperband"/);
  assert.throws(() => compilePruner({ name: 'seeds', alpha: 2 }), /field 'pruner\.alpha': expected a number in \[0, 1\], but got 2/);
  assert.throws(() => compilePruner({ name: 'median', patience: 2 }), /field 'pruner\.patience': unknown option 'patience' of the median pruner/);
  assert.throws(() => compilePruner('median'), /expected a mapping with a pruner name/);
});

test('seeds: prunes when the finished seeds are all worse than the best trial (exact Wilcoxon, p = 1/32 < 0.05)', () => {
  const best = trial(0, 'COMPLETE', { 1: 0.9, 2: 0.91, 3: 0.92, 4: 0.9, 5: 0.93, 6: 0.9 });
  const pruner = createPruner(compilePruner({ name: 'seeds' }));
  const study = studyOf([best]);
  const worse4 = trial(1, 'RUNNING', { 1: 0.7, 2: 0.71, 3: 0.72, 4: 0.7 });
  study.trials.push(worse4);
  assert.equal(pruner.judge(study, worse4, { kind: 'run', seed: 4 }), undefined, 'four seeds cannot reach p < 0.05');
  const worse5 = trial(2, 'RUNNING', { 1: 0.7, 2: 0.72, 3: 0.75, 4: 0.79, 5: 0.85 });
  study.trials.push(worse5);
  assert.match(pruner.judge(study, worse5, { kind: 'run', seed: 5 })!, /seed pruner: on seeds 1, 2, 3, 4, 5 worse than trial #0 \(Wilcoxon signed-rank, one-sided p = 0\.0313 < 0\.05\)/);
  const mixed = trial(3, 'RUNNING', { 1: 0.95, 2: 0.71, 3: 0.72, 4: 0.7, 5: 0.7 });
  study.trials.push(mixed);
  assert.equal(pruner.judge(study, mixed, { kind: 'run', seed: 5 }), undefined, 'one seed better: not significant');
});

test('median: prunes a run below the median of complete trials at the same seed and epoch, after warm-up and startup', () => {
  const pruner = createPruner(compilePruner({ name: 'median', startup_trials: 3, warmup_epochs: 1 }));
  const complete = [0.6, 0.7, 0.8].map((a, i) => trial(i, 'COMPLETE', { 1: a }, { 1: [a - 0.1, a], 2: [0.1, 0.1] }));
  const study = studyOf([...complete]);
  const low = trial(3, 'RUNNING', {}, { 1: [0.1, 0.65] });
  study.trials.push(low);
  assert.equal(pruner.judge(study, low, { kind: 'epoch', seed: 1, epoch: 1 }), undefined, 'warm-up epoch');
  assert.match(pruner.judge(study, low, { kind: 'epoch', seed: 1, epoch: 2 })!, /seed 1 at epoch 2 has cell AUC 0\.6500, below the median 0\.7000 of 3 complete trials/);
  const high = trial(4, 'RUNNING', {}, { 1: [0.1, 0.75] });
  study.trials.push(high);
  assert.equal(pruner.judge(study, high, { kind: 'epoch', seed: 1, epoch: 2 }), undefined);
  // Seed 2's curves are compared only with seed 2's.
  const otherSeed = trial(5, 'RUNNING', {}, { 2: [0.1, 0.2] });
  study.trials.push(otherSeed);
  assert.equal(pruner.judge(study, otherSeed, { kind: 'epoch', seed: 2, epoch: 2 }), undefined, 'seed 2 at epoch 2: 0.2 is above the complete trials\' 0.1 there');
  const fewer = createPruner(compilePruner({ name: 'median', startup_trials: 4 }));
  assert.equal(fewer.judge(study, low, { kind: 'epoch', seed: 1, epoch: 2 }), undefined, 'fewer complete trials than startup_trials');
});

test('successive halving: at rung epochs only the top 1/rf of same-seed runs go on', () => {
  const pruner = createPruner(compilePruner({ name: 'successive-halving', min_epochs: 1, reduction_factor: 3 }));
  const others = [0.5, 0.6, 0.7, 0.8, 0.9].map((a, i) => trial(i, i < 3 ? 'COMPLETE' : 'PRUNED', {}, { 1: [a, a, a] }));
  const study = studyOf([...others]);
  // Six runs at rung 0 (epoch 1): the top floor(6/3) = 2 go on (bar 0.8).
  const mid = trial(5, 'RUNNING', {}, { 1: [0.75, 0.99, 0.99] });
  study.trials.push(mid);
  assert.match(pruner.judge(study, mid, { kind: 'epoch', seed: 1, epoch: 1 })!, /rung 0 \(epoch 1\) has cell AUC 0\.7500, outside the top 2 of 6 \(bar 0\.8000\)/);
  assert.equal(pruner.judge(study, mid, { kind: 'epoch', seed: 1, epoch: 2 }), undefined, 'epoch 2 is not a rung (rungs 1, 3, 9, ...)');
  const top = trial(6, 'RUNNING', {}, { 1: [0.95] });
  study.trials.push(top);
  assert.equal(pruner.judge(study, top, { kind: 'epoch', seed: 1, epoch: 1 }), undefined);
});
