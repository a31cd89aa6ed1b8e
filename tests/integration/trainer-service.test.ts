import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Server } from '@grpc/grpc-js';
import type { RunSpec } from '../../proto/gen/cellsweep/v1/run.js';
import { toWireParams, type Params } from '../../core/params.js';
import { TrainerEndpoint, TransportError } from '../../coordinator/dispatch/trainer-client.js';
import { selectBackend } from '../../trainer/backend/index.js';
import { loadPrepared } from '../../trainer/data/index.js';
import { DatasetCache } from '../../trainer/worker/dataset-cache.js';
import { startTrainerServer } from '../../trainer/worker/trainer-server.js';
import { tempDir, tinyDataset, waitFor } from '../e2e/helpers.js';

/** The gRPC Trainer service over a real loopback server and the coordinator's real client. */
let server: Server;
let endpoint: TrainerEndpoint;
let dataset: string;
const logs: string[] = [];

before(async () => {
  const backend = await selectBackend('wasm', { log: () => undefined });
  dataset = await tinyDataset(join(tempDir('svc'), 'd'), 'data6');
  const started = await startTrainerServer({
    host: '127.0.0.1',
    port: 0,
    trainerId: 'test-trainer',
    backend: backend.name,
    version: 'test',
    datasets: new DatasetCache(loadPrepared),
    log: (line) => logs.push(line),
  });
  server = started.server;
  endpoint = new TrainerEndpoint(started.address);
});

after(() => {
  endpoint.close();
  server.forceShutdown();
});

function spec(params: Params, over: Partial<RunSpec> = {}): RunSpec {
  return { runId: 's/0/42', study: 's', trial: 0, seed: 42, model: 'bulk-mlp', params: toWireParams(params), dataset, reportEpochMetrics: true, interpret: false, ...over };
}

test('a run streams one progress event per epoch, then its result with the backend', async () => {
  const progress: number[] = [];
  const outcome = await endpoint.train(spec({ epochs: 3 }), new AbortController().signal, (p) => {
    progress.push(p.epoch);
    assert.ok(p.auc !== undefined && p.auc >= 0 && p.auc <= 1);
    assert.ok(Number.isFinite(p.losses.bce));
  });
  assert.deepEqual(progress, [1, 2, 3]);
  assert.ok(outcome.result !== undefined, JSON.stringify(outcome));
  assert.equal(outcome.result.backend, 'wasm');
  assert.equal(outcome.result.trainerId, 'test-trainer');
  assert.equal(outcome.result.epochs, 3);
  assert.equal(outcome.result.cells, 66);
});

test('failures come back as outcomes with reasons, and the trainer keeps serving', async () => {
  const missing = await endpoint.train(spec({}, { dataset: '/nonexistent/dataset' }), new AbortController().signal, () => undefined);
  assert.equal(missing.failure?.code, 'dataset');
  assert.match(missing.failure!.reason, /\/nonexistent\/dataset/);
  const badConfig = await endpoint.train(spec({ depth: 9 }), new AbortController().signal, () => undefined);
  assert.equal(badConfig.failure?.code, 'bad_config');
  assert.match(badConfig.failure!.reason, /field 'depth': expected an integer <= 6, but got 9/);
  const unknownModel = await endpoint.train(spec({}, { model: 'nope' }), new AbortController().signal, () => undefined);
  assert.equal(unknownModel.failure?.code, 'bad_config');
  const ok = await endpoint.train(spec({ epochs: 1 }), new AbortController().signal, () => undefined);
  assert.ok(ok.result !== undefined);
});

test('one run at a time: a second concurrent run is refused with RESOURCE_EXHAUSTED', async () => {
  // The second call is made once the first has reported an epoch, with 19 left: however fast the machine, it is mid-run.
  let midRun!: () => void;
  const training = new Promise<void>((resolve) => (midRun = resolve));
  const first = endpoint.train(spec({ epochs: 20 }), new AbortController().signal, () => midRun());
  await training;
  await assert.rejects(endpoint.train(spec({ epochs: 1 }, { runId: 's/0/50', seed: 50 }), new AbortController().signal, () => undefined), (err: unknown) => {
    assert.ok(err instanceof TransportError);
    assert.equal(err.grpcCode, 8);
    assert.match(err.message, /already training a run/);
    return true;
  });
  assert.ok((await first).result !== undefined);
});

test('cancelling a call stops the run at its next epoch; the trainer is free again', async () => {
  const stop = new AbortController();
  let epochs = 0;
  const running = endpoint.train(spec({ epochs: 200 }), stop.signal, () => {
    epochs++;
    if (epochs === 2) stop.abort();
  });
  await assert.rejects(running, /cancelled/);
  // The run stops at its next epoch boundary, however long a loaded machine takes to reach it.
  await waitFor('the trainer to log the cancellation', () => (logs.some((l) => l.includes('cancelled')) ? true : undefined), 30_000);
  const next = await endpoint.train(spec({ epochs: 1 }), new AbortController().signal, () => undefined);
  assert.ok(next.result !== undefined, 'the trainer took the next run');
});

test('the same configuration and seed give the same result; another seed does not', async () => {
  const run = async (seed: number) => (await endpoint.train(spec({ epochs: 2, sampling: 'smote' }, { seed }), new AbortController().signal, () => undefined)).result!;
  const [a, b, c] = [await run(42), await run(42), await run(50)];
  assert.equal(a.auc, b.auc);
  assert.equal(a.aupr, b.aupr);
  assert.deepEqual(a.finalLosses, b.finalLosses);
  assert.notDeepEqual(a.finalLosses, c.finalLosses);
});
