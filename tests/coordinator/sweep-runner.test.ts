import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunSpec } from '../../proto/gen/cellsweep/v1/run.js';
import { DispatchError, InterruptedError, JournalError } from '../../core/errors.js';
import { fromWireParams } from '../../core/params.js';
import type { DispatchHooks, DispatchOutcome, Dispatcher } from '../../coordinator/dispatch/dispatcher.js';
import type { JournalBackend } from '../../coordinator/journal/backend.js';
import { FileJournal } from '../../coordinator/journal/file-journal.js';
import { replay } from '../../coordinator/journal/replay.js';
import type { JournalRecord } from '../../coordinator/journal/records.js';
import type { StudyConfig, SweepConfig } from '../../coordinator/config/sweep-config.js';
import type { TrialView } from '../../coordinator/samplers/sampler.js';
import { createSampler } from '../../coordinator/samplers/index.js';
import { SweepRunner } from '../../coordinator/study/sweep-runner.js';

/**
 * The dispatcher is not under test here (tests/e2e runs the real gRPC one):
 * this one answers in-process with a score that is a pure function of the
 * configuration and seed, and can hold runs until released.
 */
class ScriptedDispatcher implements Dispatcher {
  readonly calls: string[] = [];
  readonly held: Array<() => void> = [];
  hold = false;
  failSeed: number | undefined;
  crash: Error | undefined;
  /** Runs that reject once with InterruptedError although nobody stopped the sweep. */
  readonly interruptOnce = new Set<string>();
  /** When set, runs report this many epochs of cell AUC (rising towards the final AUC) before finishing. */
  epochs = 0;
  readonly progressed: string[] = [];
  inFlight = 0;
  peak = 0;
  detached = false;
  /** Runs cancelled while attached: a NATS dispatcher would withdraw them from the trainers. */
  readonly withdrawn: string[] = [];
  constructor(readonly capacity: number) {}

  detach(): void {
    this.detached = true;
  }

  async run(spec: RunSpec, hooks: DispatchHooks): Promise<DispatchOutcome> {
    this.calls.push(spec.runId);
    this.inFlight++;
    this.peak = Math.max(this.peak, this.inFlight);
    try {
      return await this.answer(spec, hooks);
    } finally {
      this.inFlight--;
    }
  }

  private async answer(spec: RunSpec, hooks: DispatchHooks): Promise<DispatchOutcome> {
    if (hooks.signal.aborted) throw new InterruptedError('cancelled before it started');
    hooks.onStart('fake', 1);
    if (this.crash !== undefined) throw this.crash;
    if (this.interruptOnce.delete(spec.runId)) throw new InterruptedError('interrupted from elsewhere');
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        if (!this.detached) this.withdrawn.push(spec.runId);
        reject(new InterruptedError());
      };
      const go = (): void => {
        hooks.signal.removeEventListener('abort', onAbort);
        resolve();
      };
      hooks.signal.addEventListener('abort', onAbort, { once: true });
      if (this.hold) this.held.push(go);
      else setImmediate(go);
    });
    if (spec.seed === this.failSeed) return { failure: { reason: 'planted failure', code: 'non_finite_loss', epoch: 1, backend: 'fake', trainerId: 'fake' } };
    const p = fromWireParams(spec.params);
    const auc = 0.5 + 0.05 * (p.depth as number) + 0.001 * spec.seed;
    for (let epoch = 1; epoch <= this.epochs; epoch++) {
      if (hooks.signal.aborted) throw new InterruptedError('stopped at an epoch boundary');
      assert.equal(spec.reportEpochMetrics, true, 'an epoch pruner asks for epoch metrics');
      hooks.onProgress({ epoch, epochs: this.epochs, losses: {}, elapsedSeconds: 0, auc: auc - 0.1 / epoch });
      this.progressed.push(`${spec.runId}@${epoch}`);
      // An epoch takes longer than a journal append, as real training does, so a verdict can land mid-run.
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (hooks.signal.aborted) throw new InterruptedError('stopped at an epoch boundary');
    return { result: { auc, aupr: auc - 0.1, backend: 'fake', trainSeconds: 0, loadSeconds: 0, epochs: 1, finalLosses: {}, bulkSamples: 1, cells: 1, genes: 1, trainerId: 'fake' } };
  }
  async close(): Promise<void> {}
}

function config(trials = 3, seeds = [1, 2, 3]): SweepConfig {
  const study = (name: string) => ({
    name,
    dataset: `/data/${name}`,
    model: 'bulk-mlp',
    space: { params: [['depth', { type: 'int' as const, low: 2, high: 6, log: false, step: 1 }]] as Array<[string, { type: 'int'; low: number; high: number; log: boolean; step: number }]> },
    fixed: { epochs: 2 },
    trials,
    seeds,
    sampler: 'random',
    samplerSeed: 1,
  });
  return { name: 'unit', source: 'test', studies: [study('a'), study('b')] };
}

async function newSweep(cfg: SweepConfig): Promise<{ journal: FileJournal; path: string }> {
  const path = join(mkdtempSync(join(tmpdir(), 'cellsweep-runner-')), 'journal.jsonl');
  const journal = await FileJournal.open(path, { create: true });
  await journal.append([{ op: 'sweep_created', v: 1, t: 0, sweepId: 'id', config: cfg }]);
  return { journal, path };
}

function runner(journal: FileJournal, records: JournalRecord[], dispatcher: Dispatcher) {
  const state = replay(records);
  return { state, runner: new SweepRunner({ state, journal, dispatcher, samplerFor: (s) => createSampler(s.sampler, s.samplerSeed) }) };
}

test('every trial of every study fans out into one run per seed; values are the mean over seeds', async () => {
  const { journal } = await newSweep(config());
  const dispatcher = new ScriptedDispatcher(4);
  const { state, runner: r } = runner(journal, await journal.read(), dispatcher);
  assert.equal(await r.run(new AbortController().signal), 'complete');
  assert.equal(dispatcher.calls.length, 2 * 3 * 3);
  assert.equal(new Set(dispatcher.calls).size, dispatcher.calls.length, 'no run dispatched twice');
  for (const study of state.studies.values()) {
    assert.equal(study.trials.length, 3);
    for (const t of study.trials) {
      assert.equal(t.state, 'COMPLETE');
      const expected = 0.5 + 0.05 * (t.params.depth as number) + 0.002;
      assert.ok(Math.abs(t.auc!.mean - expected) < 1e-12);
    }
  }
  assert.equal(state.status, 'complete');
  // Studies share the pool: the first runs of the sweep are not all from one study.
  assert.ok(dispatcher.calls.slice(0, 9).some((id) => id.startsWith('b/')));
  await journal.close();
});

test('a failing seed fails its trial with the reason; the sweep goes on', async () => {
  const { journal } = await newSweep(config(2));
  const dispatcher = new ScriptedDispatcher(2);
  dispatcher.failSeed = 2;
  const { state, runner: r } = runner(journal, await journal.read(), dispatcher);
  assert.equal(await r.run(new AbortController().signal), 'complete');
  const trials = [...state.studies.values()].flatMap((s) => s.trials);
  assert.equal(trials.length, 4);
  for (const t of trials) {
    assert.equal(t.state, 'FAIL');
    assert.equal(t.reason, 'seed 2 failed: planted failure');
  }
  await journal.close();
});

test('stopped mid-sweep, then resumed from the journal: no finished run is dispatched again, every run finishes once', async () => {
  const cfg = config(2, [1, 2, 3]);
  const { journal, path } = await newSweep(cfg);
  const first = new ScriptedDispatcher(2);
  first.hold = true;
  const stop = new AbortController();
  const { runner: r1 } = runner(journal, await journal.read(), first);
  const running = r1.run(stop.signal);
  // Let three runs finish, keep two in flight, then stop.
  for (let released = 0; released < 3; ) {
    await new Promise((resolve) => setImmediate(resolve));
    const go = first.held.shift();
    if (go !== undefined) {
      go();
      released++;
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 20));
  stop.abort();
  assert.equal(await running, 'stopped');
  await journal.close();

  const reopened = await FileJournal.open(path, { create: false });
  const records = await reopened.read();
  assert.equal(records.at(-1)!.op, 'sweep_stopped');
  const finishedBefore = new Set(records.flatMap((r) => (r.op === 'run_finished' ? [`${r.study}/${r.trial}/${r.seed}`] : [])));
  assert.equal(finishedBefore.size, 3);
  const second = new ScriptedDispatcher(2);
  const { state, runner: r2 } = runner(reopened, records, second);
  assert.equal(await r2.run(new AbortController().signal), 'complete');
  for (const id of second.calls) assert.ok(!finishedBefore.has(id), `${id} was finished before the stop and ran again`);
  assert.equal(second.calls.length + finishedBefore.size, 2 * 2 * 3);
  const all = (await reopened.read()).filter((r) => r.op === 'run_finished');
  assert.equal(all.length, 12, 'each run recorded once over both sessions');
  for (const s of state.studies.values()) for (const t of s.trials) assert.equal(t.state, 'COMPLETE');
  await reopened.close();
});

test('a sweep stopped after its last ask reads as running as soon as it resumes, live and replayed', async () => {
  const { journal, path } = await newSweep(config(1, [1, 2]));
  const first = new ScriptedDispatcher(4);
  first.hold = true;
  const stop = new AbortController();
  const { runner: r1 } = runner(journal, await journal.read(), first);
  const running = r1.run(stop.signal);
  while (first.held.length < 4) await new Promise((resolve) => setImmediate(resolve));
  stop.abort('coordinator shutdown');
  assert.equal(await running, 'stopped');
  await journal.close();

  const reopened = await FileJournal.open(path, { create: false });
  const second = new ScriptedDispatcher(4);
  second.hold = true;
  const { state, runner: r2 } = runner(reopened, await reopened.read(), second);
  assert.equal(state.status, 'stopped');
  assert.equal(state.stopReason, 'coordinator shutdown');
  const resumed = r2.run(new AbortController().signal);
  while (second.held.length < 4) await new Promise((resolve) => setImmediate(resolve));
  // Every trial was asked before the stop: no trial_asked record can mark the sweep running again.
  assert.equal(state.status, 'running');
  assert.equal(state.stopReason, undefined);
  const midway = await reopened.read();
  assert.equal(midway.filter((r) => r.op === 'trial_asked').length, 2);
  assert.equal(midway.filter((r) => r.op === 'sweep_resumed').length, 1);
  assert.equal(replay(midway).status, 'running');
  for (const go of second.held.splice(0)) go();
  assert.equal(await resumed, 'complete');
  assert.equal(state.status, 'complete');
  await reopened.close();
});

test('a journal that ends between a trial\'s last run and its verdict is finished on resume without retraining', async () => {
  const cfg = config(1, [1]);
  const { journal } = await newSweep(cfg);
  await journal.append([
    { op: 'trial_asked', t: 1, study: 'a', trial: 0, params: { depth: 3 } },
    { op: 'run_finished', t: 2, study: 'a', trial: 0, seed: 1, result: { auc: 0.9, aupr: 0.8, backend: 'x', trainSeconds: 0, loadSeconds: 0, epochs: 1, finalLosses: {}, bulkSamples: 1, cells: 1, genes: 1, trainerId: 'x' } },
  ]);
  const dispatcher = new ScriptedDispatcher(1);
  const { state, runner: r } = runner(journal, await journal.read(), dispatcher);
  assert.equal(await r.run(new AbortController().signal), 'complete');
  assert.deepEqual(dispatcher.calls, ['b/0/1']);
  assert.equal(state.studies.get('a')!.trials[0]!.state, 'COMPLETE');
  await journal.close();
});

test('a dispatcher that cannot deliver stops the sweep with its reason in the journal', async () => {
  const { journal } = await newSweep(config());
  const dispatcher = new ScriptedDispatcher(2);
  dispatcher.crash = new DispatchError('no trainer process is alive');
  const { runner: r } = runner(journal, await journal.read(), dispatcher);
  await assert.rejects(r.run(new AbortController().signal), /no trainer process is alive/);
  const last = (await journal.read()).at(-1)!;
  assert.deepEqual([last.op, last.op === 'sweep_stopped' ? last.reason : ''], ['sweep_stopped', 'no trainer process is alive']);
  await journal.close();
});

test('a journal that another coordinator took over stops the sweep without withdrawing its runs from the trainers', async () => {
  const { journal } = await newSweep(config(2, [1, 2]));
  const taken: JournalBackend = {
    read: (from) => journal.read(from),
    append: async (records) => {
      if (records.some((r) => r.op === 'run_finished')) throw new JournalError('another coordinator is writing the journal of sweep id');
      await journal.append(records);
    },
    close: () => journal.close(),
  };
  const dispatcher = new ScriptedDispatcher(3);
  dispatcher.hold = true;
  const state = replay(await journal.read());
  const r = new SweepRunner({ state, journal: taken, dispatcher, samplerFor: (s) => createSampler(s.sampler, s.samplerSeed) });
  const running = r.run(new AbortController().signal);
  while (dispatcher.held.length < 3) await new Promise((resolve) => setImmediate(resolve));
  dispatcher.held.shift()!();
  await assert.rejects(running, /another coordinator is writing/);
  assert.ok(dispatcher.detached);
  assert.deepEqual(dispatcher.withdrawn, [], 'the runs in flight are left to the coordinator that holds the journal');
  await journal.close();
});

test('a run interrupted without a stop is dispatched again, not lost; the sweep still completes every trial', async () => {
  const { journal } = await newSweep(config(1, [1, 2]));
  const dispatcher = new ScriptedDispatcher(2);
  dispatcher.interruptOnce.add('a/0/2');
  const { state, runner: r } = runner(journal, await journal.read(), dispatcher);
  assert.equal(await r.run(new AbortController().signal), 'complete');
  assert.equal(dispatcher.calls.filter((id) => id === 'a/0/2').length, 2);
  for (const s of state.studies.values()) for (const t of s.trials) assert.equal(t.state, 'COMPLETE');
  await journal.close();
});

test('a stop requested before the loop starts dispatches nothing and leaves a resumable journal', async () => {
  const { journal } = await newSweep(config());
  const dispatcher = new ScriptedDispatcher(2);
  const stop = new AbortController();
  stop.abort();
  const { runner: r } = runner(journal, await journal.read(), dispatcher);
  assert.equal(await r.run(stop.signal), 'stopped');
  assert.deepEqual(dispatcher.calls, []);
  assert.equal((await journal.read()).at(-1)!.op, 'sweep_stopped');
  await journal.close();
});

test('the pool is filled to its capacity and never beyond', async () => {
  const { journal } = await newSweep(config(3, [1, 2, 3]));
  const dispatcher = new ScriptedDispatcher(4);
  dispatcher.hold = true;
  const { runner: r } = runner(journal, await journal.read(), dispatcher);
  const done = r.run(new AbortController().signal);
  let sawFull = false;
  let idle = 0;
  while (dispatcher.calls.length < 18 || dispatcher.inFlight > 0) {
    await new Promise((resolve) => setTimeout(resolve, 2));
    // Release a run only when the pool is full, or when nothing more is coming (the last trials).
    if (dispatcher.inFlight === 4) sawFull = true;
    if (dispatcher.inFlight === 4 || ++idle > 25) {
      idle = 0;
      dispatcher.held.shift()?.();
    }
  }
  assert.equal(await done, 'complete');
  assert.ok(sawFull, 'four runs in flight at some point');
  assert.equal(dispatcher.peak, 4);
  await journal.close();
});

test('the seed pruner stops a trial whose first five seeds all lose to the best trial; its sixth seed never trains', async () => {
  const cfg = config(6, [1, 2, 3, 4, 5, 6]);
  // One study, depth fixed per trial by the sampler; the pruner needs a complete best trial first.
  cfg.studies = [{ ...cfg.studies[0]!, pruner: { name: 'seeds', options: { alpha: 0.05, min_seeds: 5 } } }];
  const { journal, path } = await newSweep(cfg);
  const dispatcher = new ScriptedDispatcher(1);
  const { state, runner: r } = runner(journal, await journal.read(), dispatcher);
  assert.equal(await r.run(new AbortController().signal), 'complete');
  const trials = state.studies.get('a')!.trials;
  const best = Math.max(...trials.filter((t) => t.state === 'COMPLETE').map((t) => t.params.depth as number));
  const pruned = trials.filter((t) => t.state === 'PRUNED');
  assert.ok(pruned.length > 0, `some trial was pruned: ${trials.map((t) => `${t.number}:${t.params.depth}:${t.state}`).join(' ')}`);
  for (const t of pruned) {
    assert.ok((t.params.depth as number) < best);
    assert.match(t.reason!, /^seed pruner: on seeds 1, 2, 3, 4, 5 worse than trial #\d+ \(Wilcoxon signed-rank, one-sided p = 0\.0313 < 0\.05\)$/);
    assert.equal(t.runs.size, 5);
    assert.ok(!dispatcher.calls.includes(`a/${t.number}/6`), 'the sixth seed was never dispatched');
  }
  await journal.close();
  // The journal replays to the same verdicts.
  const replayed = replay((await (async () => { const j = await FileJournal.open(path, { create: false }); const rs = await j.read(); await j.close(); return rs; })()));
  assert.deepEqual(replayed.studies.get('a')!.trials.map((t) => t.state), trials.map((t) => t.state));
});

test('an epoch pruner stops a trial mid-run: its running runs are cancelled and not redone, its queued ones dropped', async () => {
  const cfg = config(8, [1, 2]);
  cfg.studies = [{ ...cfg.studies[0]!, pruner: { name: 'median', options: { startup_trials: 1, warmup_epochs: 1, interval_epochs: 1 } } }];
  const { journal } = await newSweep(cfg);
  const dispatcher = new ScriptedDispatcher(2);
  dispatcher.epochs = 4;
  const { state, runner: r } = runner(journal, await journal.read(), dispatcher);
  assert.equal(await r.run(new AbortController().signal), 'complete');
  const trials = state.studies.get('a')!.trials;
  const pruned = trials.filter((t) => t.state === 'PRUNED');
  assert.ok(pruned.length > 0, trials.map((t) => `${t.params.depth}:${t.state}`).join(' '));
  const records = await journal.read();
  assert.ok(records.some((rec) => rec.op === 'run_progress'), 'epoch AUCs are journaled');
  let stoppedEarly = 0;
  for (const t of pruned) {
    assert.match(t.reason!, /^median pruner: seed \d at epoch [234] has cell AUC/);
    const verdict = records.findIndex((rec) => rec.op === 'trial_finished' && rec.trial === t.number);
    const after = records.slice(verdict + 1).filter((rec) => 'trial' in rec && rec.trial === t.number);
    assert.deepEqual(after, [], `nothing of pruned trial ${t.number} is recorded or started after its verdict`);
    const calls = dispatcher.calls.filter((c) => c.startsWith(`a/${t.number}/`));
    assert.equal(calls.length, new Set(calls).size, 'no run of a pruned trial is redone');
    const epochsRun = dispatcher.progressed.filter((p) => p.startsWith(`a/${t.number}/`)).length;
    if (epochsRun < 2 * 4) stoppedEarly++;
  }
  assert.ok(stoppedEarly > 0, 'pruning saved training epochs');
  for (const t of trials) assert.notEqual(t.state, 'RUNNING');
  await journal.close();
});

test('a large pool asks several trials in one journal append, each seeing the earlier ones as running', async () => {
  // TPE that never draws at random, with duplicate rejection: a batch that did not show each
  // suggestion the earlier ones as running would repeat depths, and would differ from single asks.
  const cfg = config(5, [1, 2]);
  for (const s of cfg.studies) Object.assign(s, { sampler: 'tpe', samplerOptions: { n_startup_trials: 0, reject_duplicates: true } });
  const { journal } = await newSweep(cfg);
  const appends: number[] = [];
  const counting = Object.create(journal) as FileJournal;
  counting.append = async (records) => {
    if (records.some((r) => r.op === 'trial_asked')) appends.push(records.length);
    return journal.append(records);
  };
  const state = replay(await journal.read());
  const samplerFor = (s: StudyConfig) => createSampler(s.sampler, s.samplerSeed, s.samplerOptions);
  const r = new SweepRunner({ state, journal: counting, dispatcher: new ScriptedDispatcher(20), samplerFor });
  assert.equal(await r.run(new AbortController().signal), 'complete');
  await journal.close();
  assert.deepEqual(appends, [10], '20 free slots, 2 seeds: both studies\' 5 trials asked in one append');
  for (const study of state.studies.values()) {
    // What single asks give with nothing finishing in between: each sees the earlier ones as running.
    const sampler = samplerFor(study.config);
    const history: TrialView[] = [];
    for (let n = 0; n < 5; n++) history.push({ number: n, state: 'RUNNING', params: sampler.suggest(study.config.space, history, n)! });
    assert.deepEqual(study.trials.map((t) => t.params), history.map((h) => h.params), `study ${study.config.name}`);
    assert.deepEqual(study.trials.map((t) => t.params.depth).sort(), [2, 3, 4, 5, 6], 'no depth asked twice');
  }
});
