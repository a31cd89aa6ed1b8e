import { createInbox, headers as natsHeaders, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/nats-core';

/** A stream's acknowledgement of one stored message. */
export interface StoredAck {
  stream: string;
  seq: number;
  /** The message id was seen within the stream's duplicate window: stored once, earlier. */
  duplicate: boolean;
}

export interface StreamPublishOptions {
  /** JetStream de-duplication id (Nats-Msg-Id). */
  msgID?: string;
  headers?: MsgHdrs;
}

interface Pending {
  subject: string;
  deadline: number;
  resolve(ack: StoredAck): void;
  reject(err: Error): void;
}

/**
 * JetStream publishes whose acknowledgements are matched here: one wildcard
 * subscription on a private inbox for all of them and one timer for their
 * deadlines. nats.js's `js.publish` makes each publish a request of its own:
 * a timer, a mux entry and an Error object (it creates a RequestError even
 * for a request that succeeded). For the coordinator, which publishes one
 * run message per run, that was the largest client-side cost per run after
 * socket writes (BENCHMARKS.md, cluster dispatch).
 *
 * A publish that gets no acknowledgement in time fails with a timeout, as
 * js.publish does; callers retry with the same msgID, so a message that was
 * stored after all is not stored twice.
 */
export class StreamPublisher {
  private readonly prefix = createInbox();
  private readonly pending = new Map<string, Pending>();
  private readonly sub: Subscription;
  private readonly timer: NodeJS.Timeout;
  private next = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs = 5000,
  ) {
    this.sub = nc.subscribe(`${this.prefix}.*`, {
      callback: (err, msg) => {
        if (err === null) this.acknowledged(msg);
      },
    });
    this.timer = setInterval(() => this.expire(), Math.max(50, Math.min(1000, timeoutMs / 4))).unref();
    void nc.closed().then(() => this.close());
  }

  publish(subject: string, data: Uint8Array, opts: StreamPublishOptions = {}): Promise<StoredAck> {
    const token = (this.next++).toString(36);
    let h = opts.headers;
    if (opts.msgID !== undefined) {
      h ??= natsHeaders();
      h.set('Nats-Msg-Id', opts.msgID);
    }
    return new Promise<StoredAck>((resolve, reject) => {
      try {
        this.nc.publish(subject, data, { reply: `${this.prefix}.${token}`, ...(h === undefined ? {} : { headers: h }) });
      } catch (err) {
        reject(err as Error);
        return;
      }
      this.pending.set(token, { subject, deadline: Date.now() + this.timeoutMs, resolve, reject });
    });
  }

  /** Fails what is still waiting and stops listening. */
  close(): void {
    clearInterval(this.timer);
    this.sub.unsubscribe();
    for (const [token, p] of this.pending) {
      this.pending.delete(token);
      p.reject(new Error(`publish to ${p.subject}: the publisher closed (or its NATS connection did) before the stream acknowledged it`));
    }
  }

  private acknowledged(msg: Msg): void {
    const token = msg.subject.slice(this.prefix.length + 1);
    const p = this.pending.get(token);
    if (p === undefined) return;
    this.pending.delete(token);
    if (msg.headers?.code === 503) return p.reject(new Error(`publish to ${p.subject}: no responders (no stream takes this subject)`));
    try {
      const reply = JSON.parse(new TextDecoder().decode(msg.data)) as { stream?: string; seq?: number; duplicate?: boolean; error?: { code?: number; description?: string } };
      if (reply.error !== undefined) return p.reject(new Error(`publish to ${p.subject}: ${reply.error.description ?? 'error'} (${reply.error.code ?? '?'})`));
      if (typeof reply.stream !== 'string' || typeof reply.seq !== 'number') throw new Error('no stream or sequence in the reply');
      p.resolve({ stream: reply.stream, seq: reply.seq, duplicate: reply.duplicate === true });
    } catch (err) {
      p.reject(new Error(`publish to ${p.subject}: unreadable acknowledgement: ${(err as Error).message}`));
    }
  }

  private expire(): void {
    const now = Date.now();
    // Insertion order is deadline order (one timeout for all).
    for (const [token, p] of this.pending) {
      if (p.deadline > now) break;
      this.pending.delete(token);
      p.reject(new Error(`publish to ${p.subject}: timeout (no acknowledgement in ${this.timeoutMs} ms)`));
    }
  }
}
