import { createInbox, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/nats-core';

/** How long past a pull's expiry the trainer waits for the server's answer before it pulls again (a lost connection sends none). */
const ANSWER_GRACE_MS = 5000;

/**
 * Takes one message at a time from a durable pull consumer, over one
 * subscription that lives as long as the trainer.
 *
 * Written by hand because nats.js has no such pull: `consumer.next()` is a
 * fetch of one message, and each fetch subscribes, pulls, sets up its own
 * iterator and heartbeat timer, and unsubscribes (a subscribe and an
 * unsubscribe per run, on the trainer and on nats-server; BENCHMARKS.md,
 * cluster dispatch). `consumer.consume()` keeps its subscription but pulls
 * again as soon as a message arrives, so a trainer would hold a second run
 * while it trains the first, and that run's ack wait would run out.
 * nats.js has an open request for explicit pulls (nats-io/nats.js#218).
 *
 * This sends JetStream's pull request ($JS.API.CONSUMER.MSG.NEXT, batch 1)
 * itself, one at a time, each with a reply subject of its own under one
 * wildcard subscription. A request is over when a message arrives, when the
 * server says it expired (status 408), or when no answer came within its
 * expiry plus a grace period (the connection was lost; the server has
 * expired it by then). A status names its request by its subject, so one
 * for a request that is over is ignored. A message does not (it keeps the
 * subject it was stored under), so a message that arrives while no pull is
 * waiting is handed back with a nak: the trainer never holds two runs.
 */
export class RunPuller {
  /** The subject prefix of this puller's reply subjects (`<prefix>.<pull number>`). */
  readonly prefix = createInbox();
  private readonly sub: Subscription;
  private readonly pullSubject: string;
  private next = 0;
  private waiting: { token: string; settle(result: Error | Msg | null): void } | undefined;

  constructor(
    private readonly nc: NatsConnection,
    stream: string,
    consumer: string,
    private readonly graceMs = ANSWER_GRACE_MS,
  ) {
    this.pullSubject = `$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`;
    this.sub = nc.subscribe(`${this.prefix}.*`, {
      callback: (err, msg) => {
        if (err === null) this.answered(msg);
      },
    });
    void this.sub.closed.then(() => this.waiting?.settle(new Error('the connection to NATS was closed')));
  }

  /** The next message, or null when none came within `expiresMs`. Rejects on a server error (409, 503) or a closed connection. */
  pull(expiresMs: number): Promise<RunDelivery | null> {
    if (this.waiting !== undefined) return Promise.reject(new Error('RunPuller.pull: the previous pull has not ended'));
    if (this.sub.isClosed()) return Promise.reject(new Error('the connection to NATS was closed'));
    const token = (this.next++).toString(36);
    return new Promise<RunDelivery | null>((resolve, reject) => {
      const timer = setTimeout(() => this.waiting?.settle(null), expiresMs + this.graceMs);
      this.waiting = {
        token,
        settle: (result) => {
          clearTimeout(timer);
          this.waiting = undefined;
          if (result instanceof Error) return reject(result);
          try {
            resolve(result === null ? null : new RunDelivery(result));
          } catch (err) {
            reject(err as Error);
          }
        },
      };
      try {
        this.nc.publish(this.pullSubject, JSON.stringify({ batch: 1, expires: expiresMs * 1e6 }), { reply: `${this.prefix}.${token}` });
      } catch (err) {
        this.waiting.settle(err as Error);
      }
    });
  }

  close(): void {
    this.sub.unsubscribe();
  }

  private answered(msg: Msg): void {
    if (msg.reply?.startsWith('$JS.ACK.') === true) {
      // An answer to a pull given up on, arriving while the trainer trains another run.
      if (this.waiting === undefined) msg.respond(NAK);
      else this.waiting.settle(msg);
      return;
    }
    if (this.waiting?.token !== msg.subject.slice(this.prefix.length + 1)) return;
    const code = msg.headers?.code ?? 0;
    // 404 (no messages) and 408 (expired) end a pull empty; 100 is an idle heartbeat, which these pulls do not ask for.
    if (code === 404 || code === 408) return this.waiting.settle(null);
    if (code === 100) return;
    this.waiting.settle(new Error(`pull from ${this.pullSubject.split('.').slice(-2).join('/')}: ${code} ${msg.headers?.description ?? ''}`.trimEnd()));
  }
}

const encoder = new TextEncoder();
const ACK = encoder.encode('+ACK');
const NAK = encoder.encode('-NAK');
// JetStream's in-progress ack is spelled +WPI.
const WORKING = encoder.encode('+WPI');
const TERM = encoder.encode('+TERM');

/**
 * A message from a JetStream consumer, as its ack subject describes it:
 * $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<ns>.<pending>,
 * or the newer form with a domain and an account hash after ACK (and a
 * random token at the end). Parsed here because nats.js's own parser
 * (`parseInfo` in @nats-io/jetstream's jsmsg) is not exported by the package.
 */
export class RunDelivery {
  readonly data: Uint8Array;
  readonly headers: MsgHdrs | undefined;
  /** How often the server has delivered this message, this delivery included. */
  readonly deliveryCount: number;
  readonly streamSequence: number;
  /** When the message was stored, in ns since the epoch. */
  readonly timestampNanos: number;
  private acked = false;

  constructor(private readonly msg: Msg) {
    const tokens = (msg.reply ?? '').split('.');
    if (tokens.length === 9) tokens.splice(2, 0, '_', '');
    if (tokens.length < 11 || tokens[0] !== '$JS' || tokens[1] !== 'ACK') throw new Error(`not a JetStream delivery: reply subject '${msg.reply ?? ''}'`);
    this.data = msg.data;
    this.headers = msg.headers;
    this.deliveryCount = Number(tokens[6]);
    this.streamSequence = Number(tokens[7]);
    this.timestampNanos = Number(tokens[9]);
  }

  /** Done: the work queue removes the message. */
  ack(): void {
    this.settle(ACK);
  }

  /** Hand back for another delivery now. */
  nak(): void {
    this.settle(NAK);
  }

  /**
   * Never deliver again. A bare +TERM: nats-server 2.9 (Debian's) ignores a
   * +TERM that carries a reason, as nats.js's `term(reason)` sends it, and
   * the message would be delivered again after its ack wait, forever (the
   * runs consumer has no delivery limit). The trainer logs the reason.
   */
  term(): void {
    this.settle(TERM);
  }

  /** Still working on it: restarts the ack wait. */
  working(): void {
    if (!this.acked) this.msg.respond(WORKING);
  }

  private settle(payload: Uint8Array): void {
    if (this.acked) return;
    this.acked = true;
    this.msg.respond(payload);
  }
}
