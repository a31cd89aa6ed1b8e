import { setMaxListeners } from 'node:events';
import type { RunProgress, RunSpec } from '../../proto/gen/cellsweep/v1/run.js';
import { DispatchError, InterruptedError, JournalError } from '../../core/errors.js';
import { toWireParams } from '../../core/params.js';
import { runId } from '../../core/runs.js';
import type { Dispatcher, DispatchOutcome } from '../dispatch/dispatcher.js';
import type { JournalBackend } from '../journal/backend.js';
import type { JournalRecord } from '../journal/records.js';
import { applyRecord, trialVerdict } from '../journal/replay.js';
import { createPruner, type Pruner, type PruneEvent } from '../pruners/index.js';
import type { Sampler, TrialView } from '../samplers/sampler.js';
import type { StudyConfig } from '../config/sweep-config.js';
import type { Study, SweepState, Trial } from './sweep-state.js';

export interface PendingRun {
  study: Study;
  trial: Trial;
  seed: number;
  /** Queued by recovery: an earlier coordinator may have dispatched it. */
  resumed?: boolean;
}

export interface SweepRunnerOptions {
  state: SweepState;
  journal: JournalBackend;
  dispatcher: Dispatcher;
  samplerFor(study: StudyConfig): Sampler;
  /** Called after every journal record has been applied to `state`. */
  onRecord?(record: JournalRecord, state: SweepState): void | Promise<void>;
  onProgress?(run: PendingRun, progress: RunProgress): void;
  now?(): number;
}

/**
 * The study loop. Asks samplers for trials only when a trainer would
 * otherwise idle (so adaptive samplers see as much history as possible),
 * fans each trial out into one run per seed, and records every change in the
 * journal before acting on it. Studies take turns at the shared trainer pool.
 *
 * Resumable by construction: it starts from replayed state, re-dispatches
 * every unfinished run of an open trial, and never re-dispatches a run that
 * has an outcome in the journal.
 */
export class SweepRunner {
  private readonly queue: PendingRun[] = [];
  private readonly exhausted = new Set<string>();
  private readonly cancel = new AbortController();
  /** Each run in flight can be stopped on its own (its trial was pruned). */
  private readonly running = new Map<string, { run: PendingRun; stop: AbortController }>();
  private readonly pruners = new Map<string, Pruner | undefined>();
  private readonly closedViews = new WeakMap<Trial, TrialView>();
  /**
   * Trials whose verdict is being recorded. The verdict reaches the state only
   * after its journal append; in between, other runs' events must already see
   * the trial as closed, or it would be judged twice.
   */
  private readonly closing = new Set<Trial>();
  private inFlight = 0;
  /** Journal work started by progress events (pruning): the loop does not settle while any is pending. */
  private pending = 0;
  private nextStudy = 0;
  private fatal: Error | undefined;
  private settle: (() => void) | undefined;
  private asking = false;
  private fillScheduled = false;

  constructor(private readonly opts: SweepRunnerOptions) {
    // Every run in flight listens on the one stop signal: a large pool is not a leak.
    setMaxListeners(0, this.cancel.signal);
  }

  private get state(): SweepState {
    return this.opts.state;
  }

  /**
   * Runs until every study has spent its budget ('complete') or `signal` stops
   * it ('stopped'; a string `signal.reason` is recorded as the stop's reason).
   */
  async run(signal: AbortSignal): Promise<'complete' | 'stopped'> {
    if (this.state.status === 'complete') return 'complete';
    const onStop = (): void => {
      this.cancel.abort();
      this.wakeIfIdle();
    };
    // Listen before the first await: a stop during recovery must not be missed.
    signal.addEventListener('abort', onStop, { once: true });
    if (signal.aborted) onStop();
    try {
      if (this.state.status === 'stopped') await this.record({ op: 'sweep_resumed', t: this.now() });
      await this.recoverOpenTrials();
      await new Promise<void>((resolve) => {
        this.settle = resolve;
        void this.fill();
      });
    } catch (err) {
      this.fail(err as Error);
    } finally {
      signal.removeEventListener('abort', onStop);
    }
    if (this.fatal !== undefined) {
      await this.record({ op: 'sweep_stopped', t: this.now(), reason: this.fatal.message }).catch(() => undefined);
      throw this.fatal;
    }
    if (this.cancel.signal.aborted) {
      await this.record({ op: 'sweep_stopped', t: this.now(), reason: typeof signal.reason === 'string' ? signal.reason : 'interrupted' });
      return 'stopped';
    }
    const open = [...this.state.studies.values()].flatMap((s) => s.trials.filter((t) => t.state === 'RUNNING'));
    if (open.length > 0) {
      // Unreachable unless a run was dropped: never call such a sweep complete.
      const reason = `internal error: ${open.length} trial(s) still open at the end (e.g. ${open[0]!.study} #${open[0]!.number})`;
      await this.record({ op: 'sweep_stopped', t: this.now(), reason });
      throw new DispatchError(reason);
    }
    await this.record({ op: 'sweep_finished', t: this.now() });
    return 'complete';
  }

  /** Trials left open by a previous session: finish the judged ones, queue the rest's missing seeds. */
  private async recoverOpenTrials(): Promise<void> {
    for (const study of this.state.studies.values()) {
      for (const trial of study.trials) {
        if (trial.state !== 'RUNNING') continue;
        if (!(await this.finishIfJudged(study, trial))) {
          for (const seed of study.config.seeds) if (!trial.runs.has(seed)) this.queue.push({ study, trial, seed, resumed: true });
        }
      }
    }
  }

  private async fill(): Promise<void> {
    // One filler at a time: asking a sampler awaits the journal, and two
    // concurrent fillers would ask for the same trial number.
    if (this.asking) return;
    this.asking = true;
    try {
      if (this.opts.dispatcher.capacity === 0 && !this.stopping()) throw new DispatchError('no trainer is available to run the sweep');
      while (!this.stopping() && this.inFlight < this.opts.dispatcher.capacity) {
        const next = this.queue.shift() ?? ((await this.askNext(this.trialsToFill())) ? this.queue.shift() : undefined);
        if (next === undefined) break;
        // Asking awaited the journal: a stop may have come in meanwhile.
        if (this.stopping()) {
          this.queue.unshift(next);
          break;
        }
        this.start(next);
      }
    } catch (err) {
      this.fail(err as Error);
    } finally {
      this.asking = false;
    }
    this.wakeIfIdle();
  }

  /**
   * Runs that finish in the same turn of the event loop (a cluster's results
   * arrive in batches) refill their slots together: one fill asks their
   * trials in one journal append, and their run messages leave in one socket
   * write instead of one each.
   */
  private scheduleFill(): void {
    if (this.fillScheduled) return;
    this.fillScheduled = true;
    setImmediate(() => {
      this.fillScheduled = false;
      void this.fill();
    });
  }

  private stopping(): boolean {
    return this.cancel.signal.aborted || this.fatal !== undefined;
  }

  /**
   * Trials to ask for at once: enough to fill every free slot. A local pool
   * of a few trainers asks one at a time, as before; a cluster with dozens of
   * slots asks several in one journal append instead of one round trip each.
   */
  private trialsToFill(): number {
    const free = this.opts.dispatcher.capacity - this.inFlight - this.queue.length;
    const seeds = Math.min(...[...this.state.studies.values()].map((s) => s.config.seeds.length));
    return Math.max(1, Math.ceil(free / Math.max(1, seeds)));
  }

  /**
   * Asks up to `count` new trials, studies taking turns, and records them in
   * one journal append; false when no study can give one. Each suggestion
   * sees the ones asked before it in the batch as running (constant liar),
   * so a batch of k is what k single asks with nothing finishing between
   * them would give.
   */
  private async askNext(count: number): Promise<boolean> {
    const studies = [...this.state.studies.values()];
    const asked: Array<{ study: Study; number: number; params: TrialView['params'] }> = [];
    const pendingOf = (study: Study) => asked.filter((a) => a.study === study);
    for (let misses = 0; asked.length < count && misses < studies.length; ) {
      const study = studies[this.nextStudy % studies.length] as Study;
      this.nextStudy = (this.nextStudy + 1) % studies.length;
      const pending = pendingOf(study);
      const number = study.trials.length + pending.length;
      if (number >= study.config.trials || this.exhausted.has(study.config.name)) {
        misses++;
        continue;
      }
      const history = [...study.trials.map((t) => this.viewOf(t)), ...pending.map((p): TrialView => ({ number: p.number, state: 'RUNNING', params: p.params }))];
      const params = this.opts.samplerFor(study.config).suggest(study.config.space, history, number);
      if (params === null) {
        this.exhausted.add(study.config.name);
        misses++;
        continue;
      }
      misses = 0;
      asked.push({ study, number, params });
    }
    if (asked.length === 0) return false;
    const t = this.now();
    await this.recordAll(asked.map((a) => ({ op: 'trial_asked' as const, t, study: a.study.config.name, trial: a.number, params: { ...a.params } })));
    for (const a of asked) {
      const trial = a.study.trials[a.number] as Trial;
      for (const seed of a.study.config.seeds) this.queue.push({ study: a.study, trial, seed });
    }
    return true;
  }

  private start(run: PendingRun): void {
    this.inFlight++;
    const { study, trial, seed } = run;
    const pruner = this.prunerOf(study);
    const spec: RunSpec = {
      runId: runId({ study: study.config.name, trial: trial.number, seed }),
      study: study.config.name,
      trial: trial.number,
      seed,
      model: study.config.model,
      params: toWireParams({ ...study.config.fixed, ...trial.params }),
      dataset: study.config.dataset,
      reportEpochMetrics: pruner?.needsEpochMetrics ?? false,
      interpret: false,
    };
    const base = { study: spec.study, trial: spec.trial, seed };
    const stop = new AbortController();
    const onSweepStop = (): void => stop.abort();
    this.cancel.signal.addEventListener('abort', onSweepStop, { once: true });
    this.running.set(spec.runId, { run, stop });
    this.opts.dispatcher
      .run(spec, {
        signal: stop.signal,
        resumed: run.resumed === true,
        onStart: (trainer, attempt) => {
          this.record({ op: 'run_started', t: this.now(), ...base, trainer, attempt }).catch((err: Error) => this.fail(err));
        },
        onProgress: (progress) => {
          this.opts.onProgress?.(run, progress);
          if (pruner?.needsEpochMetrics && progress.auc !== undefined) {
            this.pending++;
            this.progressed(run, base, progress.epoch, progress.auc)
              .catch((err: Error) => this.fail(err))
              .finally(() => {
                this.pending--;
                this.wakeIfIdle();
              });
          }
        },
      })
      .then((outcome) => this.finishRun(run, base, outcome))
      .catch((err: Error) => {
        if (!(err instanceof InterruptedError)) return this.fail(err);
        // An interrupted run is not an outcome: it stays unfinished and a resume re-dispatches it.
        // A pruned trial's runs are meant to stop; any other interruption without a stop
        // (should not happen) is run again now rather than lost.
        if (!this.cancel.signal.aborted && this.isOpen(run.trial)) this.queue.unshift(run);
      })
      .finally(() => {
        this.running.delete(spec.runId);
        this.cancel.signal.removeEventListener('abort', onSweepStop);
        this.inFlight--;
        this.scheduleFill();
      });
  }

  private async finishRun(run: PendingRun, base: { study: string; trial: number; seed: number }, outcome: DispatchOutcome): Promise<void> {
    // After a journal failure nothing more can be recorded; after any other
    // fatal error a finished run is still worth keeping (a resume skips it).
    if (this.fatal instanceof JournalError) return;
    // A run that finished just as its trial was pruned: the trial is judged already.
    if (!this.isOpen(run.trial)) return;
    if (outcome.result !== undefined) await this.record({ op: 'run_finished', t: this.now(), ...base, result: outcome.result });
    else await this.record({ op: 'run_failed', t: this.now(), ...base, failure: outcome.failure });
    if (!(await this.finishIfJudged(run.study, run.trial)) && outcome.result !== undefined) {
      await this.consultPruner(run, { kind: 'run', seed: run.seed });
    }
  }

  private async progressed(run: PendingRun, base: { study: string; trial: number; seed: number }, epoch: number, auc: number): Promise<void> {
    if (!this.isOpen(run.trial) || this.fatal !== undefined) return;
    await this.record({ op: 'run_progress', t: this.now(), ...base, epoch, auc });
    await this.consultPruner(run, { kind: 'epoch', seed: run.seed, epoch });
  }

  /** Asks the study's pruner about `run`'s trial; a verdict stops the trial's queued and running runs. */
  private async consultPruner(run: PendingRun, event: PruneEvent): Promise<void> {
    const { study, trial } = run;
    const reason = this.isOpen(trial) ? this.prunerOf(study)?.judge(study, trial, event) : undefined;
    if (reason === undefined) return;
    this.closing.add(trial);
    await this.record({ op: 'trial_finished', t: this.now(), study: study.config.name, trial: trial.number, state: 'PRUNED', reason });
    for (let i = this.queue.length - 1; i >= 0; i--) if (this.queue[i]!.trial === trial) this.queue.splice(i, 1);
    for (const { run: r, stop } of this.running.values()) if (r.trial === trial) stop.abort();
  }

  private isOpen(trial: Trial): boolean {
    return trial.state === 'RUNNING' && !this.closing.has(trial);
  }

  /**
   * A closed trial never changes again (applyRecord ignores later records
   * for it), so its view is built once: every ask passes the whole history,
   * and rebuilding them was the largest JavaScript function in the
   * coordinator's profile (bench/profile-summary.ts).
   */
  private viewOf(trial: Trial): TrialView {
    if (trial.state === 'RUNNING' || trial.state === 'WAITING') return viewOf(trial);
    let view = this.closedViews.get(trial);
    if (view === undefined) this.closedViews.set(trial, (view = Object.freeze(viewOf(trial))));
    return view;
  }

  private prunerOf(study: Study): Pruner | undefined {
    const name = study.config.name;
    if (!this.pruners.has(name)) this.pruners.set(name, study.config.pruner === undefined ? undefined : createPruner(study.config.pruner));
    return this.pruners.get(name);
  }

  private async finishIfJudged(study: Study, trial: Trial): Promise<boolean> {
    const verdict = this.isOpen(trial) ? trialVerdict(trial, study.config.seeds) : undefined;
    if (verdict === undefined) return false;
    this.closing.add(trial);
    await this.record({
      op: 'trial_finished',
      t: this.now(),
      study: study.config.name,
      trial: trial.number,
      state: verdict.state,
      ...(verdict.reason === undefined ? {} : { reason: verdict.reason }),
    });
    return true;
  }

  /** Journal first, then state, then observers: nothing acts on an unrecorded change. */
  private async record(record: JournalRecord): Promise<void> {
    await this.recordAll([record]);
  }

  private async recordAll(records: JournalRecord[]): Promise<void> {
    await this.opts.journal.append(records);
    for (const record of records) {
      applyRecord(this.state, record);
      await this.opts.onRecord?.(record, this.state);
    }
  }

  private fail(err: Error): void {
    if (this.fatal === undefined) this.fatal = err;
    // Without a journal nothing can be recorded, and its runs may belong to another
    // coordinator that took the sweep over: leave them training, do not withdraw them.
    if (err instanceof JournalError) this.opts.dispatcher.detach?.();
    this.cancel.abort();
    this.wakeIfIdle();
  }

  private wakeIfIdle(): void {
    if (this.inFlight > 0 || this.pending > 0 || this.asking || this.fillScheduled) return;
    if (this.stopping() || this.queue.length === 0) {
      // Nothing running and nothing startable: either stopped, or every budget is spent.
      const settle = this.settle;
      this.settle = undefined;
      settle?.();
    }
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }
}

function viewOf(trial: Trial): TrialView {
  const view: TrialView = { number: trial.number, state: trial.state, params: trial.params };
  if (trial.state === 'COMPLETE' && trial.auc !== undefined) view.value = trial.auc.mean;
  if (trial.state === 'PRUNED') view.intermediate = intermediateOf(trial);
  return view;
}

/**
 * A pruned trial's intermediate values, for samplers that rank pruned trials
 * (TPE): per epoch, the mean cell AUC over the seeds that reached it; without
 * epoch reports (the seed pruner), one step: the mean over its finished seeds.
 */
function intermediateOf(trial: Trial): number[] {
  if (trial.progress !== undefined && trial.progress.size > 0) {
    const epochs = Math.max(...[...trial.progress.values()].map((e) => e.length));
    const out: number[] = [];
    for (let e = 0; e < epochs; e++) {
      const values = [...trial.progress.values()].flatMap((v) => (v[e] === undefined ? [] : [v[e] as number]));
      if (values.length === 0) break;
      out.push(values.reduce((a, b) => a + b, 0) / values.length);
    }
    return out;
  }
  return trial.auc === undefined ? [] : [trial.auc.mean];
}
