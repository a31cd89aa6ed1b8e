import { DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders, nuid, type NatsConnection, type Subscription } from '@nats-io/nats-core';
import { RunEvent, RunSpec, RunStop } from '../../proto/gen/cellsweep/v1/run.js';
import { DispatchError, InterruptedError } from '../../core/errors.js';
import { retryUntilDone } from '../../core/nats/retry.js';
import { StreamPublisher } from '../../core/nats/stream-publisher.js';
import { EVENTS_STREAM, RUNS_STREAM, checkSweepToken, headers, runIdOfSubject, subjects } from '../../core/nats/topology.js';
import type { DispatchHooks, DispatchOutcome, Dispatcher } from './dispatcher.js';

export interface NatsDispatcherOptions {
  nc: NatsConnection;
  sweepId: string;
  /** Runs queued or training at once for this sweep (the sweep's `trainers`). */
  capacity: number;
  /** Deliveries of one run before it is dead-lettered and fails. */
  maxDeliveries?: number;
  /** How long a run's publish (or, on resume, its lookups) may keep failing (NATS down) before the sweep gives up. */
  publishPatienceMs?: number;
  onEvent?: (event: NatsDispatchEvent) => void;
}

export type NatsDispatchEvent =
  | { type: 'late_outcome'; runId: string }
  | { type: 'recovered'; runId: string; how: 'outcome' | 'queued' | 'republished' }
  | { type: 'publish_retry'; runId: string; error: string };

interface InFlight {
  hooks: DispatchHooks;
  resolve(outcome: DispatchOutcome): void;
  reject(err: Error): void;
  /** Stream sequence of the run's message in the work queue, to withdraw it. */
  seq?: number;
}

/**
 * The cluster-mode dispatcher: each run becomes one message on the
 * CELLSWEEP_RUNS work queue, taken by whichever trainer pulls next
 * (trainer/worker/nats-worker.ts). Results and failures come back on the
 * CELLSWEEP_EVENTS stream, started/progress events over core NATS. A run
 * resolves once; a duplicate outcome (a redelivered run that finished twice)
 * is reported as `late_outcome` and dropped.
 *
 * A resumed run (the coordinator restarted) is not blindly sent again: an
 * outcome already in CELLSWEEP_EVENTS is used, a message still in the work
 * queue is waited for, and only a run that is in neither is published again.
 */
export class NatsDispatcher implements Dispatcher {
  private readonly inFlight = new Map<string, InFlight>();
  private readonly js: JetStreamClient;
  private readonly publisher: StreamPublisher;
  private progressSub: Subscription | undefined;
  private events: ConsumerMessages | undefined;
  private closed = false;
  private detached = false;

  private constructor(
    private readonly opts: NatsDispatcherOptions,
    private readonly jsm: JetStreamManager,
  ) {
    checkSweepToken(opts.sweepId);
    this.js = jetstream(opts.nc);
    this.publisher = new StreamPublisher(opts.nc);
  }

  /** Starts listening for the sweep's events; the topology must exist (ensureTopology). */
  static async start(opts: NatsDispatcherOptions): Promise<NatsDispatcher> {
    if (!(opts.capacity >= 1)) throw new DispatchError(`expected at least 1 run at once, but got ${opts.capacity}`);
    const dispatcher = new NatsDispatcher(opts, await jetstreamManager(opts.nc));
    await dispatcher.listen();
    return dispatcher;
  }

  get capacity(): number {
    return this.opts.capacity;
  }

  run(spec: RunSpec, hooks: DispatchHooks): Promise<DispatchOutcome> {
    if (this.closed) return Promise.reject(new InterruptedError('the dispatcher is closed'));
    if (hooks.signal.aborted) return Promise.reject(new InterruptedError('run cancelled before it started'));
    if (this.inFlight.has(spec.runId)) return Promise.reject(new DispatchError(`run ${spec.runId} is already in flight`));
    return new Promise<DispatchOutcome>((resolve, reject) => {
      const onAbort = (): void => {
        const run = this.inFlight.get(spec.runId);
        if (run !== entry) return;
        this.inFlight.delete(spec.runId);
        reject(new InterruptedError('run cancelled'));
        if (!this.detached) void this.withdraw(spec.runId, entry.seq);
      };
      const entry: InFlight = {
        hooks,
        resolve: (outcome) => {
          hooks.signal.removeEventListener('abort', onAbort);
          resolve(outcome);
        },
        reject: (err) => {
          hooks.signal.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      this.inFlight.set(spec.runId, entry);
      hooks.signal.addEventListener('abort', onAbort, { once: true });
      this.dispatch(spec, entry, hooks.resumed === true).catch((err: Error) => {
        if (this.inFlight.get(spec.runId) !== entry) return;
        this.inFlight.delete(spec.runId);
        entry.reject(err);
      });
    });
  }

  /**
   * From now on a cancelled run is only forgotten here, not withdrawn: for a
   * coordinator that shuts down, whose runs should go on training and be
   * picked up by its successor (`resumed` runs).
   */
  detach(): void {
    this.detached = true;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const [id, run] of this.inFlight) {
      this.inFlight.delete(id);
      run.reject(new InterruptedError('the dispatcher is closing'));
    }
    this.progressSub?.unsubscribe();
    this.publisher.close();
    await this.events?.close();
  }

  private async listen(): Promise<void> {
    const sweep = this.opts.sweepId;
    this.progressSub = this.opts.nc.subscribe(subjects.sweepProgress(sweep), {
      callback: (err, msg) => {
        if (err !== null) return;
        const run = this.inFlight.get(runIdOfSubject(msg.subject));
        const event = decodeEvent(msg.data);
        if (run === undefined || event === undefined) return;
        if (event.event?.$case === 'started') run.hooks.onStart(event.event.value.trainerId, event.event.value.attempt);
        else if (event.event?.$case === 'progress') run.hooks.onProgress(event.event.value);
      },
    });
    // An ordered consumer: after a NATS restart it continues where it was, so no outcome is missed.
    const consumer = await this.js.consumers.get(EVENTS_STREAM, { filter_subjects: subjects.sweepEvents(sweep), deliver_policy: DeliverPolicy.New });
    // Short pulls: after a NATS restart a lost pull is noticed by missed
    // heartbeats (half the expiry), so outcomes stall for seconds, not the
    // default 30-60 s.
    this.events = await consumer.consume({ expires: 5000 });
    void (async () => {
      for await (const msg of this.events!) this.deliver(runIdOfSubject(msg.subject), decodeEvent(msg.data));
    })();
  }

  private deliver(runId: string, event: RunEvent | undefined): boolean {
    const outcome = outcomeOf(event);
    if (outcome === undefined) return false;
    const run = this.inFlight.get(runId);
    if (run === undefined) {
      this.opts.onEvent?.({ type: 'late_outcome', runId });
      return false;
    }
    this.inFlight.delete(runId);
    run.resolve(outcome);
    return true;
  }

  private async dispatch(spec: RunSpec, run: InFlight, resumed: boolean): Promise<void> {
    const sweep = this.opts.sweepId;
    const deadline = Date.now() + (this.opts.publishPatienceMs ?? 5 * 60 * 1000);
    const onFailure = (err: Error): void => {
      if (Date.now() > deadline) throw new DispatchError(`cannot queue run ${spec.runId} on NATS: ${err.message}`);
      this.opts.onEvent?.({ type: 'publish_retry', runId: spec.runId, error: err.message });
    };
    // A lookup that fails (NATS restarting) is tried again, not taken for "absent": that would queue a run that is still queued.
    // A run cancelled meanwhile stops the lookups (true: nothing left to publish).
    if (resumed && (await retryUntilDone(async () => this.inFlight.get(spec.runId) !== run || (await this.recover(spec.runId, run)), onFailure))) return;
    const h = natsHeaders();
    h.set(headers.sweep, sweep);
    h.set(headers.maxDeliveries, String(this.opts.maxDeliveries ?? 3));
    // One id per dispatch, reused by its retries: a retry after a lost PubAck is not queued twice.
    const msgID = `${sweep}:${spec.runId}:${nuid.next()}`;
    const payload = RunSpec.encode(spec).finish();
    await retryUntilDone(async () => {
      if (this.inFlight.get(spec.runId) !== run) return;
      const ack = await this.publisher.publish(subjects.runs(sweep, spec.runId), payload, { msgID, headers: h });
      run.seq = ack.seq;
      // Cancelled while the publish was on its way: withdraw what just landed.
      if (this.inFlight.get(spec.runId) !== run) void this.withdraw(spec.runId, ack.seq);
    }, onFailure);
  }

  /**
   * A run a previous coordinator dispatched: true when it has an outcome or
   * is still queued. Outcome first, queue second, outcome again: a trainer
   * publishes its outcome before it acks (removes) the run, so a run missing
   * from the queue either has an outcome by the second look or never will.
   */
  private async recover(runId: string, run: InFlight): Promise<boolean> {
    if (await this.recoverOutcome(runId)) return true;
    // getMessage answers null for "no such message"; other failures throw.
    const queued = await this.jsm.streams.getMessage(RUNS_STREAM, { last_by_subj: subjects.runs(this.opts.sweepId, runId) });
    if (queued !== null) {
      run.seq = queued.seq;
      this.opts.onEvent?.({ type: 'recovered', runId, how: 'queued' });
      return true;
    }
    if (await this.recoverOutcome(runId)) return true;
    this.opts.onEvent?.({ type: 'recovered', runId, how: 'republished' });
    return false;
  }

  private async recoverOutcome(runId: string): Promise<boolean> {
    const stored = await this.jsm.streams.getMessage(EVENTS_STREAM, { last_by_subj: subjects.events(this.opts.sweepId, runId) });
    if (stored === null || !this.deliver(runId, decodeEvent(stored.data))) return false;
    this.opts.onEvent?.({ type: 'recovered', runId, how: 'outcome' });
    return true;
  }

  /** Drops a queued run, and tells the trainer that holds it (if any) to stop. */
  private async withdraw(runId: string, seq: number | undefined): Promise<void> {
    if (seq !== undefined) await this.jsm.streams.deleteMessage(RUNS_STREAM, seq, false).catch(() => false);
    const stop = RunStop.encode({ sweepId: this.opts.sweepId, runId, reason: 'cancelled by the coordinator' }).finish();
    try {
      this.opts.nc.publish(subjects.control(this.opts.sweepId), stop);
    } catch {
      // Closed connection: the trainer's result will arrive and be dropped as late.
    }
  }
}

function decodeEvent(data: Uint8Array): RunEvent | undefined {
  try {
    return RunEvent.decode(data);
  } catch {
    return undefined;
  }
}

function outcomeOf(event: RunEvent | undefined): DispatchOutcome | undefined {
  if (event?.event?.$case === 'result') return { result: event.event.value };
  if (event?.event?.$case === 'failure') return { failure: event.event.value };
  return undefined;
}
