import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { runId } from '../../core/runs.js';
import type { JournalRecord } from '../journal/records.js';
import type { Sampler } from '../samplers/sampler.js';
import type { StudyConfig } from '../config/sweep-config.js';
import type { Study, SweepState, Trial } from '../study/sweep-state.js';
import { StudyTally } from './study-tally.js';

/** A sweep as the metrics see it: its replayed state, and whether its loop ended in an error. */
export interface ObservedSweep {
  readonly id: string;
  readonly state: SweepState;
  readonly error?: Error | undefined;
}

/** The work queue's numbers, read from JetStream at scrape time (cluster mode). */
export interface QueueStats {
  /** Runs waiting for a trainer. */
  pending: number;
  /** Runs delivered and not yet acknowledged (in training). */
  inProgress: number;
  /** Runs delivered more than once, among those not yet acknowledged. */
  redelivered: number;
  /** Trainers' pull requests waiting for a run: idle trainers. */
  waitingPulls: number;
  /** Messages kept on the dead-letter stream. */
  deadLetters: number;
}

const SWEEP_LABELS = ['sweep', 'sweep_id', 'study'] as const;
type SweepLabel = (typeof SWEEP_LABELS)[number];

/**
 * What a coordinator reports to Prometheus. Counts that the journal already
 * holds (trials and runs by state, best scores) are computed from the live
 * sweep state when Prometheus scrapes, so they cannot drift from the journal
 * and cost nothing per run; only events that leave no state behind (run
 * durations, redeliveries, suggestion latency) are counted as they happen.
 *
 * Labels: `sweep` is the sweep's name (what the dashboard's selector shows),
 * `sweep_id` tells apart two sweeps of one name.
 */
export class CoordinatorMetrics {
  private readonly runDuration: Histogram<SweepLabel | 'outcome'>;
  private readonly outcomes: Counter<SweepLabel | 'outcome'>;
  private readonly redeliveries: Counter<SweepLabel>;
  private readonly suggestion: Histogram<SweepLabel | 'sampler'>;
  /** Per study, its counts kept record by record (a scrape then costs O(open trials)). */
  private readonly tallies = new WeakMap<Study, StudyTally>();
  /** When each run in training started (journal time), per sweep, to time it when its outcome comes. */
  private readonly started = new Map<string, Map<string, number>>();

  constructor(
    registry: Registry,
    private readonly source: { sweeps(): Iterable<ObservedSweep> },
    queue?: { stats(): Promise<QueueStats>; connected(): boolean },
  ) {
    const self = this;
    this.outcomes = new Counter({
      name: 'cellsweep_run_outcomes_total',
      help: 'Runs that ended, by outcome (finished or failed): the failure rate.',
      labelNames: [...SWEEP_LABELS, 'outcome'],
      registers: [registry],
    });
    this.runDuration = new Histogram({
      name: 'cellsweep_run_duration_seconds',
      help: 'Time a run held its trainer: for finished runs as the trainer measured it (data load and training), for failed runs from its start to the failure.',
      labelNames: [...SWEEP_LABELS, 'outcome'],
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200],
      registers: [registry],
    });
    this.redeliveries = new Counter({
      name: 'cellsweep_redeliveries_total',
      help: 'Runs that started again on a trainer after an earlier delivery went silent or its trainer died.',
      labelNames: [...SWEEP_LABELS],
      registers: [registry],
    });
    this.suggestion = new Histogram({
      name: 'cellsweep_suggestion_duration_seconds',
      help: "Time the study's sampler took to suggest one configuration.",
      labelNames: [...SWEEP_LABELS, 'sampler'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    });
    new Gauge({
      name: 'cellsweep_trials',
      help: 'Trials by study and state (waiting, running, complete, pruned, fail).',
      labelNames: [...SWEEP_LABELS, 'state'],
      registers: [registry],
      collect() {
        this.reset();
        for (const { study, labels } of self.studies()) {
          for (const [state, n] of Object.entries(self.tallyOf(study).trials())) this.set({ ...labels, state: state.toLowerCase() }, n);
        }
      },
    });
    new Gauge({
      name: 'cellsweep_runs',
      help: 'Runs by study and state: queued (waiting for a trainer), running, finished, failed. Runs of open trials only are queued or running.',
      labelNames: [...SWEEP_LABELS, 'state'],
      registers: [registry],
      collect() {
        this.reset();
        for (const { sweep, study, labels } of self.studies()) {
          const started = self.started.get(sweep.id);
          const isStarted = (trial: Trial, seed: number): boolean => started?.has(runId({ study: study.config.name, trial: trial.number, seed })) ?? false;
          const counts = self.tallyOf(study).runs(isStarted, sweep.state.status === 'running');
          for (const [state, n] of Object.entries(counts)) this.set({ ...labels, state }, n);
        }
      },
    });
    const best = (metric: 'auc' | 'aupr') =>
      new Gauge({
        name: `cellsweep_best_${metric}`,
        help: `Mean ${metric.toUpperCase()} over the seeds of each study's best trial so far (the best by mean AUC, ties by AUPR).`,
        labelNames: [...SWEEP_LABELS],
        registers: [registry],
        collect() {
          this.reset();
          for (const { study, labels } of self.studies()) {
            const value = study.progress.best?.[metric]?.mean;
            if (value !== undefined) this.set(labels, value);
          }
        },
      });
    best('auc');
    best('aupr');
    new Gauge({
      name: 'cellsweep_sweep_status',
      help: 'Each sweep\'s status (1 on the current one): running, complete, stopped or failed.',
      labelNames: ['sweep', 'sweep_id', 'status'],
      registers: [registry],
      collect() {
        this.reset();
        for (const sweep of self.source.sweeps()) {
          const current = sweep.error !== undefined ? 'failed' : sweep.state.status;
          for (const status of ['running', 'complete', 'stopped', 'failed']) {
            this.set({ sweep: sweep.state.config.name, sweep_id: sweep.id, status }, status === current ? 1 : 0);
          }
        }
      },
    });
    if (queue !== undefined) this.queueGauges(registry, queue);
  }

  /** Call with every journal record a sweep applies, after it is applied. */
  record(sweepId: string, record: JournalRecord, state: SweepState): void {
    if (record.op === 'trial_asked' || record.op === 'trial_finished') {
      const study = state.studies.get(record.study);
      const trial = study?.trials[record.trial];
      // A tally made just now started from the state, which already holds this record.
      if (study !== undefined && trial !== undefined && this.tallies.has(study)) {
        if (record.op === 'trial_asked') this.tallyOf(study).asked(trial);
        else this.tallyOf(study).finished(trial);
      }
    }
    let started = this.started.get(sweepId);
    if (started === undefined) {
      this.started.set(sweepId, (started = new Map()));
      // A counter that never moved has no series, and its dashboard panel would show "no data" rather than 0.
      for (const study of state.studies.keys()) {
        this.redeliveries.inc(this.labels(sweepId, state, study), 0);
        for (const outcome of ['finished', 'failed']) {
          this.outcomes.inc({ ...this.labels(sweepId, state, study), outcome }, 0);
          // A histogram too: rate() needs a sample from before the first run ended.
          this.runDuration.zero({ ...this.labels(sweepId, state, study), outcome });
        }
      }
    }
    switch (record.op) {
      case 'run_started': {
        const key = runId(record);
        if (record.attempt > 1) this.redeliveries.inc(this.labels(sweepId, state, record.study));
        started.set(key, record.t);
        return;
      }
      case 'run_finished':
      case 'run_failed': {
        const key = runId(record);
        const t0 = started.get(key);
        started.delete(key);
        const labels = { ...this.labels(sweepId, state, record.study), outcome: record.op === 'run_finished' ? 'finished' : 'failed' };
        this.outcomes.inc(labels);
        // The trainer's own clock for a result: its start event travels apart from the outcome and may come late or not at all.
        const seconds = record.op === 'run_finished' ? record.result.loadSeconds + record.result.trainSeconds : t0 === undefined ? undefined : (record.t - t0) / 1000;
        if (seconds !== undefined) this.runDuration.observe(labels, Math.max(0, seconds));
        return;
      }
      case 'trial_finished': {
        // A pruned trial's runs in training are stopped: they will send no outcome.
        const seeds = state.studies.get(record.study)?.config.seeds ?? [];
        for (const seed of seeds) started.delete(runId({ study: record.study, trial: record.trial, seed }));
        return;
      }
      case 'sweep_stopped':
      case 'sweep_finished':
        started.clear();
        return;
      default:
        return;
    }
  }

  /** `samplerFor` with every suggestion timed; one wrapper per study, so samplers' caches are kept. */
  timed(samplerFor: (study: StudyConfig) => Sampler, sweepId: string, sweepName: string): (study: StudyConfig) => Sampler {
    const wrapped = new Map<string, Sampler>();
    return (study) => {
      let timed = wrapped.get(study.name);
      if (timed !== undefined) return timed;
      const inner = samplerFor(study);
      const labels = { sweep: sweepName, sweep_id: sweepId, study: study.name, sampler: inner.name };
      timed = {
        name: inner.name,
        capacity: (space) => inner.capacity(space),
        suggest: (space, history, number) => {
          const stop = this.suggestion.startTimer(labels);
          try {
            return inner.suggest(space, history, number);
          } finally {
            stop();
          }
        },
      };
      wrapped.set(study.name, timed);
      return timed;
    };
  }

  private tallyOf(study: Study): StudyTally {
    let tally = this.tallies.get(study);
    if (tally === undefined) this.tallies.set(study, (tally = new StudyTally(study)));
    return tally;
  }

  private *studies() {
    for (const sweep of this.source.sweeps()) {
      for (const study of sweep.state.studies.values()) {
        yield { sweep, study, labels: { sweep: sweep.state.config.name, sweep_id: sweep.id, study: study.config.name } };
      }
    }
  }

  private labels(sweepId: string, state: SweepState, study: string): Record<SweepLabel, string> {
    return { sweep: state.config.name, sweep_id: sweepId, study };
  }

  private queueGauges(registry: Registry, queue: { stats(): Promise<QueueStats>; connected(): boolean }): void {
    // One JetStream request per scrape, shared by the five gauges: the first one's collect starts it.
    let inflight: Promise<QueueStats | undefined> | undefined;
    const read = (): Promise<QueueStats | undefined> =>
      (inflight ??= queue
        .stats()
        .catch(() => {
          probeErrors.inc();
          return undefined;
        })
        .finally(() => setImmediate(() => (inflight = undefined))));
    const probeErrors = new Counter({
      name: 'cellsweep_queue_probe_errors_total',
      help: 'Scrapes that could not read the queue from JetStream (the queue gauges keep their last value).',
      registers: [registry],
      async collect() {
        // Wait for this scrape's read, so that a failure shows in the same scrape.
        await read();
      },
    });
    const queueGauge = (name: string, help: string, key: keyof QueueStats): Gauge =>
      new Gauge({
        name,
        help,
        registers: [registry],
        async collect() {
          const stats = await read();
          if (stats !== undefined) this.set(stats[key]);
        },
      });
    queueGauge('cellsweep_queue_depth', 'Runs in the NATS work queue waiting for a trainer (all sweeps).', 'pending');
    queueGauge('cellsweep_queue_in_progress', 'Runs delivered to a trainer and not yet acknowledged.', 'inProgress');
    queueGauge('cellsweep_queue_redelivered', 'Unacknowledged runs that were delivered more than once.', 'redelivered');
    queueGauge('cellsweep_queue_waiting_pulls', "Trainers' pull requests waiting for a run (idle trainers).", 'waitingPulls');
    queueGauge('cellsweep_dead_letters', 'Runs on the dead-letter stream (gave up after their delivery limit, or unreadable).', 'deadLetters');
    new Gauge({
      name: 'cellsweep_nats_connected',
      help: '1 while the coordinator is connected to NATS.',
      registers: [registry],
      collect() {
        this.set(queue.connected() ? 1 : 0);
      },
    });
  }
}
