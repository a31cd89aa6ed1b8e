import { AckPolicy, DeliverPolicy, JetStreamApiCodes, JetStreamApiError, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import {
  DEAD_LETTER_STREAM,
  EVENTS_STREAM,
  JOURNAL_STREAM,
  RUNS_STREAM,
  TRAINERS_CONSUMER,
  subjects,
} from '../../core/nats/topology.js';
import type { QueueStats } from '../telemetry/coordinator-metrics.js';

export interface TopologyOptions {
  /** How long a trainer may go without a heartbeat before its run is delivered to another trainer. */
  ackWaitMs: number;
  /** Stream replicas (1 on a single server; 3 in a NATS cluster). */
  replicas?: number;
  /** How long results are kept for a coordinator that restarts. */
  eventsMaxAgeMs?: number;
}

/**
 * Creates (or brings up to date) the streams and the trainers' consumer.
 * The coordinator owns the topology; trainers only bind to it, so their
 * NATS user needs no stream-management rights (docs/cluster.md).
 */
export async function ensureTopology(jsm: JetStreamManager, opts: TopologyOptions): Promise<void> {
  const replicas = opts.replicas ?? 1;
  const day = 24 * 3600 * 1000;
  await ensureStream(jsm, {
    name: RUNS_STREAM,
    subjects: [subjects.allRuns],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    num_replicas: replicas,
    duplicate_window: nanos(2 * 60 * 1000),
  });
  await ensureStream(jsm, {
    name: EVENTS_STREAM,
    subjects: [subjects.allEvents],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: replicas,
    max_age: nanos(opts.eventsMaxAgeMs ?? 7 * day),
    duplicate_window: nanos(2 * 60 * 1000),
  });
  await ensureStream(jsm, {
    name: DEAD_LETTER_STREAM,
    subjects: [subjects.allDeadLetters],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: replicas,
    max_age: nanos(30 * day),
  });
  await ensureStream(jsm, {
    name: JOURNAL_STREAM,
    subjects: [subjects.allJournals],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: replicas,
  });
  const consumer = {
    durable_name: TRAINERS_CONSUMER,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(opts.ackWaitMs),
    // Trainers enforce each run's delivery limit themselves (the run's
    // Cellsweep-Max-Deliveries header), so that the last delivery can be
    // turned into a dead letter and a failure instead of vanishing.
    max_deliver: -1,
    filter_subject: subjects.allRuns,
  };
  const existing = await unlessNotFound(jsm.consumers.info(RUNS_STREAM, TRAINERS_CONSUMER));
  if (existing === undefined) await jsm.consumers.add(RUNS_STREAM, consumer);
  else if (existing.config.ack_wait !== consumer.ack_wait) await jsm.consumers.update(RUNS_STREAM, TRAINERS_CONSUMER, { ack_wait: consumer.ack_wait });
}

async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  const existing = await unlessNotFound(jsm.streams.info(config.name));
  if (existing === undefined) await jsm.streams.add(config);
  else await jsm.streams.update(config.name, { ...existing.config, ...config });
}

/** undefined when JetStream answers that the stream or consumer does not exist; any other failure (no JetStream, a timeout) is thrown, not taken for "absent". */
async function unlessNotFound<T>(lookup: Promise<T>): Promise<T | undefined> {
  try {
    return await lookup;
  } catch (err) {
    if (err instanceof JetStreamApiError && (err.code === JetStreamApiCodes.StreamNotFound || err.code === JetStreamApiCodes.ConsumerNotFound)) return undefined;
    throw err;
  }
}

/** The work queue as Prometheus sees it (coordinator/telemetry): two JetStream API requests. */
export async function readQueueStats(jsm: JetStreamManager): Promise<QueueStats> {
  const [consumer, deadLetters] = await Promise.all([jsm.consumers.info(RUNS_STREAM, TRAINERS_CONSUMER), jsm.streams.info(DEAD_LETTER_STREAM)]);
  return {
    pending: consumer.num_pending,
    inProgress: consumer.num_ack_pending,
    redelivered: consumer.num_redelivered,
    waitingPulls: consumer.num_waiting,
    deadLetters: deadLetters.state.messages,
  };
}
