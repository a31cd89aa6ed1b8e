import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { connect as plainConnect } from '@nats-io/transport-node';
import { connectNats } from '../../core/nats/connect.js';
import { NatsServer } from './nats-server.js';

let server: NatsServer;
let listener: NatsConnection;

before(async () => {
  server = await NatsServer.start();
  listener = await connectNats({ servers: [server.url], name: 'listener' });
});

after(async () => {
  await listener?.close();
  await server?.stop();
});

/** Socket writes (one syscall each: write or writev) whose bytes hold `marker`, counted across every socket of this process. */
function countWrites(marker: string): { stop(): number } {
  const proto = Socket.prototype as unknown as {
    _write(chunk: Buffer, ...rest: unknown[]): void;
    _writev(chunks: Array<{ chunk: Buffer }>, ...rest: unknown[]): void;
  };
  const [write, writev] = [proto._write, proto._writev];
  let writes = 0;
  proto._write = function (this: Socket, chunk, ...rest) {
    if (Buffer.from(chunk).includes(marker)) writes++;
    return write.call(this, chunk, ...rest);
  };
  proto._writev = function (this: Socket, chunks, ...rest) {
    if (chunks.some(({ chunk }) => Buffer.from(chunk).includes(marker))) writes++;
    return writev.call(this, chunks, ...rest);
  };
  return {
    stop: () => {
      [proto._write, proto._writev] = [write, writev];
      return writes;
    },
  };
}

/** Publishes `n` messages on `subject`, one per microtask, all in one turn of the event loop (as handlers of one socket read do). */
function publishBurst(nc: NatsConnection, subject: string, n: number): Promise<void> {
  return new Promise((resolve) =>
    setImmediate(async () => {
      for (let i = 0; i < n; i++) {
        nc.publish(subject, String(i));
        await Promise.resolve();
      }
      resolve();
    }),
  );
}

/** The listener's subscription to `subject` for `n` messages, in place on the server before it returns. */
async function listen(subject: string, n: number): Promise<Subscription> {
  const sub = listener.subscribe(subject, { max: n });
  await listener.flush();
  return sub;
}

/** Publishes `n` messages in one turn of the event loop and, in that same turn, calls `end` (a close or a drain). */
function publishThen(nc: NatsConnection, subject: string, n: number, end: () => Promise<void>): Promise<void> {
  return new Promise((resolve, reject) =>
    setImmediate(() => {
      for (let i = 0; i < n; i++) nc.publish(subject, String(i));
      end().then(resolve, reject);
    }),
  );
}

async function received(sub: Subscription): Promise<string[]> {
  const out: string[] = [];
  for await (const msg of sub) out.push(msg.string());
  return out;
}

const numbers = (n: number): string[] => Array.from({ length: n }, (_, i) => String(i));

test("a turn's commands leave in one socket write, and arrive complete and in order", async () => {
  const nc = await connectNats({ servers: [server.url], name: 'burst' });
  const sub = await listen('burst.batched', 200);
  const counter = countWrites('burst.batched');
  await publishBurst(nc, 'burst.batched', 200);
  await nc.flush();
  assert.equal(counter.stop(), 1, 'one write for the whole burst');
  assert.deepEqual(await received(sub), numbers(200));
  await nc.close();
});

test("the same burst through nats.js's own transport takes a write per microtask (what the counter sees)", async () => {
  const nc = await plainConnect({ servers: [server.url], name: 'plain' });
  const sub = await listen('burst.plain', 200);
  const counter = countWrites('burst.plain');
  await publishBurst(nc, 'burst.plain', 200);
  await nc.flush();
  assert.ok(counter.stop() > 100, 'one write per publish, or nearly');
  assert.deepEqual(await received(sub), numbers(200));
  await nc.close();
});

test('a connection closed in the turn it published still delivers what nats.js had flushed', async () => {
  // nats.js's close() sends what its microtask flush has handed to the socket
  // and drops the rest (its own transport too); here that flush only corks the
  // socket, so close must uncork it first.
  const nc = await connectNats({ servers: [server.url], name: 'closing' });
  const sub = await listen('burst.closing', 50);
  // A close after nats.js's microtask flush has run, still in the same turn.
  await publishThen(nc, 'burst.closing', 50, () =>
    Promise.resolve()
      .then(() => Promise.resolve())
      .then(() => nc.close()),
  );
  assert.deepEqual(await received(sub), numbers(50));
});

test('a connection drained in the turn it published delivers everything', async () => {
  const nc = await connectNats({ servers: [server.url], name: 'draining' });
  const sub = await listen('burst.draining', 50);
  await publishThen(nc, 'burst.draining', 50, () => nc.drain());
  assert.deepEqual(await received(sub), numbers(50));
});

test('requests and replies work across turns (the reply waits for the corked request to leave)', async () => {
  const nc = await connectNats({ servers: [server.url], name: 'requester' });
  const echo = listener.subscribe('burst.echo', { callback: (_err, msg) => void msg.respond(`re:${msg.string()}`) });
  await listener.flush();
  const replies = await Promise.all(numbers(20).map((i) => nc.request('burst.echo', i, { timeout: 2000 })));
  assert.deepEqual(
    replies.map((m) => m.string()),
    numbers(20).map((i) => `re:${i}`),
  );
  echo.unsubscribe();
  await nc.close();
});
