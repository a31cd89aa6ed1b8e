import { DeliverPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders, nuid, type NatsConnection } from '@nats-io/nats-core';
import { JournalError } from '../../core/errors.js';
import { retryUntilDone } from '../../core/nats/retry.js';
import { StreamPublisher } from '../../core/nats/stream-publisher.js';
import { JOURNAL_STREAM, checkSweepToken, subjects } from '../../core/nats/topology.js';
import type { JournalBackend } from './backend.js';
import type { JournalRecord } from './records.js';

export interface JetStreamJournalOptions {
  /** False when resuming: a sweep without a journal is then an error. */
  create: boolean;
  /** How long an append may keep failing (NATS down) before the journal gives up. */
  patienceMs?: number;
}

/**
 * A sweep's journal in cluster mode: JSON-lines messages on the subject
 * cellsweep.journal.<sweep> of the file-stored CELLSWEEP_JOURNAL stream
 * (replicated when the stream has replicas).
 *
 * Group commit: appends that arrive while a publish is in flight are sent
 * together as the next message, so a sweep with many runs in flight pays one
 * round trip per batch, not per record. Each append still resolves only once
 * the message holding it is stored.
 *
 * One writer at a time, enforced by the server: every append expects the
 * subject's last sequence to be the one this writer saw last, so a second
 * coordinator writing the same sweep fails instead of interleaving records.
 * An append that timed out (NATS restarting) is retried; if the first try
 * did land, the subject's last message carries this append's id and is
 * taken as the acknowledgement, so no record is written twice.
 */
interface PendingAppend<R> {
  records: readonly R[];
  resolve(): void;
  reject(err: Error): void;
}

/** A batch stays well under NATS's default 1 MiB payload limit. */
const MAX_BATCH_BYTES = 512 * 1024;

export class JetStreamJournal<R extends { op: string } = JournalRecord> implements JournalBackend<R> {
  private readonly pending: Array<PendingAppend<R>> = [];
  private flushing: Promise<void> | undefined;
  private broken: Error | undefined;
  private closed = false;

  private constructor(
    private readonly publisher: StreamPublisher,
    private readonly jsm: JetStreamManager,
    readonly sweepId: string,
    private readonly records: R[],
    private lastSeq: number,
    private readonly patienceMs: number,
  ) {}

  static async open<R extends { op: string } = JournalRecord>(nc: NatsConnection, sweepId: string, opts: JetStreamJournalOptions): Promise<JetStreamJournal<R>> {
    checkSweepToken(sweepId);
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const subject = subjects.journal(sweepId);
    // null when the subject has no message; any other failure (NATS unreachable) is not taken for "no journal".
    const last = await jsm.streams.getMessage(JOURNAL_STREAM, { last_by_subj: subject });
    if (last === null && !opts.create) throw new JournalError(`no journal for sweep ${sweepId} in stream ${JOURNAL_STREAM}`, { field: 'sweep' });
    if (last !== null && opts.create) throw new JournalError(`sweep ${sweepId} already has a journal`, { field: 'sweep' });
    const records: R[] = [];
    if (last !== null) {
      const consumer = await js.consumers.get(JOURNAL_STREAM, { filter_subjects: subject, deliver_policy: DeliverPolicy.All });
      const messages = await consumer.consume();
      let unreadable: JournalError | undefined;
      // Leave the loop before closing: close() inside it waits for the loop to end, which never comes.
      reading: for await (const msg of messages) {
        for (const [i, line] of msg.string().split('\n').entries()) {
          if (line === '') continue;
          try {
            records.push(JSON.parse(line) as R);
          } catch (err) {
            unreadable = new JournalError(`line ${i + 1} of the message at stream sequence ${msg.seq} is not JSON: ${(err as Error).message}`, {
              file: `${JOURNAL_STREAM}:${subject}`,
            });
            break reading;
          }
        }
        if (msg.seq >= last.seq) break;
      }
      await messages.close();
      if (unreadable !== undefined) throw unreadable;
    }
    return new JetStreamJournal<R>(new StreamPublisher(nc), jsm, sweepId, records, last?.seq ?? 0, opts.patienceMs ?? 60_000);
  }

  /** The ids of every sweep that has a journal in the stream. */
  static async sweeps(nc: NatsConnection): Promise<string[]> {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(JOURNAL_STREAM, { subjects_filter: subjects.allJournals });
    return Object.keys(info.state.subjects ?? {}).map((s) => s.slice(subjects.journal('').length));
  }

  async read(from = 0): Promise<R[]> {
    return this.records.slice(from);
  }

  append(records: readonly R[]): Promise<void> {
    if (this.closed) return Promise.reject(new JournalError('the journal is closed'));
    if (this.broken !== undefined) return Promise.reject(this.broken);
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ records, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.flushing;
    this.publisher.close();
  }

  /** Publishes what is pending, batch after batch, until nothing is. */
  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch: Array<PendingAppend<R>> = [];
        let body = '';
        while (this.pending.length > 0) {
          const next = this.pending[0]!;
          const lines = next.records.map((r) => JSON.stringify(r) + '\n').join('');
          if (batch.length > 0 && body.length + lines.length > MAX_BATCH_BYTES) break;
          batch.push(this.pending.shift()!);
          body += lines;
        }
        try {
          if (this.broken !== undefined) throw this.broken;
          await this.publish(new TextEncoder().encode(body));
          for (const append of batch) {
            this.records.push(...append.records);
            append.resolve();
          }
        } catch (err) {
          for (const append of batch) append.reject(err as Error);
        }
      }
    } finally {
      // Cleared in the same turn as the check that found nothing pending. Cleared any later
      // (a `.finally` on this promise, a wrapper's await), an append made by a caller resuming
      // from the last batch's resolve saw a flush still running and was never published.
      this.flushing = undefined;
    }
  }

  private async publish(data: Uint8Array): Promise<void> {
    const subject = subjects.journal(this.sweepId);
    const msgID = nuid.next();
    const deadline = Date.now() + this.patienceMs;
    const broken = (message: string): JournalError => (this.broken = new JournalError(message, { file: `${JOURNAL_STREAM}:${subject}` }));
    await retryUntilDone(
      async () => {
        // The server stores the batch only if the subject's last sequence is still ours: one writer per journal.
        const h = natsHeaders();
        h.set('Nats-Expected-Last-Subject-Sequence', String(this.lastSeq));
        try {
          this.lastSeq = (await this.publisher.publish(subject, data, { msgID, headers: h })).seq;
        } catch (err) {
          const message = (err as Error).message;
          if (!/wrong last sequence/i.test(message)) throw err;
          // Our own earlier try may have landed (its acknowledgement lost): then the append is done.
          // A failed lookup throws and the append is tried again; it is no proof of another writer.
          const last = await this.jsm.streams.getMessage(JOURNAL_STREAM, { last_by_subj: subject });
          if (last === null || last.header?.get('Nats-Msg-Id') !== msgID) {
            throw broken(`another coordinator is writing the journal of sweep ${this.sweepId} (${message}); this one stops writing`);
          }
          this.lastSeq = last.seq;
        }
      },
      (err) => {
        if (err === this.broken) throw err;
        if (Date.now() > deadline) throw broken(`cannot append to the journal of sweep ${this.sweepId}: ${err.message}`);
      },
    );
  }
}
