import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Registry } from 'prom-client';
import { TrainerMetrics } from '../../../trainer/telemetry/trainer-metrics.js';
import { metricValue as value } from '../../core/telemetry/exposition.js';

test('busy time counts the run in progress at each scrape, and stops with the run', async () => {
  const registry = new Registry();
  const metrics = new TrainerMetrics(registry, { trainerId: 't1', backend: 'cpu' });
  assert.equal(value(await registry.metrics(), 'cellsweep_trainer_busy'), 0);
  metrics.runTaken(1500);
  await sleep(120);
  let text = await registry.metrics();
  const during = value(text, 'cellsweep_trainer_busy_seconds_total')!;
  assert.ok(during >= 0.1 && during < 1, `busy ${during} s while a run is in progress`);
  assert.equal(value(text, 'cellsweep_trainer_busy'), 1);
  await sleep(60);
  metrics.runEnded('sleep', 'finished');
  text = await registry.metrics();
  const after = value(text, 'cellsweep_trainer_busy_seconds_total')!;
  assert.ok(after >= 0.17 && after < 1.2, `busy ${after} s after the run`);
  await sleep(100);
  assert.equal(value(await registry.metrics(), 'cellsweep_trainer_busy_seconds_total'), after, 'idle time is not busy time');
  assert.equal(value(text, 'cellsweep_trainer_busy'), 0);
  assert.equal(value(text, 'cellsweep_trainer_runs_total', { model: 'sleep', outcome: 'finished' }), 1);
  assert.equal(value(text, 'cellsweep_run_queue_wait_seconds_sum'), 1.5);
});

test('epochs are timed from the end of the data load, one observation per epoch', async () => {
  const registry = new Registry();
  const metrics = new TrainerMetrics(registry, { trainerId: 't1', backend: 'cpu' });
  metrics.runTaken(0);
  metrics.epochEnded('sctl'); // before the load ended: not an epoch to time
  metrics.trainingStarted();
  for (let e = 0; e < 3; e++) {
    await sleep(30);
    metrics.epochEnded('sctl');
  }
  metrics.runEnded('sctl', 'finished');
  const text = await registry.metrics();
  assert.equal(value(text, 'cellsweep_epoch_duration_seconds_count', { model: 'sctl' }), 3);
  const sum = value(text, 'cellsweep_epoch_duration_seconds_sum', { model: 'sctl' })!;
  assert.ok(sum >= 0.085 && sum < 1, `three ~30 ms epochs took ${sum} s`);
});

test('backend and tfjs memory are reported as they are', async () => {
  await tf.setBackend('cpu');
  const registry = new Registry();
  new TrainerMetrics(registry, { trainerId: 't9', backend: 'cpu' });
  const before = value(await registry.metrics(), 'cellsweep_tfjs_tensors')!;
  const x = tf.zeros([100, 10]);
  const text = await registry.metrics();
  assert.equal(value(text, 'cellsweep_tfjs_tensors'), before + 1);
  assert.ok(value(text, 'cellsweep_tfjs_memory_bytes')! >= 4000);
  assert.equal(value(text, 'cellsweep_trainer_backend_info', { backend: 'cpu', trainer_id: 't9' }), 1);
  x.dispose();
});
