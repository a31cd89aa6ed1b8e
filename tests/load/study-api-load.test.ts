import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SweepState, StudyServiceService, TrialState, type SweepEvent } from '../../proto/gen/cellsweep/v1/study.js';
import { parseSweep } from '../../coordinator/config/load-sweep.js';
import { call } from '../../cli/study-client.js';
import { NatsServer } from '../cluster/nats-server.js';
import { TrainerPool, connectTo, sleepSweepYaml, startCoordinator, testClient, type CoordinatorProc } from '../cluster/cluster-helpers.js';

/**
 * The load scenario of bench/cluster (watchers + readers on a running
 * sweep), small and checked for correctness, not speed: under load every
 * watcher sees every trial finish and the end, and every call succeeds.
 * The speed figures come from `make bench-cluster` (BENCHMARKS.md).
 */
let server: NatsServer;
let coordinator: CoordinatorProc;
let pool: TrainerPool;

before(async () => {
  server = await NatsServer.start();
  await (await connectTo(server.url)).close();
  coordinator = await startCoordinator(server.url);
  pool = new TrainerPool(server.url, 'load', 2);
});

after(async () => {
  await pool?.stop();
  coordinator?.child.kill('SIGKILL');
  await coordinator?.exited;
  await server?.stop();
});

test('100 watchers and 4 readers on a running sweep: every watcher sees every trial finish and the end; every read succeeds', { timeout: 120_000 }, async () => {
  const api = testClient(coordinator.address);
  const { yaml } = await sleepSweepYaml({ trials: 8, seeds: [1, 2, 3], seconds: 0.5, parallel: 4 });
  const { sweepId } = await api.create(yaml);
  const watchers = Array.from(
    { length: 100 },
    () =>
      new Promise<SweepEvent[]>((resolve, reject) => {
        const events: SweepEvent[] = [];
        const stream = api.client.watchSweep({ sweepId, includeRunProgress: false });
        stream.on('data', (e: SweepEvent) => events.push(e));
        stream.on('error', reject);
        stream.on('end', () => resolve(events));
      }),
  );
  let done = false;
  let reads = 0;
  const readers = Array.from({ length: 4 }, async () => {
    while (!done) {
      await call(api.client.getSweep, api.client, { sweepId }, api.metadata);
      await call(api.client.listTrials, api.client, { sweepId, study: 's1', pageSize: 100, pageToken: '' }, api.metadata);
      reads += 2;
    }
  });
  const seen = await Promise.all(watchers);
  done = true;
  await Promise.all(readers);
  for (const events of seen) {
    assert.deepEqual(events.at(-1)?.event, { $case: 'finished', value: SweepState.SWEEP_STATE_COMPLETE });
    // A watcher that attached late sees the trials done so far in its first snapshot, and every later one as an event: none missed, none twice.
    const first = events[0]?.event;
    assert.equal(first?.$case, 'snapshot');
    const doneBefore = first.$case === 'snapshot' ? first.value.studies[0]!.trialsDone : NaN;
    const complete = events.flatMap((e) => (e.event?.$case === 'trials' ? e.event.value.trials : [])).flatMap((t) => (t.state === TrialState.TRIAL_STATE_COMPLETE ? [t.number] : []));
    assert.equal(new Set(complete).size, complete.length, 'no trial reported finished twice');
    assert.equal(doneBefore + complete.length, 8);
  }
  assert.ok(reads > 0);
});

test('the k6 script calls methods the service has, and its sweep file parses', () => {
  const script = readFileSync(fileURLToPath(new URL('../../bench/cluster/k6/study-api.js', import.meta.url)), 'utf8');
  const paths = new Set(Object.values(StudyServiceService).map((m) => m.path.slice(1)));
  const called = [...script.matchAll(/'(cellsweep\.v1\.StudyService\/\w+)'/g)].map((m) => m[1]!);
  assert.ok(called.length >= 4);
  for (const method of called) assert.ok(paths.has(method), `${method} is a StudyService method`);
  const file = fileURLToPath(new URL('../../bench/cluster/k6/sleep-sweep.yaml', import.meta.url));
  const config = parseSweep(readFileSync(file, 'utf8'), file, '/data');
  assert.equal(config.studies.length, 8);
  assert.equal(config.studies[0]?.model, 'sleep');
});
