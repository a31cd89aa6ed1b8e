import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { JournalRecord, RunFinished, RunStarted } from '../../coordinator/journal/records.js';
import { SweepState, TrialState } from '../../proto/gen/cellsweep/v1/study.js';
import { DEAD_LETTER_STREAM, RUNS_STREAM, subjects } from '../../core/nats/topology.js';
import { waitFor, waitForAsync } from '../e2e/helpers.js';
import { NatsServer } from '../cluster/nats-server.js';
import {
  TrainerPool,
  connectTo,
  journalRecords,
  outcomesOnce,
  sleepSweepYaml,
  startCoordinator,
  startsByRun,
  testClient,
  type CoordinatorProc,
} from '../cluster/cluster-helpers.js';

/**
 * Cluster mode under faults, with real processes throughout: a nats-server,
 * a `cellsweep coordinator`, and `cellsweep trainer --nats` processes kept
 * at strength like a Deployment's pods (tests/cluster/cluster-helpers.ts).
 * Ack wait 2 s, 3 deliveries per run.
 */

async function cluster(trainers: number, opts: { restart?: boolean } = {}) {
  const server = await NatsServer.start();
  const nc = await connectTo(server.url);
  let coordinator: CoordinatorProc = await startCoordinator(server.url);
  const pool = new TrainerPool(server.url, 't', trainers, opts.restart ?? true);
  return {
    server,
    nc,
    pool,
    get coordinator() {
      return coordinator;
    },
    /** What every process said, for a failure message. */
    describe(): string {
      // The coordinator's log last and whole: it says why a sweep did not end.
      return `trainers (${pool.all.length} started, ${pool.live().length} live):\n${pool.logs().slice(-4000)}\ncoordinator:\n${coordinator.log().slice(-8000)}`;
    },
    async restartCoordinator(): Promise<void> {
      coordinator = await startCoordinator(server.url);
    },
    async close(): Promise<void> {
      await pool.stop();
      coordinator.child.kill('SIGKILL');
      await coordinator.exited;
      await nc.close();
      await server.stop();
    },
  };
}

test('trainers killed -9 in the middle of runs, several times: every run completes once', { timeout: 240_000 }, async () => {
  const c = await cluster(3);
  try {
    // Enough work (18 runs x 3 s over 3 trainers) that three kills land before the sweep ends, however slowly trainers restart.
    const { yaml } = await sleepSweepYaml({ trials: 6, seeds: [1, 2, 3], seconds: 3, epochs: 6, parallel: 3 });
    const api = testClient(c.coordinator.address);
    const { sweepId } = await api.create(yaml);
    // A trainer whose last log line says it is training a run of this sweep.
    const training = new RegExp(`run (\\S+) of sweep ${sweepId}: started \\(sleep, delivery (\\d+)\\)\\n$`);
    const kills: Array<{ trainer: string; run: string; delivery: number }> = [];
    while (kills.length < 3) {
      const busy = await waitFor('a busy trainer', () => c.pool.live().find((t) => training.test(t.log())), 30_000);
      const [, run, delivery] = training.exec(busy.log())!;
      busy.child.kill('SIGKILL');
      kills.push({ trainer: busy.id, run: run!, delivery: Number(delivery) });
      await busy.exited;
    }
    const sweep = await withLogs(api.waitDone(sweepId, 90_000), c);
    assert.equal(sweep.state, SweepState.SWEEP_STATE_COMPLETE);
    const records = await journalRecords(c.nc, sweepId);
    assert.equal(outcomesOnce(records).size, 18);
    assert.ok(records.every((r) => r.op !== 'run_failed'), 'no run failed');
    // Which delivery of each killed run counted: the one whose trainer sent
    // the run's only outcome. A trainer still logs "started" until its
    // outcome is stored and the run acked, so a kill can land after the run
    // was done; a run left unacked then is delivered again, trained, and its
    // outcome dropped as late, unjournaled (the dispatcher ignores a run no
    // longer in flight), and a kill can land on that delivery too.
    const ofRun = (r: JournalRecord, run: string): boolean => 'seed' in r && `${r.study}/${r.trial}/${r.seed}` === run;
    const outcomes = { redelivered: 0, doneBeforeTheKill: 0, alreadyDone: 0 };
    for (const kill of kills) {
      const finished: RunFinished | undefined = records.find((r): r is RunFinished => r.op === 'run_finished' && ofRun(r, kill.run));
      assert.ok(finished !== undefined, `run ${kill.run} finished`);
      const finisher: string = finished.result.trainerId;
      const counted: RunStarted | undefined = records.find((r): r is RunStarted => r.op === 'run_started' && ofRun(r, kill.run) && r.trainer === finisher);
      assert.ok(counted !== undefined, `run ${kill.run}: the delivery that finished it (on ${finisher}) was journaled as started`);
      const at: string = `run ${kill.run}, killed on ${kill.trainer} in delivery ${kill.delivery}, finished on ${finisher} in delivery ${counted.attempt}`;
      if (finisher === kill.trainer) {
        assert.equal(counted.attempt, kill.delivery, at);
        outcomes.doneBeforeTheKill++;
      } else {
        assert.notEqual(counted.attempt, kill.delivery, `${at}: another trainer finished the killed delivery`);
        if (counted.attempt > kill.delivery) outcomes.redelivered++;
        else outcomes.alreadyDone++;
      }
    }
    // The kills are timed at random in 3 s runs; the outcome's few
    // milliseconds in flight are rarely hit, so most kills interrupt a run.
    assert.ok(outcomes.redelivered >= 1, `a killed run was delivered again and finished there (${JSON.stringify(outcomes)})`);
    assert.ok((await api.trials(sweepId)).trials.every((t) => t.state === TrialState.TRIAL_STATE_COMPLETE));
  } finally {
    await c.close();
  }
});

test('the coordinator killed -9 mid-sweep and started again: the sweep completes, finished runs are neither redone nor counted twice', { timeout: 240_000 }, async () => {
  const c = await cluster(2);
  try {
    const { yaml } = await sleepSweepYaml({ trials: 8, seeds: [1, 2], seconds: 0.8, parallel: 2 });
    const { sweepId } = await testClient(c.coordinator.address).create(yaml);
    await waitForAsync('4 finished runs', async () => ((await journalRecords(c.nc, sweepId)).filter((r) => r.op === 'run_finished').length >= 4 ? true : undefined), 60_000, () => c.describe());
    c.coordinator.child.kill('SIGKILL');
    await c.coordinator.exited;
    const before = outcomesOnce(await journalRecords(c.nc, sweepId));
    // Runs go on training while no coordinator is up.
    await new Promise((r) => setTimeout(r, 1500));
    await c.restartCoordinator();
    assert.match(c.coordinator.log(), new RegExp(`sweep cluster-test \\(${sweepId}\\): resuming`));
    const api = testClient(c.coordinator.address);
    const sweep = await withLogs(api.waitDone(sweepId, 90_000), c, () => journalTail(c.nc, sweepId));
    assert.equal(sweep.state, SweepState.SWEEP_STATE_COMPLETE);
    const after = outcomesOnce(await journalRecords(c.nc, sweepId));
    assert.equal(after.size, 16);
    for (const id of before) assert.ok(after.has(id));
    const starts = startsByRun(c.pool.logs(), sweepId);
    for (const id of before) assert.equal(starts.get(id), 1, `run ${id}, finished before the kill, was trained once`);
    assert.equal((await api.best(sweepId)).best.length, 1);
  } finally {
    await c.close();
  }
});

test('nats-server restarted mid-sweep: coordinator and trainers reconnect, nothing is lost', { timeout: 240_000 }, async () => {
  const c = await cluster(2);
  try {
    const { yaml } = await sleepSweepYaml({ trials: 6, seeds: [1, 2], seconds: 0.6, parallel: 2 });
    const api = testClient(c.coordinator.address);
    const { sweepId } = await api.create(yaml);
    await waitForAsync('3 finished runs', async () => ((await journalRecords(c.nc, sweepId)).filter((r) => r.op === 'run_finished').length >= 3 ? true : undefined), 60_000, () => c.describe());
    await c.server.restart();
    const sweep = await withLogs(api.waitDone(sweepId, 90_000), c);
    assert.equal(sweep.state, SweepState.SWEEP_STATE_COMPLETE, c.coordinator.log());
    assert.equal(outcomesOnce(await journalRecords(c.nc, sweepId)).size, 12);
    assert.equal(c.pool.all.length, 2, 'no trainer died over the restart');
    assert.equal(c.coordinator.child.exitCode, null, 'the coordinator is still up');
  } finally {
    await c.close();
  }
});

test('a poison run that kills every trainer it meets fails after the delivery limit, dead-lettered with its reason; the sweep completes', { timeout: 240_000 }, async () => {
  const c = await cluster(2);
  try {
    const { yaml } = await sleepSweepYaml({
      trials: 3,
      seeds: [1, 2],
      seconds: 0.3,
      parallel: 2,
      extraStudies: '  - {name: poison, dataset: DATASET, trials: 1, seeds: [1], fixed: {seconds: 0.3, epochs: 2, crash_at_epoch: 2}}',
    });
    const api = testClient(c.coordinator.address);
    const { sweepId } = await api.create(yaml);
    const sweep = await withLogs(api.waitDone(sweepId, 90_000), c);
    assert.equal(sweep.state, SweepState.SWEEP_STATE_COMPLETE);
    const trials = (await api.trials(sweepId)).trials;
    const poison = trials.find((t) => t.study === 'poison')!;
    assert.equal(poison.state, TrialState.TRIAL_STATE_FAIL);
    assert.match(poison.reason, /dead-lettered after 3 deliveries without a result/);
    assert.equal(poison.runs[0]?.failure?.code, 'delivery_limit');
    assert.ok(trials.filter((t) => t.study === 's1').every((t) => t.state === TrialState.TRIAL_STATE_COMPLETE));
    assert.ok(c.pool.all.length >= 2 + 3, 'the poison run killed a trainer on each of its 3 deliveries');
    const jsm = await jetstreamManager(c.nc);
    const dead = await jsm.streams.getMessage(DEAD_LETTER_STREAM, { last_by_subj: subjects.deadLetter(sweepId) });
    assert.ok(dead !== null, 'the run is kept on the dead-letter subject');
    // Terminated, not left in the queue to be delivered (and dead-lettered) again after every ack wait.
    await waitForAsync('the runs queue to be empty', async () => ((await jsm.streams.info(RUNS_STREAM)).state.messages === 0 ? true : undefined), 10_000);
  } finally {
    await c.close();
  }
});

test('a trainer frozen (SIGSTOP) past the ack wait, then resumed: the run is delivered again and its result counted once', { timeout: 240_000 }, async () => {
  const c = await cluster(2, { restart: false });
  try {
    const { yaml } = await sleepSweepYaml({ trials: 3, seeds: [1, 2], seconds: 3, epochs: 3, parallel: 2 });
    const api = testClient(c.coordinator.address);
    const { sweepId } = await api.create(yaml);
    const frozen = await waitFor('a busy trainer', () => c.pool.live().find((t) => /started \(sleep, delivery 1\)\n$/.test(t.log())), 30_000);
    const runId = /run (\S+) of sweep \S+: started \(sleep, delivery 1\)\n$/.exec(frozen.log())![1]!;
    frozen.child.kill('SIGSTOP');
    await waitFor(`run ${runId} delivered again`, () => (startsByRun(c.pool.logs(), sweepId).get(runId) === 2 ? true : undefined), 30_000);
    frozen.child.kill('SIGCONT');
    const sweep = await withLogs(api.waitDone(sweepId, 90_000), c);
    assert.equal(sweep.state, SweepState.SWEEP_STATE_COMPLETE);
    // Let the resumed trainer finish and publish its late result, then look again.
    await waitFor('the frozen trainer to finish its run', () => (new RegExp(`run ${runId.replaceAll('/', '\\/')}: AUC`).test(frozen.log()) ? true : undefined), 20_000);
    await new Promise((r) => setTimeout(r, 500));
    const records = await journalRecords(c.nc, sweepId);
    assert.equal(outcomesOnce(records).size, 6);
    assert.equal(records.filter((r) => r.op === 'run_finished' && `${r.study}/${r.trial}/${r.seed}` === runId).length, 1);
  } finally {
    await c.close();
  }
});

/** A wait that fails with what every process of the cluster said. */
async function withLogs<T>(p: Promise<T>, c: { describe(): string }, more?: () => Promise<string>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${c.describe()}${more === undefined ? '' : `\n${await more().catch((e: Error) => e.message)}`}`);
  }
}

/** The journal's last records, one line each: where a sweep that did not end stopped. */
async function journalTail(nc: NatsConnection, sweepId: string): Promise<string> {
  const records = await journalRecords(nc, sweepId);
  const line = (r: JournalRecord): string => ('trial' in r ? `${r.op} ${r.study}/${r.trial}${'seed' in r ? `/${r.seed}` : ''}` : r.op);
  return `journal (${records.length} records), the last 20:\n${records.slice(-20).map(line).join('\n')}`;
}
