import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/nats-core';
import { JetStreamJournal } from '../../coordinator/journal/jetstream-journal.js';
import { tempDir, waitFor } from '../e2e/helpers.js';
import { connectTo, journalRecords, outcomesOnce, sleepSweepYaml, startCoordinator, TrainerPool } from './cluster-helpers.js';
import { NatsServer } from './nats-server.js';

let nats: NatsServer;
let nc: NatsConnection;
let trainers: TrainerPool;

before(async () => {
  nats = await NatsServer.start();
  nc = await connectTo(nats.url);
  trainers = new TrainerPool(nats.url, 'batch-t', 3, false);
});

after(async () => {
  await trainers.stop();
  await nc.close();
  await nats.stop();
});

interface BatchEnded {
  event: 'batch_ended';
  sweepId: string;
  status: string;
  best: Array<{ study: string; trial: number; auc: number }>;
}

function batchEnded(out: string): BatchEnded {
  const line = out.split('\n').find((l) => l.includes('"batch_ended"'));
  assert.ok(line !== undefined, `no batch_ended line in:\n${out}`);
  return JSON.parse(line) as BatchEnded;
}

async function batchFile(name: string, trials: number, seconds: number): Promise<string> {
  const { yaml } = await sleepSweepYaml({ name, trials, seeds: [1, 2], seconds, parallel: 3 });
  const file = join(tempDir('batch'), 'sweep.yaml');
  writeFileSync(file, yaml);
  return file;
}

test('--batch runs one sweep and exits 0 with its best trials; run again, it finds the finished sweep instead of starting another', { timeout: 120_000 }, async () => {
  const file = await batchFile('batch-once', 3, 0.2);
  const first = await startCoordinator(nats.url, { extra: ['--batch', file] });
  const code = await first.exited;
  assert.deepEqual(code, { code: 0, signal: null }, first.log());
  const ended = batchEnded(first.out());
  assert.equal(ended.status, 'complete');
  assert.equal(ended.best.length, 1);
  assert.equal(ended.best[0]!.study, 's1');
  assert.ok(ended.best[0]!.auc > 0 && ended.best[0]!.auc <= 1);
  assert.equal(outcomesOnce(await journalRecords(nc, ended.sweepId)).size, 6);

  const again = await startCoordinator(nats.url, { extra: ['--batch', file] });
  assert.deepEqual(await again.exited, { code: 0, signal: null }, again.log());
  assert.equal(batchEnded(again.out()).sweepId, ended.sweepId, 'the same sweep, not a new one');
  assert.match(again.log(), /found in the journal \(complete\)/);
  const ids = await JetStreamJournal.sweeps(nc);
  assert.equal(ids.filter((id) => id === ended.sweepId).length, 1);
});

test('a batch coordinator killed -9 and started again (a Job pod restarted) continues the same sweep; no run is counted twice', { timeout: 180_000 }, async () => {
  const file = await batchFile('batch-killed', 6, 0.8);
  const first = await startCoordinator(nats.url, { extra: ['--batch', file] });
  const sweepId = await waitFor('the batch sweep to be created', () => /batch sweep batch-killed \((\S+)\): created/.exec(first.log())?.[1], 30_000);
  // Let some runs finish, then kill it mid-sweep.
  for (let i = 0; i < 100; i++) {
    if (outcomesOnce(await journalRecords(nc, sweepId)).size >= 3) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  first.child.kill('SIGKILL');
  await first.exited;
  const done = outcomesOnce(await journalRecords(nc, sweepId)).size;
  assert.ok(done >= 3 && done < 12, `killed with ${done} of 12 runs done`);

  const second = await startCoordinator(nats.url, { extra: ['--batch', file] });
  assert.deepEqual(await second.exited, { code: 0, signal: null }, second.log());
  const ended = batchEnded(second.out());
  assert.equal(ended.sweepId, sweepId, 'the restarted Job continued the same sweep');
  assert.equal(ended.status, 'complete');
  assert.equal(outcomesOnce(await journalRecords(nc, sweepId)).size, 12);
});

test('SIGTERM stops a batch coordinator with 143 (not complete: the Job runs it again), and a bad sweep file exits 2 naming it', { timeout: 120_000 }, async () => {
  const file = await batchFile('batch-term', 20, 1);
  const coordinator = await startCoordinator(nats.url, { extra: ['--batch', file] });
  await waitFor('the batch sweep to be created', () => (/batch sweep batch-term \(\S+\): created/.test(coordinator.log()) ? true : undefined), 30_000);
  coordinator.child.kill('SIGTERM');
  assert.deepEqual(await coordinator.exited, { code: 143, signal: null }, coordinator.log());

  const bad = join(tempDir('batch-bad'), 'sweep.yaml');
  writeFileSync(bad, 'name: x\nstudies: []\n');
  await assert.rejects(startCoordinator(nats.url, { extra: ['--batch', bad] }), (err: Error) => /exited \(2\)/.test(err.message) && /sweep\.yaml/.test(err.message) && /studies/.test(err.message));
});
