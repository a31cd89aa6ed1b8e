import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunResult } from '../../proto/gen/cellsweep/v1/run.js';
import { summarize } from '../../core/stats.js';
import { compareTrials, judgeTrial } from '../../coordinator/study/aggregate.js';
import { replay } from '../../coordinator/journal/replay.js';
import type { JournalRecord } from '../../coordinator/journal/records.js';
import type { SweepConfig } from '../../coordinator/config/sweep-config.js';

const config: SweepConfig = {
  name: 't',
  source: 'test',
  studies: [{ name: 's', dataset: '/d', model: 'bulk-mlp', space: { params: [] }, fixed: {}, trials: 5, seeds: [1, 2, 3], sampler: 'random', samplerSeed: 0 }],
};

function result(auc: number, aupr: number): RunResult {
  return { auc, aupr, backend: 'wasm', trainSeconds: 1, loadSeconds: 0, epochs: 1, finalLosses: {}, bulkSamples: 1, cells: 1, genes: 1, trainerId: 't' };
}

/** A journal with one trial per row of per-seed [auc, aupr] pairs (or a failure). */
function journal(trials: Array<Array<[number, number] | 'fail'>>): JournalRecord[] {
  const records: JournalRecord[] = [{ op: 'sweep_created', v: 1, t: 0, sweepId: 'x', config }];
  trials.forEach((runs, trial) => {
    records.push({ op: 'trial_asked', t: 1, study: 's', trial, params: { depth: trial } });
    runs.forEach((r, i) => {
      const seed = i + 1;
      if (r === 'fail') records.push({ op: 'run_failed', t: 2, study: 's', trial, seed, failure: { reason: 'loss NaN', code: 'non_finite_loss', epoch: 3, backend: 'wasm', trainerId: 't' } });
      else records.push({ op: 'run_finished', t: 2, study: 's', trial, seed, result: result(r[0], r[1]) });
    });
  });
  return records;
}

test('mean and population std (numpy.std, ddof=0)', () => {
  const s = summarize([0.7, 0.8, 0.9]);
  assert.ok(Math.abs(s.mean - 0.8) < 1e-15);
  assert.ok(Math.abs(s.std - Math.sqrt(0.02 / 3)) < 1e-15);
  assert.equal(summarize([0.5]).std, 0);
  assert.ok(Number.isNaN(summarize([]).mean));
});

test('a trial value is the mean +- std of its runs; a repeated result for the same seed counts once', () => {
  const records = journal([[[0.6, 0.5], [0.8, 0.7], [0.7, 0.9]]]);
  // The same seed's result again, with other numbers: must be ignored.
  records.push({ op: 'run_finished', t: 3, study: 's', trial: 0, seed: 2, result: result(0.1, 0.1) });
  const trial = replay(records).studies.get('s')!.trials[0]!;
  assert.equal(trial.runs.size, 3);
  assert.ok(Math.abs(trial.auc!.mean - 0.7) < 1e-12);
  assert.ok(Math.abs(trial.auc!.std - Math.sqrt(0.02 / 3)) < 1e-12);
  assert.ok(Math.abs(trial.aupr!.mean - 0.7) < 1e-12);
  assert.equal(trial.auc!.n, 3);
});

test('a trial with a failed seed fails with that seed\'s reason', () => {
  const verdict = judgeTrial([
    { seed: 2, failure: { reason: 'loss NaN', code: 'x', epoch: 1, backend: '', trainerId: '' } },
    { seed: 1, result: result(0.5, 0.5) },
    { seed: 3, failure: { reason: 'other', code: 'x', epoch: 1, backend: '', trainerId: '' } },
  ]);
  assert.deepEqual(verdict, { state: 'FAIL', reason: 'seed 2 failed: loss NaN (and 1 more)' });
  assert.deepEqual(judgeTrial([{ seed: 1, result: result(0.5, 0.5) }]), { state: 'COMPLETE' });
});

test('best: highest mean AUC; ties go to mean AUPR, then to the earlier trial; failed trials never win', () => {
  const records = journal([
    [[0.8, 0.6], [0.8, 0.6], [0.8, 0.6]],
    [[0.8, 0.7], [0.8, 0.7], [0.8, 0.7]],
    [[0.99, 0.99], [0.99, 0.99], 'fail'],
    [[0.8, 0.7], [0.8, 0.7], [0.8, 0.7]],
  ]);
  const verdicts = [0, 1, 2, 3].map((trial) => ({ op: 'trial_finished' as const, t: 4, study: 's', trial, state: trial === 2 ? ('FAIL' as const) : ('COMPLETE' as const) }));
  // The order verdicts arrive in does not matter: trial 3 ties trial 1 and loses on its number either way.
  assert.equal(replay([...records, ...verdicts]).studies.get('s')!.progress.best!.number, 1);
  assert.equal(replay([...records, ...verdicts.reverse()]).studies.get('s')!.progress.best!.number, 1);
});

test('study progress kept record by record: trials done, runs done and the best trial, as a walk over every trial finds them', () => {
  const records = journal([
    [[0.8, 0.6], [0.8, 0.6], [0.8, 0.6]],
    [[0.9, 0.7], [0.9, 0.7], [0.9, 0.7]],
    [[0.99, 0.99], [0.99, 0.99], 'fail'],
    [[0.95, 0.9], [0.95, 0.9], [0.95, 0.9]],
  ]);
  // Trial 3 has all its runs but no verdict yet: still open, so it cannot be the best.
  for (let trial = 0; trial < 3; trial++) {
    records.push({ op: 'trial_finished', t: 4, study: 's', trial, state: trial === 2 ? 'FAIL' : 'COMPLETE' });
  }
  // A repeated result and a repeated verdict change nothing.
  records.push({ op: 'run_finished', t: 5, study: 's', trial: 3, seed: 1, result: result(0.1, 0.1) });
  records.push({ op: 'trial_finished', t: 5, study: 's', trial: 0, state: 'COMPLETE' });
  const study = replay(records).studies.get('s')!;
  assert.deepEqual({ ...study.progress, best: study.progress.best?.number }, { trialsDone: 3, runsDone: 12, best: 1 });
  assert.equal(study.progress.trialsDone, study.trials.filter((t) => ['COMPLETE', 'FAIL', 'PRUNED'].includes(t.state)).length);
  assert.equal(study.progress.runsDone, study.trials.reduce((n, t) => n + t.runs.size, 0));
  assert.equal(study.progress.best, study.trials.filter((t) => t.state === 'COMPLETE').sort(compareTrials)[0]);
});
