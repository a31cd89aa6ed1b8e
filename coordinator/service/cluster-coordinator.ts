import { randomUUID } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { RunProgress } from '../../proto/gen/cellsweep/v1/run.js';
import { ConfigError, JournalError } from '../../core/errors.js';
import type { SweepConfig } from '../config/sweep-config.js';
import { NatsDispatcher, type NatsDispatchEvent } from '../dispatch/nats-dispatcher.js';
import { ensureTopology } from '../dispatch/nats-topology.js';
import { JetStreamJournal } from '../journal/jetstream-journal.js';
import { JOURNAL_FORMAT_VERSION, type JournalRecord } from '../journal/records.js';
import { replay } from '../journal/replay.js';
import { samplersByStudy } from '../samplers/index.js';
import { SweepRunner, type PendingRun } from '../study/sweep-runner.js';
import type { SweepState } from '../study/sweep-state.js';
import type { CoordinatorMetrics } from '../telemetry/coordinator-metrics.js';

/** The stop reason of a sweep a user stopped; any other stop (a coordinator shutdown) is resumed on start. */
export const STOPPED_BY_REQUEST = 'stopped by request';
const SHUTDOWN = 'coordinator shutdown';

export type SweepChange =
  | { type: 'record'; record: JournalRecord }
  | { type: 'progress'; run: PendingRun; progress: RunProgress }
  | { type: 'ended' };

export interface SweepHandle {
  readonly id: string;
  readonly state: SweepState;
  /** Resolves when the sweep's loop has ended (complete, stopped or failed); at once for an ended sweep. */
  readonly done: Promise<void>;
  /** The error that ended the loop, if one did. */
  error?: Error;
  /** When the loop ended (ms since the epoch); unset while it runs. */
  endedAt?: number;
}

interface LiveSweep extends SweepHandle {
  done: Promise<void>;
  journal: JetStreamJournal;
  dispatcher?: NatsDispatcher;
  stop: AbortController;
  listeners: Set<(change: SweepChange) => void>;
}

export interface ClusterCoordinatorOptions {
  nc: NatsConnection;
  /** The trainers' heartbeat deadline: a run silent for longer goes to another trainer. */
  ackWaitMs?: number;
  /** Deliveries of one run before it is dead-lettered and fails. */
  maxDeliveries?: number;
  /** Runs at once per sweep when its file gives no `trainers`. */
  defaultParallel?: number;
  log?: (line: string) => void;
  /** Prometheus metrics: every journal record and suggestion of every sweep is shown to them. */
  metrics?: CoordinatorMetrics;
}

/**
 * The cluster-mode coordinator: every sweep's journal lives in JetStream and
 * its runs go out over the NATS work queue. On start it replays every
 * journal and continues each sweep that did not end (complete, or stopped by
 * a user): finished runs are never redone, runs in flight are picked up
 * where they are (nats-dispatcher.ts, `resumed`).
 *
 * The gRPC StudyService (study-service.ts) is a thin layer over this class.
 */
export class ClusterCoordinator {
  private readonly sweeps = new Map<string, LiveSweep>();
  private closing = false;

  private constructor(private readonly opts: ClusterCoordinatorOptions) {}

  static async start(opts: ClusterCoordinatorOptions): Promise<ClusterCoordinator> {
    await ensureTopology(await jetstreamManager(opts.nc), { ackWaitMs: opts.ackWaitMs ?? 60_000 });
    const coordinator = new ClusterCoordinator(opts);
    for (const id of await JetStreamJournal.sweeps(opts.nc)) {
      let journal: JetStreamJournal;
      let state: SweepState;
      try {
        journal = await JetStreamJournal.open(opts.nc, id, { create: false });
        state = replay(await journal.read(), `journal of sweep ${id}`);
      } catch (err) {
        // One unreadable journal must not keep every other sweep from being served (a crash loop
        // under Kubernetes). The journal is left as it is, for an operator to look at.
        if (!(err instanceof JournalError)) throw err;
        opts.log?.(`sweep ${id}: not loaded, its journal cannot be replayed: ${err.message}`);
        continue;
      }
      const resume = state.status === 'running' || (state.status === 'stopped' && state.stopReason !== STOPPED_BY_REQUEST);
      coordinator.opts.log?.(`sweep ${state.config.name} (${id}): ${resume ? 'resuming' : state.status}`);
      coordinator.launch(id, state, journal, resume);
    }
    return coordinator;
  }

  /** Starts a new sweep from a checked configuration. */
  async create(config: SweepConfig): Promise<SweepHandle> {
    if (this.closing) throw new ConfigError('the coordinator is shutting down');
    const id = randomUUID();
    const journal = await JetStreamJournal.open(this.opts.nc, id, { create: true });
    const created: JournalRecord = { op: 'sweep_created', v: JOURNAL_FORMAT_VERSION, t: Date.now(), sweepId: id, config };
    await journal.append([created]);
    this.opts.log?.(`sweep ${config.name} (${id}): created, ${config.studies.length} stud${config.studies.length === 1 ? 'y' : 'ies'}`);
    return this.launch(id, replay([created]), journal, true);
  }

  get(id: string): SweepHandle | undefined {
    return this.sweeps.get(id);
  }

  /** Every sweep, oldest first. */
  list(): SweepHandle[] {
    return [...this.sweeps.values()].sort((a, b) => a.state.createdAt - b.state.createdAt || a.id.localeCompare(b.id));
  }

  /** Stops a sweep for good (it is not resumed on restart): queued runs are dropped, running ones told to stop. */
  async stop(id: string): Promise<SweepHandle | undefined> {
    const sweep = this.sweeps.get(id);
    if (sweep === undefined) return undefined;
    sweep.stop.abort(STOPPED_BY_REQUEST);
    await sweep.done;
    return sweep;
  }

  /** Calls `listener` with every change of the sweep until it ends; returns the unsubscribe function. */
  watch(id: string, listener: (change: SweepChange) => void): () => void {
    const sweep = this.sweeps.get(id);
    if (sweep === undefined) return () => undefined;
    sweep.listeners.add(listener);
    return () => sweep.listeners.delete(listener);
  }

  /**
   * Shuts down without cancelling anything: trainers finish the runs they
   * hold, and the next coordinator finds the outcomes and continues.
   */
  async close(): Promise<void> {
    this.closing = true;
    for (const sweep of this.sweeps.values()) {
      sweep.dispatcher?.detach();
      sweep.stop.abort(SHUTDOWN);
    }
    await Promise.all([...this.sweeps.values()].map((s) => s.done));
  }

  private launch(id: string, state: SweepState, journal: JetStreamJournal, run: boolean): LiveSweep {
    const sweep: LiveSweep = { id, state, journal, stop: new AbortController(), listeners: new Set(), done: Promise.resolve() };
    this.sweeps.set(id, sweep);
    if (run) sweep.done = this.drive(sweep);
    else void journal.read().then((records) => (sweep.endedAt = records.at(-1)?.t ?? state.createdAt));
    return sweep;
  }

  private async drive(sweep: LiveSweep): Promise<void> {
    const { id, state, journal } = sweep;
    const emit = (change: SweepChange): void => {
      for (const listener of sweep.listeners) listener(change);
    };
    try {
      sweep.dispatcher = await NatsDispatcher.start({
        nc: this.opts.nc,
        sweepId: id,
        capacity: state.config.trainers ?? this.opts.defaultParallel ?? 8,
        maxDeliveries: this.opts.maxDeliveries ?? 3,
        onEvent: (event) => this.opts.log?.(`sweep ${id}: ${describe(event)}`),
      });
      const runner = new SweepRunner({
        state,
        journal,
        dispatcher: sweep.dispatcher,
        samplerFor: this.opts.metrics?.timed(samplersByStudy(), id, state.config.name) ?? samplersByStudy(),
        onRecord: (record) => {
          this.opts.metrics?.record(id, record, state);
          emit({ type: 'record', record });
        },
        onProgress: (run, progress) => emit({ type: 'progress', run, progress }),
      });
      const status = await runner.run(sweep.stop.signal);
      this.opts.log?.(`sweep ${state.config.name} (${id}): ${status === 'complete' ? 'complete' : `stopped (${String(sweep.stop.signal.reason)})`}`);
    } catch (err) {
      sweep.error = err as Error;
      this.opts.log?.(`sweep ${state.config.name} (${id}): failed: ${(err as Error).message}`);
    } finally {
      await sweep.dispatcher?.close();
      sweep.endedAt = Date.now();
      emit({ type: 'ended' });
      sweep.listeners.clear();
    }
  }
}

function describe(event: NatsDispatchEvent): string {
  switch (event.type) {
    case 'late_outcome':
      return `run ${event.runId}: a second outcome arrived and was dropped (counted once)`;
    case 'recovered':
      return `run ${event.runId}: recovered (${event.how})`;
    case 'publish_retry':
      return `run ${event.runId}: trying NATS again after: ${event.error}`;
  }
}
