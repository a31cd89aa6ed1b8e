import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { RunSpec } from '../../proto/gen/cellsweep/v1/run.js';
import { InterruptedError, JournalError } from '../../core/errors.js';
import { EVENTS_STREAM, RUNS_STREAM, subjects } from '../../core/nats/topology.js';
import { toWireParams } from '../../core/params.js';
import { NatsDispatcher } from '../../coordinator/dispatch/nats-dispatcher.js';
import { JetStreamJournal } from '../../coordinator/journal/jetstream-journal.js';
import { replay } from '../../coordinator/journal/replay.js';
import { createSampler } from '../../coordinator/samplers/index.js';
import { SweepRunner } from '../../coordinator/study/sweep-runner.js';
import { executeRun } from '../../trainer/run.js';
import { DatasetCache } from '../../trainer/worker/dataset-cache.js';
import { loadPrepared } from '../../trainer/data/index.js';
import { waitFor, waitForAsync } from '../e2e/helpers.js';
import { NatsServer } from './nats-server.js';
import { connectTo, createJournal, sleepSweep, startNatsTrainer, stopTrainers, type TrainerProc } from './cluster-helpers.js';

let server: NatsServer;
let nc: NatsConnection;
const trainers: TrainerProc[] = [];

before(async () => {
  server = await NatsServer.start();
  nc = await connectTo(server.url);
});

after(async () => {
  await stopTrainers(trainers);
  await nc?.close();
  await server?.stop();
});

test('a sweep runs over NATS JetStream on two trainer processes: every run once, with the result in-process training gives', async () => {
  const config = await sleepSweep({ trials: 4, seeds: [1, 2, 3], seconds: 0.3 });
  const { sweepId, journal } = await createJournal(nc, config);
  const state = replay(await journal.read());
  trainers.push(startNatsTrainer(server.url, 'a1'), startNatsTrainer(server.url, 'a2'));
  const dispatcher = await NatsDispatcher.start({ nc, sweepId, capacity: 4 });
  const runner = new SweepRunner({ state, journal, dispatcher, samplerFor: (s) => createSampler(s.sampler, s.samplerSeed) });
  assert.equal(await runner.run(new AbortController().signal), 'complete');
  await dispatcher.close();
  await journal.close();

  const records = await (await JetStreamJournal.open(nc, sweepId, { create: false })).read();
  const finished = records.filter((r) => r.op === 'run_finished');
  assert.equal(finished.length, 12);
  assert.equal(new Set(finished.map((r) => `${r.study}/${r.trial}/${r.seed}`)).size, 12);
  const started = records.filter((r) => r.op === 'run_started');
  assert.deepEqual(new Set(started.map((r) => r.trainer)), new Set(['a1', 'a2']), 'both trainers took runs');
  assert.equal(records.at(-1)?.op, 'sweep_finished');

  // The result that came over NATS is the one the same spec gives in-process.
  const first = finished[0]!;
  const study = state.studies.get(first.study)!;
  const spec: RunSpec = {
    runId: `${first.study}/${first.trial}/${first.seed}`,
    study: first.study,
    trial: first.trial,
    seed: first.seed,
    model: 'sleep',
    params: toWireParams({ ...study.config.fixed, seconds: 0, ...study.trials[first.trial]!.params }),
    dataset: study.config.dataset,
    reportEpochMetrics: false,
    interpret: false,
  };
  const local = await executeRun(spec, {
    trainerId: 'here',
    backend: 'none',
    datasets: new DatasetCache(loadPrepared),
    signal: new AbortController().signal,
    onProgress: () => undefined,
  });
  assert.ok('result' in local);
  assert.equal(first.result.auc, local.result.auc);
  assert.equal(first.result.aupr, local.result.aupr);
});

test('a cancelled run is dropped from the queue when queued, and stopped at its next epoch when training', async () => {
  const config = await sleepSweep({ trials: 1, seeds: [1], seconds: 1 });
  const sweepId = `cancel-${Date.now()}`;
  const dispatcher = await NatsDispatcher.start({ nc, sweepId, capacity: 2 });
  const jsm = await jetstreamManager(nc);
  const spec = (runId: string, seconds: number): RunSpec => ({
    runId,
    study: 's1',
    trial: 0,
    seed: 1,
    model: 'sleep',
    params: toWireParams({ seconds, epochs: 40, signal: 0.5 }),
    dataset: config.studies[0]!.dataset,
    reportEpochMetrics: false,
    interpret: false,
  });
  // Every trainer of the earlier test is gone: only this one takes runs, one at a time.
  await stopTrainers(trainers.splice(0));
  const trainer = startNatsTrainer(server.url, 'c1');
  trainers.push(trainer);

  let startA!: () => void;
  const startedA = new Promise<void>((resolve) => (startA = resolve));
  const stopA = new AbortController();
  const stopB = new AbortController();
  const a = dispatcher.run(spec('s1/0/1', 20), { signal: stopA.signal, onStart: () => startA(), onProgress: () => undefined });
  await startedA;
  const b = dispatcher.run(spec('s1/1/1', 1), { signal: stopB.signal, onStart: () => assert.fail('a withdrawn run must not start'), onProgress: () => undefined });
  await waitForAsync('run B queued', async () => (await jsm.streams.getMessage(RUNS_STREAM, { last_by_subj: subjects.runs(sweepId, 's1/1/1') })) ?? undefined, 5000);

  stopB.abort();
  await assert.rejects(b, InterruptedError);
  await waitForAsync('run B withdrawn', async () => ((await jsm.streams.getMessage(RUNS_STREAM, { last_by_subj: subjects.runs(sweepId, 's1/1/1') })) === null ? true : undefined), 5000);

  stopA.abort();
  await assert.rejects(a, InterruptedError);
  await waitFor('the trainer to stop run A', () => (/run s1\/0\/1: cancelled/.test(trainer.log()) ? true : undefined), 5000);
  assert.match(trainer.log(), /run s1\/0\/1: stop requested/);
  // Neither run left an outcome, and the trainer is free again.
  assert.equal(await jsm.streams.getMessage(EVENTS_STREAM, { last_by_subj: subjects.events(sweepId, 's1/0/1') }), null);
  const c = await dispatcher.run(spec('s1/2/1', 0.1), { signal: new AbortController().signal, onStart: () => undefined, onProgress: () => undefined });
  assert.ok(c.result !== undefined, 'the trainer took the next run');
  await dispatcher.close();
});

test('the JetStream journal reads back what was appended and refuses a second writer', async () => {
  const config = await sleepSweep({ trials: 1, seeds: [1], seconds: 0 });
  const { sweepId, journal } = await createJournal(nc, config);
  await journal.append([{ op: 'trial_asked', t: 1, study: 's1', trial: 0, params: { signal: 0.25 } }]);
  const second = await JetStreamJournal.open(nc, sweepId, { create: false });
  assert.deepEqual((await second.read()).map((r) => r.op), ['sweep_created', 'trial_asked']);
  await second.append([{ op: 'sweep_stopped', t: 2, reason: 'test' }]);
  // The first writer has not seen the second's record: its append must fail, not interleave.
  await assert.rejects(journal.append([{ op: 'sweep_finished', t: 3 }]), (err: Error) => err instanceof JournalError && /another coordinator/.test(err.message));
  await assert.rejects(journal.append([{ op: 'sweep_finished', t: 3 }]), JournalError);
  const third = await JetStreamJournal.open(nc, sweepId, { create: false });
  assert.deepEqual((await third.read()).map((r) => r.op), ['sweep_created', 'trial_asked', 'sweep_stopped']);
  await assert.rejects(JetStreamJournal.open(nc, sweepId, { create: true }), /already has a journal/);
  await assert.rejects(JetStreamJournal.open(nc, 'no-such-sweep', { create: false }), /no journal/);
  assert.ok((await JetStreamJournal.sweeps(nc)).includes(sweepId));
});

test('an append made as soon as the previous one resolves is stored, every time', async () => {
  const config = await sleepSweep({ trials: 1, seeds: [1], seconds: 0 });
  const { sweepId, journal } = await createJournal(nc, config);
  // The next record is appended by the code that awaited the last one, in the first turn after it resolved.
  let stored = 0;
  const appendAll = async (): Promise<void> => {
    for (let i = 0; i < 20; i++) {
      await journal.append([{ op: 'trial_asked', t: i, study: 's1', trial: i, params: { signal: 0.5 } }]);
      stored++;
    }
  };
  await Promise.race([appendAll(), new Promise((r) => setTimeout(r, 10_000))]);
  assert.equal(stored, 20, `append ${stored} was never stored`);
  const records = await (await JetStreamJournal.open(nc, sweepId, { create: false })).read();
  assert.equal(records.length, 21);
});

test('the JetStream journal commits concurrent appends in groups: fewer messages than records, every record in order', async () => {
  const config = await sleepSweep({ trials: 1, seeds: [1], seconds: 0 });
  const { sweepId, journal } = await createJournal(nc, config);
  const appends = Array.from({ length: 300 }, (_, i) => journal.append([{ op: 'trial_asked', t: i, study: 's1', trial: i, params: { signal: i / 300 } }]));
  await Promise.all(appends);
  const records = await (await JetStreamJournal.open(nc, sweepId, { create: false })).read();
  assert.deepEqual(
    records.slice(1).map((r) => r.t),
    Array.from({ length: 300 }, (_, i) => i),
  );
  const info = await (await jetstreamManager(nc)).streams.info('CELLSWEEP_JOURNAL', { subjects_filter: subjects.journal(sweepId) });
  const messages = info.state.subjects?.[subjects.journal(sweepId)];
  assert.ok(messages !== undefined && messages > 0 && messages < 100, `301 records in ${messages} messages`);
});

// Last in this file: it stops and restarts the shared nats-server.
test('a resumed run whose lookups fail while NATS is down is looked up again, not queued a second time', async () => {
  const config = await sleepSweep({ trials: 1, seeds: [1], seconds: 0.1 });
  const sweepId = `recover-${Date.now()}`;
  const runId = 's1/0/1';
  const spec: RunSpec = {
    runId,
    study: 's1',
    trial: 0,
    seed: 1,
    model: 'sleep',
    params: toWireParams({ seconds: 0.1, epochs: 1, signal: 0.5 }),
    dataset: config.studies[0]!.dataset,
    reportEpochMetrics: false,
    interpret: false,
  };
  await stopTrainers(trainers.splice(0));
  const jsm = await jetstreamManager(nc);
  const queuedCount = async (): Promise<number> => {
    const info = await jsm.streams.info(RUNS_STREAM, { subjects_filter: subjects.runs(sweepId, runId) });
    return info.state.subjects?.[subjects.runs(sweepId, runId)] ?? 0;
  };
  // A coordinator queues the run (no trainer is there to take it) and goes away without withdrawing it.
  const first = await NatsDispatcher.start({ nc, sweepId, capacity: 1 });
  const stopFirst = new AbortController();
  const abandoned = first.run(spec, { signal: stopFirst.signal, onStart: () => undefined, onProgress: () => undefined });
  await waitForAsync('the run queued', async () => ((await queuedCount()) === 1 ? true : undefined), 5000);
  first.detach();
  stopFirst.abort();
  await assert.rejects(abandoned, InterruptedError);
  await first.close();

  // Its successor resumes the run while nats-server is down.
  const events: string[] = [];
  const second = await NatsDispatcher.start({ nc, sweepId, capacity: 1, onEvent: (e) => events.push(e.type === 'recovered' ? `recovered ${e.how}` : e.type) });
  await server.stop();
  const resumed = second.run(spec, { signal: new AbortController().signal, onStart: () => undefined, onProgress: () => undefined, resumed: true });
  await waitFor('a failed lookup', () => (events.includes('publish_retry') ? true : undefined), 30_000);
  await server.restart();
  await waitFor('the run recovered', () => (events.some((e) => e.startsWith('recovered')) ? true : undefined), 30_000);
  assert.deepEqual(events.filter((e) => e.startsWith('recovered')), ['recovered queued'], events.join(', '));
  assert.equal(await queuedCount(), 1, 'the run is queued once');
  trainers.push(startNatsTrainer(server.url, 'r1'));
  const outcome = await resumed;
  assert.ok(outcome.result !== undefined, JSON.stringify(outcome));
  await second.close();
});
