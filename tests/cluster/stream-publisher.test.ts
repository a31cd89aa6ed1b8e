import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RetentionPolicy, StorageType, jetstreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/nats-core';
import { StreamPublisher } from '../../core/nats/stream-publisher.js';
import { NatsServer } from './nats-server.js';
import { connectTo } from './cluster-helpers.js';

let server: NatsServer;
let nc: NatsConnection;

before(async () => {
  server = await NatsServer.start();
  nc = await connectTo(server.url);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'PUBTEST', subjects: ['pubtest.>'], retention: RetentionPolicy.Limits, storage: StorageType.File });
});

after(async () => {
  await nc?.close();
  await server?.stop();
});

test('a stored message is acknowledged with its stream and sequence; a repeated msgID is stored once', async () => {
  const publisher = new StreamPublisher(nc);
  const data = new TextEncoder().encode('x');
  const [a, b] = await Promise.all([publisher.publish('pubtest.a', data, { msgID: 'm1' }), publisher.publish('pubtest.b', data, { msgID: 'm2' })]);
  assert.equal(a.stream, 'PUBTEST');
  assert.deepEqual(new Set([a.seq, b.seq]).size, 2);
  assert.equal(a.duplicate || b.duplicate, false);
  const again = await publisher.publish('pubtest.a', data, { msgID: 'm1' });
  assert.deepEqual(again, { stream: 'PUBTEST', seq: a.seq, duplicate: true });
  const jsm = await jetstreamManager(nc);
  assert.equal((await jsm.streams.info('PUBTEST')).state.messages, 2);
  const stored = await jsm.streams.getMessage('PUBTEST', { seq: a.seq });
  assert.equal(stored?.header?.get('Nats-Msg-Id'), 'm1');
  publisher.close();
});

test('errors name the subject: no stream, a failed expectation, no acknowledgement in time, a closed publisher', async () => {
  const publisher = new StreamPublisher(nc, 300);
  const data = new TextEncoder().encode('x');
  await assert.rejects(publisher.publish('nostream.here', data), /publish to nostream\.here: no responders/);
  const h = natsHeaders();
  h.set('Nats-Expected-Last-Subject-Sequence', '999999');
  await assert.rejects(publisher.publish('pubtest.c', data, { headers: h }), /publish to pubtest\.c: wrong last sequence/);
  // A core subscriber that never answers: the publish is delivered but not stored, and times out.
  const silent = nc.subscribe('silent.subject', { callback: () => undefined });
  await assert.rejects(publisher.publish('silent.subject', data), /publish to silent\.subject: timeout \(no acknowledgement in 300 ms\)/);
  silent.unsubscribe();
  const waiting = publisher.publish('silent.subject', data);
  publisher.close();
  await assert.rejects(waiting, /publish to silent\.subject: the publisher closed .* before the stream acknowledged it/);
  const jsm = await jetstreamManager(nc);
  assert.equal((await jsm.streams.info('PUBTEST')).state.messages, 2, 'nothing failed was stored');
});
