import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream, type Consumer, type JetStreamClient } from '@nats-io/jetstream';
import { millis, type NatsConnection } from '@nats-io/nats-core';
import { RunEvent, RunSpec, RunStop, type RunFailure } from '../../proto/gen/cellsweep/v1/run.js';
import { InterruptedError } from '../../core/errors.js';
import { retryUntilDone } from '../../core/nats/retry.js';
import { StreamPublisher } from '../../core/nats/stream-publisher.js';
import { RUNS_STREAM, TRAINERS_CONSUMER, headers, subjects } from '../../core/nats/topology.js';
import { executeRun, type RunOutcome } from '../run.js';
import type { TrainerMetrics, TrainerRunOutcome } from '../telemetry/trainer-metrics.js';
import type { DatasetCache } from './dataset-cache.js';
import { RunPuller, type RunDelivery } from './run-puller.js';

export interface NatsWorkerOptions {
  nc: NatsConnection;
  trainerId: string;
  backend: string;
  datasets: DatasetCache;
  /** Aborted to shut down: the run in training is cancelled and handed back for another trainer. */
  signal: AbortSignal;
  log(line: string): void;
  /** Called when a run is taken, with how long it waited in the queue (ms since its publish). */
  onTaken?(queuedMs: number): void;
  /** Prometheus metrics of this trainer (busy time, epochs, runs by outcome). */
  metrics?: TrainerMetrics;
}

/** Stop requests are kept this long, for a run whose stop arrived before the run did. */
const STOP_MEMORY_MS = 10 * 60 * 1000;

/**
 * A trainer in cluster mode: pulls one run at a time from the trainers'
 * durable consumer, heartbeats it (in-progress acks) while it trains,
 * publishes the outcome to CELLSWEEP_EVENTS and only then acks the run, so
 * a trainer that dies at any point leaves the run to be delivered again.
 *
 * A delivery beyond the run's limit (Cellsweep-Max-Deliveries) is not
 * trained: the run goes to the dead-letter subject and fails with that
 * reason. That covers the poison run that kills every trainer it meets.
 */
export async function runNatsWorker(opts: NatsWorkerOptions): Promise<void> {
  const js = jetstream(opts.nc);
  const consumer = await bindConsumer(js, opts);
  const ackWaitMs = millis((await consumer.info(true)).config.ack_wait ?? 30e9);
  const stopped = new Map<string, number>();
  let current: { key: string; abort: AbortController } | undefined;
  const control = opts.nc.subscribe(subjects.allControl, {
    callback: (err, msg) => {
      if (err !== null) return;
      let stop: RunStop;
      try {
        stop = RunStop.decode(msg.data);
      } catch {
        return opts.log(`ignored a malformed stop message on ${msg.subject}`);
      }
      const key = `${stop.sweepId}/${stop.runId}`;
      const now = Date.now();
      stopped.set(key, now);
      for (const [k, t] of stopped) if (now - t > STOP_MEMORY_MS) stopped.delete(k);
      if (current?.key === key) {
        opts.log(`run ${stop.runId}: stop requested (${stop.reason})`);
        current.abort.abort();
      }
    },
  });
  const onShutdown = (): void => current?.abort.abort();
  opts.signal.addEventListener('abort', onShutdown, { once: true });
  opts.log(`taking runs from ${RUNS_STREAM}/${TRAINERS_CONSUMER} (ack wait ${ackWaitMs} ms)`);
  const publisher = new StreamPublisher(opts.nc);
  const puller = new RunPuller(opts.nc, RUNS_STREAM, TRAINERS_CONSUMER);
  try {
    while (!opts.signal.aborted) {
      let msg: RunDelivery | null;
      try {
        msg = await puller.pull(2000);
      } catch (err) {
        // NATS restarting or unreachable: keep trying, the connection reconnects by itself.
        if (!opts.signal.aborted) opts.log(`waiting for NATS: ${(err as Error).message}`);
        await sleep(500);
        continue;
      }
      if (msg === null) continue;
      await handle(msg);
    }
  } finally {
    opts.signal.removeEventListener('abort', onShutdown);
    control.unsubscribe();
    puller.close();
    publisher.close();
  }

  async function handle(msg: RunDelivery): Promise<void> {
    const sweep = msg.headers?.get(headers.sweep) ?? '';
    const maxDeliveries = Number(msg.headers?.get(headers.maxDeliveries) ?? '3') || 3;
    let spec: RunSpec;
    try {
      spec = RunSpec.decode(msg.data);
      if (spec.runId === '' || sweep === '') throw new Error('no run id or no sweep header');
    } catch (err) {
      // Nobody can be told about a run that cannot be read: keep it for the operator.
      opts.log(`dead-lettering a malformed run message (stream seq ${msg.streamSequence}): ${(err as Error).message}`);
      await publishDurably(publisher, subjects.deadLetter(sweep || 'unknown'), msg.data, opts);
      msg.term();
      return;
    }
    const key = `${sweep}/${spec.runId}`;
    const attempt = msg.deliveryCount;
    if (stopped.has(key)) {
      opts.log(`run ${spec.runId}: not started (stopped by the coordinator)`);
      opts.metrics?.runRefused(spec.model, 'cancelled');
      msg.term();
      return;
    }
    if (attempt > maxDeliveries) {
      const reason = `dead-lettered after ${maxDeliveries} deliveries without a result: each trainer that took it exited or went silent for longer than the ack wait (${ackWaitMs} ms)`;
      opts.log(`run ${spec.runId}: ${reason}`);
      await publishDurably(publisher, subjects.deadLetter(sweep), msg.data, opts);
      const failure: RunFailure = { reason, code: 'delivery_limit', epoch: 0, backend: opts.backend, trainerId: opts.trainerId };
      await publishOutcome(publisher, sweep, spec.runId, attempt, { failure }, opts);
      opts.metrics?.runRefused(spec.model, 'dead_lettered');
      msg.term();
      return;
    }
    const queuedMs = Date.now() - msg.timestampNanos / 1e6;
    opts.onTaken?.(queuedMs);
    opts.metrics?.runTaken(queuedMs);
    let ended: TrainerRunOutcome = 'failed';
    publishCore(opts.nc, subjects.progress(sweep, spec.runId), {
      runId: spec.runId,
      event: { $case: 'started', value: { trainerId: opts.trainerId, attempt } },
    });
    opts.log(`run ${spec.runId} of sweep ${sweep}: started (${spec.model}, delivery ${attempt})`);
    const abort = new AbortController();
    current = { key, abort };
    const heartbeat = setInterval(() => msg.working(), Math.max(100, Math.floor(ackWaitMs / 3)));
    try {
      const outcome = await executeRun(spec, {
        trainerId: opts.trainerId,
        backend: opts.backend,
        datasets: opts.datasets,
        signal: abort.signal,
        log: opts.log,
        onLoaded: () => opts.metrics?.trainingStarted(),
        onProgress: (progress) => {
          opts.metrics?.epochEnded(spec.model);
          publishCore(opts.nc, subjects.progress(sweep, spec.runId), { runId: spec.runId, event: { $case: 'progress', value: progress } });
        },
      });
      await publishOutcome(publisher, sweep, spec.runId, attempt, outcome, opts);
      ended = 'result' in outcome ? 'finished' : 'failed';
      // A plain ack, not a confirmed one: the outcome is already stored, so an
      // ack lost to a dropped connection only means the run is delivered again
      // after the ack wait and its second outcome dropped as late; waiting for
      // a confirmation would change nothing but cost a round trip per run.
      msg.ack();
      opts.log('result' in outcome ? `run ${spec.runId}: AUC ${outcome.result.auc.toFixed(4)}` : `run ${spec.runId}: failed (${outcome.failure.code}): ${outcome.failure.reason}`);
    } catch (err) {
      if (!(err instanceof InterruptedError)) throw err;
      if (opts.signal.aborted) {
        // Shutting down: hand the run back at once rather than after the ack wait.
        opts.log(`run ${spec.runId}: handed back (trainer shutting down)`);
        ended = 'handed_back';
        msg.nak();
      } else {
        opts.log(`run ${spec.runId}: cancelled`);
        ended = 'cancelled';
        msg.term();
      }
    } finally {
      clearInterval(heartbeat);
      current = undefined;
      opts.metrics?.runEnded(spec.model, ended);
    }
  }
}

/** Waits for the coordinator to have created the consumer (trainers may start first). */
async function bindConsumer(js: JetStreamClient, opts: NatsWorkerOptions): Promise<Consumer> {
  for (let tries = 0; ; tries++) {
    try {
      const consumer = await js.consumers.get(RUNS_STREAM, TRAINERS_CONSUMER);
      await consumer.info();
      return consumer;
    } catch (err) {
      if (opts.signal.aborted) throw new InterruptedError('stopped before the run queue existed');
      if (tries % 10 === 0) opts.log(`waiting for the run queue (${RUNS_STREAM}/${TRAINERS_CONSUMER}; a coordinator creates it): ${(err as Error).message}`);
      await sleep(1000);
    }
  }
}

function publishCore(nc: NatsConnection, subject: string, event: RunEvent): void {
  try {
    nc.publish(subject, RunEvent.encode(event).finish());
  } catch {
    // Progress is best effort; the outcome goes through JetStream.
  }
}

/** The outcome, stored in CELLSWEEP_EVENTS; one id per delivery so a retried publish is stored once. */
async function publishOutcome(publisher: StreamPublisher, sweep: string, runId: string, attempt: number, outcome: RunOutcome, opts: NatsWorkerOptions): Promise<void> {
  const event: RunEvent = 'result' in outcome ? { runId, event: { $case: 'result', value: outcome.result } } : { runId, event: { $case: 'failure', value: outcome.failure } };
  await publishDurably(publisher, subjects.events(sweep, runId), RunEvent.encode(event).finish(), opts, `${sweep}:${runId}:${attempt}`);
}

/**
 * Publishes to a stream until it is stored: while NATS is down the trainer
 * waits with its outcome (and keeps heartbeating the run) rather than drop it.
 */
async function publishDurably(publisher: StreamPublisher, subject: string, data: Uint8Array, opts: NatsWorkerOptions, msgID?: string): Promise<void> {
  await retryUntilDone(
    () => publisher.publish(subject, data, msgID === undefined ? {} : { msgID }),
    (err) => opts.log(`publish to ${subject} failed, retrying: ${err.message}`),
  );
}
