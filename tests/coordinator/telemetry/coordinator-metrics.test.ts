import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import type { RunResult } from '../../../proto/gen/cellsweep/v1/run.js';
import type { SweepConfig } from '../../../coordinator/config/sweep-config.js';
import { applyRecord, createState } from '../../../coordinator/journal/replay.js';
import type { JournalRecord } from '../../../coordinator/journal/records.js';
import { createSampler } from '../../../coordinator/samplers/index.js';
import type { SweepState } from '../../../coordinator/study/sweep-state.js';
import { CoordinatorMetrics, type QueueStats } from '../../../coordinator/telemetry/coordinator-metrics.js';
import { metricValue as value } from '../../core/telemetry/exposition.js';

const config: SweepConfig = {
  name: 'sw',
  source: 'test',
  studies: [
    { name: 'a', dataset: '/d', model: 'bulk-mlp', space: { params: [['depth', { type: 'int', low: 2, high: 6, log: false, step: 1 }]] }, fixed: {}, trials: 4, seeds: [1, 2], sampler: 'random', samplerSeed: 0 },
  ],
};

function result(auc: number): RunResult {
  return { auc, aupr: auc - 0.1, backend: 'wasm', trainSeconds: 1, loadSeconds: 0, epochs: 1, finalLosses: {}, bulkSamples: 1, cells: 1, genes: 1, trainerId: 't' };
}

/** A live sweep fed record by record, as the coordinator's onRecord does. */
function sweep(metrics: () => CoordinatorMetrics): { state: SweepState; feed(records: JournalRecord[]): void } {
  const state = createState({ op: 'sweep_created', v: 1, t: 0, sweepId: 'id-1', config });
  return {
    state,
    feed(records) {
      for (const r of records) {
        applyRecord(state, r);
        metrics().record('id-1', r, state);
      }
    },
  };
}

test('trials and runs by state, durations, redeliveries and best scores follow the journal', async () => {
  const registry = new Registry();
  let s: ReturnType<typeof sweep> | undefined;
  const metrics = new CoordinatorMetrics(registry, { sweeps: () => [{ id: 'id-1', state: s!.state }] });
  s = sweep(() => metrics);
  const run = (trial: number, seed: number) => ({ study: 'a', trial, seed });
  s.feed([
    { op: 'trial_asked', t: 1000, study: 'a', trial: 0, params: { depth: 2 } },
    { op: 'trial_asked', t: 1000, study: 'a', trial: 1, params: { depth: 3 } },
    { op: 'run_started', t: 2000, ...run(0, 1), trainer: 'x', attempt: 1 },
    { op: 'run_started', t: 2000, ...run(0, 2), trainer: 'y', attempt: 1 },
    { op: 'run_finished', t: 5000, ...run(0, 1), result: result(0.8) },
  ]);
  let text = await registry.metrics();
  const runs = (state: string) => value(text, 'cellsweep_runs', { sweep: 'sw', sweep_id: 'id-1', study: 'a', state });
  // Trial 0: seed 1 finished, seed 2 on a trainer; trial 1: both seeds queued.
  assert.deepEqual([runs('finished'), runs('running'), runs('queued'), runs('failed')], [1, 1, 2, 0]);
  assert.equal(value(text, 'cellsweep_trials', { state: 'running' }), 2);
  assert.equal(value(text, 'cellsweep_run_duration_seconds_sum', { outcome: 'finished' }), 1, "a result's duration is the trainer's own (load + train seconds)");
  assert.equal(value(text, 'cellsweep_run_outcomes_total', { outcome: 'finished' }), 1);
  assert.equal(value(text, 'cellsweep_run_outcomes_total', { outcome: 'failed' }), 0, 'the counter exists at 0 before any failure');
  assert.equal(value(text, 'cellsweep_redeliveries_total', { study: 'a' }), 0, 'the counter exists at 0 before any redelivery');
  assert.equal(value(text, 'cellsweep_best_auc'), undefined, 'no complete trial yet');
  assert.equal(value(text, 'cellsweep_sweep_status', { status: 'running' }), 1);

  s.feed([
    // Seed 2 of trial 0 went silent and was taken again by another trainer.
    { op: 'run_started', t: 6000, ...run(0, 2), trainer: 'z', attempt: 2 },
    { op: 'run_finished', t: 8000, ...run(0, 2), result: result(0.7) },
    { op: 'trial_finished', t: 8000, study: 'a', trial: 0, state: 'COMPLETE' },
    { op: 'run_started', t: 8000, ...run(1, 1), trainer: 'x', attempt: 1 },
    { op: 'run_failed', t: 9500, ...run(1, 1), failure: { reason: 'boom', code: 'internal', epoch: 0, backend: 'wasm', trainerId: 'x' } },
  ]);
  text = await registry.metrics();
  assert.deepEqual([runs('finished'), runs('running'), runs('queued'), runs('failed')], [2, 0, 1, 1]);
  assert.equal(value(text, 'cellsweep_redeliveries_total', { study: 'a' }), 1);
  assert.equal(value(text, 'cellsweep_run_duration_seconds_count', { outcome: 'finished' }), 2);
  assert.equal(value(text, 'cellsweep_run_duration_seconds_sum', { outcome: 'finished' }), 2);
  assert.equal(value(text, 'cellsweep_run_duration_seconds_sum', { outcome: 'failed' }), 1.5, 'a failure is timed from its start');
  assert.deepEqual([value(text, 'cellsweep_run_outcomes_total', { outcome: 'finished' }), value(text, 'cellsweep_run_outcomes_total', { outcome: 'failed' })], [2, 1]);
  assert.ok(Math.abs(value(text, 'cellsweep_best_auc', { study: 'a' })! - 0.75) < 1e-12);
  assert.ok(Math.abs(value(text, 'cellsweep_best_aupr', { study: 'a' })! - 0.65) < 1e-12);
  assert.equal(value(text, 'cellsweep_trials', { state: 'complete' }), 1);

  s.feed([
    { op: 'run_started', t: 10_000, ...run(1, 2), trainer: 'y', attempt: 1 },
    // Pruned: its running run is stopped and sends no outcome; it must not stay "running".
    { op: 'trial_finished', t: 10_500, study: 'a', trial: 1, state: 'PRUNED', reason: 'r' },
    { op: 'sweep_stopped', t: 11_000, reason: 'stopped by request' },
  ]);
  text = await registry.metrics();
  assert.deepEqual([runs('running'), runs('queued')], [0, 0]);
  assert.equal(value(text, 'cellsweep_trials', { state: 'pruned' }), 1);
  assert.equal(value(text, 'cellsweep_sweep_status', { status: 'stopped' }), 1);
  assert.equal(value(text, 'cellsweep_sweep_status', { status: 'running' }), 0);
});

test('a sweep whose loop failed reports status failed', async () => {
  const registry = new Registry();
  const state = createState({ op: 'sweep_created', v: 1, t: 0, sweepId: 'id-2', config });
  new CoordinatorMetrics(registry, { sweeps: () => [{ id: 'id-2', state, error: new Error('journal gone') }] });
  const text = await registry.metrics();
  assert.equal(value(text, 'cellsweep_sweep_status', { sweep_id: 'id-2', status: 'failed' }), 1);
  assert.equal(value(text, 'cellsweep_sweep_status', { sweep_id: 'id-2', status: 'running' }), 0);
});

test('suggestions are timed per study, and the wrapped sampler suggests what the sampler would', async () => {
  const registry = new Registry();
  const metrics = new CoordinatorMetrics(registry, { sweeps: () => [] });
  const study = config.studies[0]!;
  const plain = createSampler('random', 3);
  const timed = metrics.timed(() => createSampler('random', 3), 'id-1', 'sw');
  const sampler = timed(study);
  assert.equal(timed(study), sampler, 'one wrapper per study, so the sampler and its caches are kept');
  for (let i = 0; i < 5; i++) assert.deepEqual(sampler.suggest(study.space, [], i), plain.suggest(study.space, [], i));
  const text = await registry.metrics();
  assert.equal(value(text, 'cellsweep_suggestion_duration_seconds_count', { study: 'a', sampler: 'random' }), 5);
});

test('queue gauges come from one JetStream read per scrape; a failed read keeps the last values and is counted', async () => {
  const registry = new Registry();
  let reads = 0;
  let fail = false;
  // The JetStream side is tested against a real server in tests/cluster/observability.test.ts; here only the gauges' contract.
  const stats = async (): Promise<QueueStats> => {
    reads++;
    if (fail) throw new Error('nats down');
    return { pending: 7, inProgress: 3, redelivered: 1, waitingPulls: 0, deadLetters: 2 };
  };
  let connected = true;
  new CoordinatorMetrics(registry, { sweeps: () => [] }, { stats, connected: () => connected });
  let text = await registry.metrics();
  assert.equal(reads, 1);
  assert.deepEqual(
    ['cellsweep_queue_depth', 'cellsweep_queue_in_progress', 'cellsweep_queue_redelivered', 'cellsweep_queue_waiting_pulls', 'cellsweep_dead_letters', 'cellsweep_nats_connected'].map((n) => value(text, n)),
    [7, 3, 1, 0, 2, 1],
  );
  fail = true;
  connected = false;
  await new Promise((r) => setImmediate(r));
  text = await registry.metrics();
  assert.equal(reads, 2);
  assert.equal(value(text, 'cellsweep_queue_depth'), 7);
  assert.equal(value(text, 'cellsweep_queue_probe_errors_total'), 1);
  assert.equal(value(text, 'cellsweep_nats_connected'), 0);
});

/** The counts recomputed from scratch over every trial: what the incremental tallies must always equal. */
function bruteForce(state: SweepState, started: Set<string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const study of state.studies.values()) {
    const runs = { queued: 0, running: 0, finished: 0, failed: 0 };
    const trials: Record<string, number> = { waiting: 0, running: 0, complete: 0, pruned: 0, fail: 0 };
    for (const trial of study.trials) {
      trials[trial.state.toLowerCase()]!++;
      for (const o of trial.runs.values()) runs[o.result === undefined ? 'failed' : 'finished']++;
      if (trial.state !== 'RUNNING' || state.status !== 'running') continue;
      for (const seed of study.config.seeds) if (!trial.runs.has(seed)) runs[started.has(`${study.config.name}/${trial.number}/${seed}`) ? 'running' : 'queued']++;
    }
    for (const [k, v] of Object.entries(runs)) out[`runs ${k}`] = v;
    for (const [k, v] of Object.entries(trials)) out[`trials ${k}`] = v;
    const best = [...study.trials].filter((t) => t.state === 'COMPLETE').sort((a, b) => b.auc!.mean - a.auc!.mean || b.aupr!.mean - a.aupr!.mean || a.number - b.number)[0];
    if (best !== undefined) out['best auc'] = best.auc!.mean;
  }
  return out;
}

test('the incremental tallies equal a recount over every trial, record after record, in random sweeps (and when metrics start mid-sweep)', async () => {
  let seed = 12345;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let sweepNo = 0; sweepNo < 20; sweepNo++) {
    const state = createState({ op: 'sweep_created', v: 1, t: 0, sweepId: 's', config });
    const registry = new Registry();
    const metricsStart = Math.floor(rand() * 40);
    let metrics: CoordinatorMetrics | undefined;
    const started = new Set<string>();
    let t = 0;
    const apply = (r: JournalRecord): void => {
      applyRecord(state, r);
      metrics?.record('s', r, state);
    };
    for (let step = 0; step < 120; step++) {
      if (step === metricsStart) metrics = new CoordinatorMetrics(registry, { sweeps: () => [{ id: 's', state }] });
      const study = state.studies.get('a')!;
      const open = study.trials.filter((tr) => tr.state === 'RUNNING');
      const roll = rand();
      if ((open.length === 0 || roll < 0.2) && study.trials.length < 4) {
        apply({ op: 'trial_asked', t: t++, study: 'a', trial: study.trials.length, params: { depth: 2 } });
      } else if (open.length > 0) {
        const trial = open[Math.floor(rand() * open.length)]!;
        const s = [1, 2][Math.floor(rand() * 2)]!;
        const key = `a/${trial.number}/${s}`;
        if (roll < 0.45) {
          apply({ op: 'run_started', t: t++, study: 'a', trial: trial.number, seed: s, trainer: 'x', attempt: 1 });
          if (!trial.runs.has(s)) started.add(key);
        } else if (roll < 0.8) {
          apply(rand() < 0.8 ? { op: 'run_finished', t: t++, study: 'a', trial: trial.number, seed: s, result: result(Math.round(rand() * 100) / 100) } : { op: 'run_failed', t: t++, study: 'a', trial: trial.number, seed: s, failure: { reason: 'x', code: 'internal', epoch: 0, backend: 'wasm', trainerId: 'x' } });
          started.delete(key);
        } else {
          const verdict = trial.runs.size === 2 ? ([...trial.runs.values()].every((o) => o.result !== undefined) ? 'COMPLETE' : 'FAIL') : 'PRUNED';
          apply({ op: 'trial_finished', t: t++, study: 'a', trial: trial.number, state: verdict });
          for (const x of [1, 2]) started.delete(`a/${trial.number}/${x}`);
        }
      }
      if (metrics === undefined || rand() < 0.5) continue;
      const text = await registry.metrics();
      const got: Record<string, number> = {};
      for (const st of ['queued', 'running', 'finished', 'failed']) got[`runs ${st}`] = value(text, 'cellsweep_runs', { state: st })!;
      for (const st of ['waiting', 'running', 'complete', 'pruned', 'fail']) got[`trials ${st}`] = value(text, 'cellsweep_trials', { state: st })!;
      const best = value(text, 'cellsweep_best_auc');
      if (best !== undefined) got['best auc'] = best;
      // Runs started before the metrics began are not known to them: they show as queued.
      const expected = bruteForce(state, step >= metricsStart ? started : new Set());
      if (metricsStart > 0) {
        expected['runs queued']! += expected['runs running']!;
        expected['runs running'] = 0;
        got['runs queued']! += got['runs running']!;
        got['runs running'] = 0;
      }
      assert.deepEqual(got, expected, `sweep ${sweepNo}, step ${step}`);
    }
  }
});
