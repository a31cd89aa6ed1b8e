/**
 * The cluster dispatch benchmark (issue 5): a real nats-server, a real
 * `cellsweep coordinator` process and 64 simulated trainers (the real NATS
 * trainer loop running the `sleep` model with 0 s runs, sim-trainers.ts),
 * against raw JetStream work-queue throughput measured in the same run.
 *
 *   node --import tsx bench/cluster/run.ts [--trials 40] [--studies 8] [--trainers 64] [--watchers 200] [--out FILE]
 *
 * Reports: end-to-end runs per second, dispatch latency (queued to taken),
 * coordinator CPU time per run, StudyService latency with N watchers open
 * (in a process of their own, bench/cluster/watchers.ts),
 * and the coordinator's memory after the sweep.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { AckPolicy, RetentionPolicy, StorageType, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { SweepState } from '../../proto/gen/cellsweep/v1/study.js';
import { call } from '../../cli/study-client.js';
import { connectNats } from '../../core/nats/connect.js';
import { tempDir, tinyDataset } from '../../tests/e2e/helpers.js';
import { NatsServer } from '../../tests/cluster/nats-server.js';
import { startCoordinator, testClient } from '../../tests/cluster/cluster-helpers.js';
import { cpuSeconds, percentile, rssMiB } from './stats.js';

const { values } = parseArgs({
  allowNegative: true,
  options: {
    trials: { type: 'string', default: '40' },
    studies: { type: 'string', default: '8' },
    trainers: { type: 'string', default: '64' },
    watchers: { type: 'string', default: '200' },
    'raw-messages': { type: 'string', default: '20000' },
    // --no-metrics: the coordinator without its metrics endpoint, to measure what metrics cost.
    metrics: { type: 'boolean', default: true },
    out: { type: 'string' },
  },
});
const trials = Number(values.trials);
const studies = Number(values.studies);
const trainers = Number(values.trainers);
const watchers = Number(values.watchers);
const rawMessages = Number(values['raw-messages']);
const SEEDS = [42, 50, 60, 70, 80, 124];
const lines: string[] = [];
const say = (line: string): void => {
  lines.push(line);
  process.stdout.write(line + '\n');
};

const server = await NatsServer.start();
try {
  say(`# Cluster dispatch benchmark, ${new Date().toISOString().slice(0, 10)}`);
  say(`nats-server ${server.url} (JetStream, file storage), coordinator metrics ${values.metrics ? 'on' : 'off'}, ${trainers} simulated trainers, ${studies} studies x ${trials} trials x ${SEEDS.length} seeds of \`sleep\` (0 s)`);
  say('');
  const raw = await rawJetStream(server.url, rawMessages);
  say(`raw JetStream work queue (${rawMessages} messages of 200 bytes, publish with 1,000 in flight, then consume + ack with 64 pull consumers): publish ${raw.publish.toFixed(0)} msg/s, consume+ack ${raw.consume.toFixed(0)} msg/s`);

  const dir = tempDir('bench-cluster');
  const dataset = await tinyDataset(join(dir, 'd'), 'data6');
  const profile = process.env.BENCH_PROFILE_DIR;
  const coordinator = await startCoordinator(server.url, {
    ackWait: 30,
    // Metrics on, as the Helm chart runs it: their per-record cost is in the CPU figure, and a scrape is timed at the end.
    extra: ['--parallel', String(trainers), ...(values.metrics ? ['--metrics-listen', '127.0.0.1:0'] : [])],
    ...(profile === undefined ? {} : { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profile}`] }),
  });
  const reportFile = join(dir, 'sim.json');
  // BENCH_PROFILE_DIR profiles the simulated trainers too (their profile is the larger file: one process, 64 loops).
  const sim = spawn(process.execPath, [...(profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profile}`]), '--import', 'tsx', fileURLToPath(new URL('./sim-trainers.ts', import.meta.url)), '--nats', server.url, '--count', String(trainers), '--report', reportFile], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve) => sim.stdout!.on('data', (d: Buffer) => /ready/.test(d.toString()) && resolve()));
  const simExited = new Promise((resolve) => sim.once('exit', resolve));

  const yaml = `name: bench
model: sleep
sampler: random
trials: ${trials}
trainers: ${trainers}
fixed: {seconds: 0, epochs: 1}
space:
  signal: {type: float, low: 0, high: 1}
studies:
${Array.from({ length: studies }, (_, i) => `  - {name: s${i + 1}, dataset: ${dataset}}`).join('\n')}
`;
  const api = testClient(coordinator.address);
  const cpu0 = cpuSeconds(coordinator.child.pid!);
  const simCpu0 = cpuSeconds(sim.pid!);
  const natsCpu0 = cpuSeconds(server.pid!);
  const t0 = performance.now();
  const { sweepId } = await api.create(yaml);

  // Watchers on the sweep, in a process of their own (watchers.ts), and this process timing reads while they watch.
  const watching = watchers === 0 ? undefined : startWatchers(coordinator.address, sweepId, watchers);
  await watching?.open;
  const apiLatencies: number[] = [];
  let sweepDone = false;
  const reader = (async () => {
    while (!sweepDone) {
      const t = performance.now();
      await call(api.client.getSweep, api.client, { sweepId }, api.metadata);
      apiLatencies.push(performance.now() - t);
      const t2 = performance.now();
      await call(api.client.listTrials, api.client, { sweepId, study: 's1', pageSize: 100, pageToken: '' }, api.metadata);
      apiLatencies.push(performance.now() - t2);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const sweep = await api.waitDone(sweepId, 60 * 60 * 1000);
  const wall = (performance.now() - t0) / 1000;
  sweepDone = true;
  await reader;
  const cpu = cpuSeconds(coordinator.child.pid!) - cpu0;
  const simCpu = cpuSeconds(sim.pid!) - simCpu0;
  const natsCpu = cpuSeconds(server.pid!) - natsCpu0;
  const rss = rssMiB(coordinator.child.pid!);
  const metricsAddress = /"metrics":"([^"]+)"/.exec(coordinator.out())?.[1];
  const scrapes: number[] = [];
  let scrapeBytes = 0;
  for (let i = 0; i < 20 && metricsAddress !== undefined; i++) {
    const t = performance.now();
    scrapeBytes = (await (await fetch(`http://${metricsAddress}/metrics`)).text()).length;
    scrapes.push(performance.now() - t);
  }
  const watched = await (watching?.ended ?? { events: 0, errors: 0 });
  if (watched.errors > 0) throw new Error(`${watched.errors} of ${watchers} watch streams ended with an error`);
  sim.kill('SIGTERM');
  await simExited;
  const waits = (JSON.parse(readFileSync(reportFile, 'utf8')) as { waits: number[] }).waits;
  coordinator.child.kill('SIGTERM');
  await coordinator.exited;

  const runs = studies * trials * SEEDS.length;
  if (sweep.state !== SweepState.SWEEP_STATE_COMPLETE) throw new Error(`the sweep ended ${SweepState[sweep.state]}`);
  say(`cellsweep end to end: ${runs} runs in ${wall.toFixed(1)} s = ${(runs / wall).toFixed(0)} runs/s (${((runs / wall / raw.consume) * 100).toFixed(1)}% of raw consume+ack)`);
  say(`dispatch latency (published to taken by a trainer): p50 ${percentile(waits, 50).toFixed(1)} ms, p99 ${percentile(waits, 99).toFixed(1)} ms over ${waits.length} runs`);
  say(`coordinator CPU: ${cpu.toFixed(1)} s = ${((cpu / runs) * 1000).toFixed(2)} ms per run`);
  say(`the rest of the machine during the sweep: simulated trainers ${((simCpu / runs) * 1000).toFixed(2)} ms CPU per run, nats-server ${((natsCpu / runs) * 1000).toFixed(2)} ms per run (${availableParallelism()} cores)`);
  say(`StudyService with ${watchers} watchers open in another process (${watched.events} events streamed): GetSweep/ListTrials p50 ${percentile(apiLatencies, 50).toFixed(1)} ms, p99 ${percentile(apiLatencies, 99).toFixed(1)} ms over ${apiLatencies.length} calls`);
  // On a fast machine a short sweep leaves few calls, and the p99 of fewer than 100 is set by the two slowest.
  if (apiLatencies.length < 100) say(`(only ${apiLatencies.length} StudyService calls: too few for a p99; give more --trials)`);
  say(`coordinator RSS after ${runs} finished runs in ${studies} studies: ${rss.toFixed(0)} MiB`);
  if (metricsAddress === undefined) say('coordinator without --metrics-listen');
  else say(`a Prometheus scrape of the coordinator's /metrics after the sweep: p50 ${percentile(scrapes, 50).toFixed(1)} ms, max ${Math.max(...scrapes).toFixed(1)} ms over ${scrapes.length} scrapes, ${(scrapeBytes / 1024).toFixed(0)} KiB`);
} finally {
  await server.stop();
}
if (values.out !== undefined) writeFileSync(values.out, lines.join('\n') + '\n');
process.exit(0);

/** Starts bench/cluster/watchers.ts: `open` once its streams are open, `ended` when the coordinator has ended them. */
function startWatchers(address: string, sweepId: string, count: number): { open: Promise<void>; ended: Promise<{ events: number; errors: number }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./watchers.ts', import.meta.url)), '--address', address, '--sweep', sweepId, '--count', String(count)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  let opened: () => void;
  const open = new Promise<void>((resolve) => (opened = resolve));
  const ended = new Promise<{ events: number; errors: number }>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('"watching"')) opened();
    });
    child.once('exit', (code) => {
      opened();
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code === 0 && last.includes('"ended"')) resolve(JSON.parse(last) as { events: number; errors: number });
      else reject(new Error(`the watchers process exited with ${code}: ${out}`));
    });
  });
  return { open, ended };
}

/** Raw JetStream: what the server and client library do without cellsweep, in this run. */
async function rawJetStream(url: string, n: number): Promise<{ publish: number; consume: number }> {
  const nc = await connectNats({ servers: [url], name: 'bench-raw' });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'BENCH_RAW', subjects: ['bench.raw.>'], retention: RetentionPolicy.Workqueue, storage: StorageType.File });
  await jsm.consumers.add('BENCH_RAW', { durable_name: 'w', ack_policy: AckPolicy.Explicit, filter_subject: 'bench.raw.>' });
  const js = jetstream(nc);
  const payload = new Uint8Array(200);
  let t = performance.now();
  const inFlight = new Set<Promise<unknown>>();
  for (let i = 0; i < n; i++) {
    const p: Promise<unknown> = js.publish(`bench.raw.${i % 64}`, payload).then(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= 1000) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const publish = n / ((performance.now() - t) / 1000);
  t = performance.now();
  let consumed = 0;
  const consumers = await Promise.all(Array.from({ length: 64 }, async () => (await js.consumers.get('BENCH_RAW', 'w')).consume({ max_messages: 16 })));
  await Promise.all(
    consumers.map(async (messages) => {
      for await (const m of messages) {
        m.ack();
        // The last message stops every consumer, not only the one that took it.
        if (++consumed >= n) for (const c of consumers) void c.close();
      }
    }),
  );
  const consume = n / ((performance.now() - t) / 1000);
  await jsm.streams.delete('BENCH_RAW');
  await nc.close();
  return { publish, consume };
}
