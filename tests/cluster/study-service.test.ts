import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tcpConnect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { credentials, makeClientConstructor, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { StudySpec, SweepSpec, SweepState, TrialState, type SweepEvent } from '../../proto/gen/cellsweep/v1/study.js';
import { RUNS_STREAM } from '../../core/nats/topology.js';
import { call, studyClient } from '../../cli/study-client.js';
import { waitForAsync } from '../e2e/helpers.js';
import { NatsServer } from './nats-server.js';
import { TEST_TOKEN, TrainerPool, connectTo, sleepSweepYaml, startCoordinator, testClient, type CoordinatorProc } from './cluster-helpers.js';

/** Every event of one WatchSweep stream, until the coordinator ends it. */
function watchToEnd(api: ReturnType<typeof testClient>, sweepId: string, includeRunProgress: boolean): Promise<SweepEvent[]> {
  const events: SweepEvent[] = [];
  return new Promise((resolve, reject) => {
    const stream = api.client.watchSweep({ sweepId, includeRunProgress });
    stream.on('data', (e: SweepEvent) => events.push(e));
    stream.on('error', reject);
    stream.on('end', () => resolve(events));
  });
}

const emptySpec = (): SweepSpec => SweepSpec.fromPartial({});
const emptyStudy = (): StudySpec => StudySpec.fromPartial({});

let server: NatsServer;
let nc: NatsConnection;
let coordinator: CoordinatorProc;
let pool: TrainerPool;

before(async () => {
  server = await NatsServer.start();
  nc = await connectTo(server.url);
  coordinator = await startCoordinator(server.url);
  pool = new TrainerPool(server.url, 'svc', 2);
});

after(async () => {
  await pool?.stop();
  coordinator?.child.kill('SIGKILL');
  await coordinator?.exited;
  await nc?.close();
  await server?.stop();
});

test('a sweep sent as a SweepSpec message runs like its YAML file', { timeout: 60_000 }, async () => {
  const api = testClient(coordinator.address);
  const { yaml } = await sleepSweepYaml({ trials: 2, seeds: [1, 2], seconds: 0.1, parallel: 2 });
  const dataset = /dataset: (\S+)\}/.exec(yaml)![1]!;
  const spec: SweepSpec = {
    ...emptySpec(),
    name: 'from-a-message',
    model: 'sleep',
    sampler: 'random',
    seed: 7,
    trials: 2,
    seeds: [1, 2],
    trainers: 2,
    fixed: { seconds: { kind: { $case: 'number', value: 0.1 } }, epochs: { kind: { $case: 'number', value: 2 } } },
    space: { signal: { type: 'float', low: 0, high: 1 } },
    studies: [{ ...emptyStudy(), name: 's1', dataset }],
  };
  const created = await call(api.client.createSweep, api.client, { configYaml: '', spec }, api.metadata);
  assert.equal(created.name, 'from-a-message');
  assert.equal(created.studies[0]?.runsTotal, 4);
  const done = await api.waitDone(created.sweepId, 45_000);
  assert.equal(done.state, SweepState.SWEEP_STATE_COMPLETE);
  assert.equal(done.studies[0]?.runsDone, 4);
});

test('create, watch to the end, list trials page by page, get the best; health says SERVING', { timeout: 90_000 }, async () => {
  const api = testClient(coordinator.address);
  const { yaml } = await sleepSweepYaml({ trials: 5, seeds: [1, 2], seconds: 0.2, parallel: 2, sampler: 'tpe' });
  const created = await api.create(yaml);
  assert.equal(created.state, SweepState.SWEEP_STATE_RUNNING);
  assert.equal(created.studies[0]?.runsTotal, 10);

  const events = await watchToEnd(api, created.sweepId, true);
  assert.equal(events[0]?.event?.$case, 'snapshot');
  assert.deepEqual(events.at(-1)?.event, { $case: 'finished', value: SweepState.SWEEP_STATE_COMPLETE });
  const finishedTrials = events.flatMap((e) => (e.event?.$case === 'trials' ? e.event.value.trials : [])).flatMap((t) => (t.state === TrialState.TRIAL_STATE_COMPLETE ? [t.number] : []));
  const first = events[0]?.event;
  const doneBefore = first?.$case === 'snapshot' ? first.value.studies[0]!.trialsDone : NaN;
  assert.equal(new Set(finishedTrials).size, finishedTrials.length, 'no trial reported finished twice');
  assert.equal(doneBefore + finishedTrials.length, 5, 'the watch saw every trial finish that had not when it began');
  assert.ok(events.some((e) => e.event?.$case === 'run' && e.event.value.event?.$case === 'progress'), 'and run progress');

  const seen: number[] = [];
  let token = '';
  let pages = 0;
  do {
    const page = await api.trials(created.sweepId, 2, token);
    seen.push(...page.trials.map((t) => t.number));
    token = page.nextPageToken;
    pages++;
  } while (token !== '');
  assert.deepEqual(seen, [0, 1, 2, 3, 4]);
  assert.equal(pages, 3);

  const all = (await api.trials(created.sweepId)).trials;
  const top = [...all].sort((a, b) => b.auc!.mean - a.auc!.mean || b.aupr!.mean - a.aupr!.mean || a.number - b.number)[0]!;
  const best = await api.best(created.sweepId);
  assert.equal(best.best[0]?.number, top.number);
  const listed = await call(api.client.listSweeps, api.client, { pageSize: 0, pageToken: '' }, api.metadata);
  assert.ok(listed.sweeps.some((s) => s.sweepId === created.sweepId && s.state === SweepState.SWEEP_STATE_COMPLETE));

  const Health = makeClientConstructor(healthService, 'Health');
  const health = new Health(coordinator.address, credentials.createInsecure()) as unknown as {
    check(req: { service: string }, cb: (err: Error | null, res: { status: string }) => void): void;
    close(): void;
  };
  for (const name of ['', 'cellsweep.v1.StudyService']) {
    const res = await new Promise<{ status: string }>((resolve, reject) => health.check({ service: name }, (err, r) => (err ? reject(err) : resolve(r))));
    assert.equal(res.status, 'SERVING');
  }
  health.close();
});

test('a watch gets trial changes in batches: several trials per event, none missed, none twice', { timeout: 90_000 }, async () => {
  const api = testClient(coordinator.address);
  // Runs of 0.2 s: long enough that the watch opens before the sweep ends (with 0 s runs it could
  // open on a finished sweep and see no changes), short enough that 8 runs in step end in one window.
  const { yaml } = await sleepSweepYaml({ trials: 20, seeds: [1, 2], seconds: 0.2, epochs: 1, parallel: 8 });
  const created = await api.create(yaml);
  const events = await watchToEnd(api, created.sweepId, false);
  const batches = events.flatMap((e) => (e.event?.$case === 'trials' ? [e.event.value.trials] : []));
  assert.ok(batches.some((b) => b.length >= 2), `trial changes of one 100 ms window arrive together (batch sizes ${batches.map((b) => b.length).join(', ')})`);
  const first = events[0]?.event;
  const doneBefore = first?.$case === 'snapshot' ? first.value.studies[0]!.trialsDone : NaN;
  const finished = batches.flat().flatMap((t) => (t.state === TrialState.TRIAL_STATE_COMPLETE ? [t.number] : []));
  assert.equal(new Set(finished).size, finished.length, 'no trial reported finished twice');
  assert.equal(doneBefore + finished.length, 20, 'every trial not done at the snapshot is reported finished');
});

test('StopSweep drops the queued runs and the sweep is not resumed by the next coordinator', { timeout: 90_000 }, async () => {
  const api = testClient(coordinator.address);
  const { yaml } = await sleepSweepYaml({ trials: 20, seeds: [1, 2, 3], seconds: 2, parallel: 6, name: 'to-stop' });
  const { sweepId } = await api.create(yaml);
  const jsm = await jetstreamManager(nc);
  const queued = async (): Promise<number> => {
    const info = await jsm.streams.info(RUNS_STREAM, { subjects_filter: `cellsweep.runs.${sweepId}.>` });
    return Object.keys(info.state.subjects ?? {}).length;
  };
  // Six runs at once on two trainers: some wait in the queue (so an empty queue below means dropped).
  await waitForAsync('runs of the sweep waiting in the queue', async () => ((await queued()) > 0 ? true : undefined), 10_000);
  const stopped = await call(api.client.stopSweep, api.client, { sweepId }, api.metadata);
  assert.equal(stopped.state, SweepState.SWEEP_STATE_STOPPED);
  assert.equal(await queued(), 0, 'no run of the stopped sweep is left in the queue');

  // A journal that cannot be replayed is reported and skipped; the other sweeps are still served.
  await jetstream(nc).publish(`cellsweep.journal.${BROKEN_SWEEP}`, new TextEncoder().encode('not a journal record\n'));
  coordinator.child.kill('SIGTERM');
  assert.equal((await coordinator.exited).code, 0);
  coordinator = await startCoordinator(server.url);
  assert.match(coordinator.log(), new RegExp(`sweep to-stop \\(${sweepId}\\): stopped`));
  assert.match(coordinator.log(), new RegExp(`sweep ${BROKEN_SWEEP}: not loaded, its journal cannot be replayed: .*not JSON`));
  assert.equal((await testClient(coordinator.address).get(sweepId)).state, SweepState.SWEEP_STATE_STOPPED);
});

const BROKEN_SWEEP = 'broken-journal';

test('bad requests get clear status codes and change nothing; random bytes on the port crash nothing', { timeout: 60_000 }, async () => {
  const { yaml } = await sleepSweepYaml({ trials: 1, seeds: [1], seconds: 0 });
  const api = testClient(coordinator.address);
  const count = async (): Promise<number> => (await call(api.client.listSweeps, api.client, { pageSize: 1000, pageToken: '' }, api.metadata)).sweeps.length;
  const anySweep = (await api.create(yaml)).sweepId;
  const before = await count();
  const code = async (p: Promise<unknown>): Promise<[number, string]> => {
    try {
      await p;
    } catch (err) {
      return [(err as ServiceError).code, (err as ServiceError).details];
    }
    return [status.OK, ''];
  };

  const anonymous = studyClient({ address: coordinator.address });
  assert.equal((await code(call(anonymous.client.createSweep, anonymous.client, { configYaml: yaml }, anonymous.metadata)))[0], status.UNAUTHENTICATED);
  const wrong = studyClient({ address: coordinator.address, token: 'not-the-token-at-all' });
  assert.deepEqual(await code(call(wrong.client.createSweep, wrong.client, { configYaml: yaml }, wrong.metadata)), [status.UNAUTHENTICATED, 'wrong bearer token']);
  assert.equal((await code(call(wrong.client.stopSweep, wrong.client, { sweepId: 'x' }, wrong.metadata)))[0], status.UNAUTHENTICATED);

  const [badCode, badMessage] = await code(api.create(yaml.replace('trials: 1', 'trials: -3')));
  assert.equal(badCode, status.INVALID_ARGUMENT);
  assert.match(badMessage, /config_yaml:5.*trials/);
  const neither = [status.INVALID_ARGUMENT, 'send the sweep as exactly one of config_yaml (the sweep file) or spec (the same as a message); docs/sweep-file.md'];
  assert.deepEqual(await code(api.create('   ')), neither);
  assert.deepEqual(await code(call(api.client.createSweep, api.client, { configYaml: yaml, spec: { ...emptySpec(), name: 'x' } }, api.metadata)), neither, 'not both');
  const [specCode, specMessage] = await code(call(api.client.createSweep, api.client, { configYaml: '', spec: { ...emptySpec(), studies: [{ ...emptyStudy(), trials: 2 }] } }, api.metadata));
  assert.equal(specCode, status.INVALID_ARGUMENT);
  assert.match(specMessage, /^CreateSweepRequest\.spec, field 'studies\[0\]\.dataset': expected a dataset directory/);
  assert.equal((await code(api.get('no-such-sweep')))[0], status.NOT_FOUND);
  assert.equal((await code(api.trials('')))[0], status.INVALID_ARGUMENT);
  assert.equal((await code(api.trials(anySweep, 5000)))[0], status.INVALID_ARGUMENT);
  assert.equal((await code(api.trials(anySweep, 2, 'not-a-token')))[0], status.INVALID_ARGUMENT);
  assert.equal((await code(api.create('x'.repeat(5 * 1024 * 1024))))[0], status.RESOURCE_EXHAUSTED);

  // A malformed protobuf message as the request body of CreateSweep: field 1 (config_yaml) says
  // 255 bytes follow, and none do. grpc-js answers INTERNAL before the handler sees it.
  const garbage = await new Promise<ServiceError | null>((resolve) =>
    api.client.makeUnaryRequest(
      '/cellsweep.v1.StudyService/CreateSweep',
      () => Buffer.from([0x0a, 0xff, 0x01]),
      (b: Buffer) => b,
      {},
      withToken(),
      (err) => resolve(err),
    ),
  );
  assert.deepEqual([garbage?.code, garbage?.details], [status.INTERNAL, 'Error deserializing request']);

  // Random bytes straight onto the TCP port.
  await new Promise<void>((resolve) => {
    const [host, port] = [coordinator.address.slice(0, coordinator.address.lastIndexOf(':')), Number(coordinator.address.slice(coordinator.address.lastIndexOf(':') + 1))];
    const socket = tcpConnect({ host, port }, () => {
      socket.write(randomBytes(64 * 1024));
      // The server may hold a connection it cannot parse open; this side hangs up.
      setTimeout(() => socket.destroy(), 500);
    });
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
  });
  assert.equal(coordinator.child.exitCode, null, 'the coordinator is still up');
  assert.equal(await count(), before, 'no sweep was created by any of it');
});

function withToken(): Metadata {
  const m = new Metadata();
  m.set('authorization', `Bearer ${TEST_TOKEN}`);
  return m;
}
