import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { AckPolicy, RetentionPolicy, StorageType, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connectNats } from '../../core/nats/connect.js';
import { RunPuller } from '../../trainer/worker/run-puller.js';
import { NatsServer } from './nats-server.js';

let server: NatsServer;
let nc: NatsConnection;
let jsm: JetStreamManager;

before(async () => {
  server = await NatsServer.start();
  nc = await connectNats({ servers: [server.url], name: 'puller-test' });
  jsm = await jetstreamManager(nc);
});

after(async () => {
  await nc?.close();
  await server?.stop();
});

/** A work-queue stream holding `messages` ("m0", "m1", ...) and its durable pull consumer, as the runs queue is set up. */
async function queue(name: string, messages: number, ackWaitMs = 30_000): Promise<void> {
  await jsm.streams.add({ name, subjects: [`${name}.>`], retention: RetentionPolicy.Workqueue, storage: StorageType.File });
  await jsm.consumers.add(name, { durable_name: 'w', ack_policy: AckPolicy.Explicit, ack_wait: ackWaitMs * 1e6 });
  const js = jetstream(nc);
  for (let i = 0; i < messages; i++) await js.publish(`${name}.x`, `m${i}`);
}

async function held(name: string): Promise<{ ackPending: number; pending: number }> {
  const info = await jsm.consumers.info(name, 'w');
  return { ackPending: info.num_ack_pending, pending: info.num_pending };
}

/** The server applies acks on its own time: wait (up to 5 s) for the consumer to show `expected`. */
async function heldEventually(name: string, expected: { ackPending: number; pending: number }): Promise<void> {
  for (let tries = 0; ; tries++) {
    const now = await held(name);
    if ((now.ackPending === expected.ackPending && now.pending === expected.pending) || tries === 50) return assert.deepEqual(now, expected);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('pulls one message at a time: the next stays in the queue until asked for, and an acked one is gone', async () => {
  await queue('ONE', 3);
  const puller = new RunPuller(nc, 'ONE', 'w');
  try {
    const first = await puller.pull(1000);
    assert.equal(new TextDecoder().decode(first!.data), 'm0');
    assert.equal(first!.deliveryCount, 1);
    assert.equal(first!.streamSequence, 1);
    assert.ok(Math.abs(first!.timestampNanos / 1e6 - Date.now()) < 60_000, 'stored a moment ago');
    assert.deepEqual(await held('ONE'), { ackPending: 1, pending: 2 }, 'no second message taken while the first is held');
    first!.ack();
    const second = await puller.pull(1000);
    assert.equal(new TextDecoder().decode(second!.data), 'm1');
    second!.ack();
    await heldEventually('ONE', { ackPending: 0, pending: 1 });
    assert.equal((await jsm.streams.info('ONE')).state.messages, 1, 'the work queue removed both acked messages');
  } finally {
    puller.close();
  }
});

test('an empty queue: the pull ends with null when it expires, and the next pull still gets what arrives', async () => {
  await queue('EMPTY', 0);
  const puller = new RunPuller(nc, 'EMPTY', 'w');
  try {
    const t0 = performance.now();
    assert.equal(await puller.pull(200), null);
    assert.ok(performance.now() - t0 >= 150, 'ended by the server\'s expiry, not at once');
    const waiting = puller.pull(5000);
    await jetstream(nc).publish('EMPTY.x', 'late');
    assert.equal(new TextDecoder().decode((await waiting)!.data), 'late');
  } finally {
    puller.close();
  }
});

test('nak hands a message back for another delivery; term removes it for good; working keeps it past its ack wait', async () => {
  await queue('ACKS', 1, 1000);
  const puller = new RunPuller(nc, 'ACKS', 'w');
  const rival = new RunPuller(nc, 'ACKS', 'w');
  try {
    const m = await puller.pull(1000);
    m!.nak();
    const again = await puller.pull(1000);
    assert.equal(new TextDecoder().decode(again!.data), 'm0');
    assert.equal(again!.deliveryCount, 2);
    again!.term();
    await heldEventually('ACKS', { ackPending: 0, pending: 0 });
    assert.equal(await puller.pull(300), null, 'a terminated message is not delivered again');
    await jetstream(nc).publish('ACKS.x', 'm1');
    const held1 = await puller.pull(1000);
    // Heartbeats every 300 ms while a rival pulls for 1.8 s, past the 1 s ack wait: the rival gets nothing.
    const heartbeat = setInterval(() => held1!.working(), 300);
    try {
      assert.equal(await rival.pull(1800), null);
    } finally {
      clearInterval(heartbeat);
    }
    held1!.ack();
    held1!.nak();
    await heldEventually('ACKS', { ackPending: 0, pending: 0 });
    assert.equal(await rival.pull(1500), null, 'a nak after the ack changes nothing');
  } finally {
    puller.close();
    rival.close();
  }
});

test('a message that arrives while no pull waits is handed back at once, so a trainer never holds two', async () => {
  await queue('LATE', 1);
  const puller = new RunPuller(nc, 'LATE', 'w');
  try {
    // A pull request of an earlier, given-up pull, as the server still holds it after a lost connection.
    nc.publish('$JS.API.CONSUMER.MSG.NEXT.LATE.w', JSON.stringify({ batch: 1 }), { reply: `${puller.prefix}.given-up` });
    await heldEventually('LATE', { ackPending: 1, pending: 0 });
    // Held and never acked, m0 would come back only after the 30 s ack wait.
    const m = await puller.pull(2000);
    assert.equal(new TextDecoder().decode(m!.data), 'm0');
    assert.equal(m!.deliveryCount, 2);
    m!.ack();
  } finally {
    puller.close();
  }
});

test('a pull the server cannot answer is given up after its expiry and the grace period', async () => {
  await queue('FROZEN', 1);
  const puller = new RunPuller(nc, 'FROZEN', 'w', 100);
  try {
    await server.freeze();
    const t0 = performance.now();
    assert.equal(await puller.pull(100), null);
    assert.ok(performance.now() - t0 >= 190, 'waited for the expiry and the grace period');
    const next = puller.pull(5000);
    server.thaw();
    // Whichever request the server answers, the trainer ends up holding m0 alone.
    assert.equal(new TextDecoder().decode((await next)!.data), 'm0');
    await heldEventually('FROZEN', { ackPending: 1, pending: 0 });
  } finally {
    server.thaw();
    puller.close();
  }
});

test('a server error ends the pull with its status, and one pull at a time is enforced', async () => {
  await queue('GONE', 0);
  const puller = new RunPuller(nc, 'GONE', 'w');
  try {
    const waiting = assert.rejects(puller.pull(5000), /pull from GONE\/w: 409 Consumer Deleted/);
    await assert.rejects(puller.pull(100), /the previous pull has not ended/);
    await jsm.consumers.delete('GONE', 'w');
    await waiting;
  } finally {
    puller.close();
  }
});

test('a pull waiting when the connection closes ends with an error', async () => {
  await queue('CLOSE', 0);
  const own = await connectNats({ servers: [server.url], name: 'closing' });
  const puller = new RunPuller(own, 'CLOSE', 'w');
  const waiting = puller.pull(5000);
  await own.close();
  await assert.rejects(waiting, /the connection to NATS was closed/);
  await assert.rejects(puller.pull(100), /the connection to NATS was closed/);
});
