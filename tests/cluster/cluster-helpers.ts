import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { parseSweep } from '../../coordinator/config/load-sweep.js';
import type { SweepConfig } from '../../coordinator/config/sweep-config.js';
import { ensureTopology } from '../../coordinator/dispatch/nats-topology.js';
import { JetStreamJournal } from '../../coordinator/journal/jetstream-journal.js';
import { JOURNAL_FORMAT_VERSION, type JournalRecord } from '../../coordinator/journal/records.js';
import { SweepState, type Sweep } from '../../proto/gen/cellsweep/v1/study.js';
import { call, studyClient } from '../../cli/study-client.js';
import { connectNats } from '../../core/nats/connect.js';
import { BIN, tempDir, tinyDataset } from '../e2e/helpers.js';

export interface SleepSweepOptions {
  trials: number;
  seeds: number[];
  seconds: number;
  epochs?: number;
  /** Runs at once (the sweep's `trainers`). */
  parallel?: number;
  sampler?: string;
  /** YAML list items appended to `studies:`; `DATASET` is replaced by the dataset's path. */
  extraStudies?: string;
  name?: string;
}

/** A sweep file of the `sleep` test model over a tiny real dataset (written once per call), with an absolute dataset path. */
export async function sleepSweepYaml(opts: SleepSweepOptions): Promise<{ yaml: string; dir: string }> {
  const dir = tempDir('cluster-sweep');
  const dataset = await tinyDataset(join(dir, 'd'), 'data6');
  const yaml = `name: ${opts.name ?? 'cluster-test'}
model: sleep
sampler: ${opts.sampler ?? 'random'}
seed: 7
trials: ${opts.trials}
seeds: [${opts.seeds.join(', ')}]
trainers: ${opts.parallel ?? 4}
fixed: {seconds: ${opts.seconds}, epochs: ${opts.epochs ?? 2}}
space:
  signal: {type: float, low: 0, high: 1}
studies:
  - {name: s1, dataset: ${dataset}}
${(opts.extraStudies ?? '').replaceAll('DATASET', dataset)}`;
  writeFileSync(join(dir, 'sweep.yaml'), yaml);
  return { yaml, dir };
}

export async function sleepSweep(opts: SleepSweepOptions): Promise<SweepConfig> {
  const { yaml, dir } = await sleepSweepYaml(opts);
  return parseSweep(yaml, join(dir, 'sweep.yaml'), dir);
}

export async function connectTo(url: string, name = 'cellsweep-test'): Promise<NatsConnection> {
  const nc = await connectNats({ servers: [url], name });
  await ensureTopology(await jetstreamManager(nc), { ackWaitMs: 1500 });
  return nc;
}

/** A new sweep id and its journal, holding the sweep_created record. */
export async function createJournal(nc: NatsConnection, config: SweepConfig): Promise<{ sweepId: string; journal: JetStreamJournal }> {
  const sweepId = randomUUID();
  const journal = await JetStreamJournal.open(nc, sweepId, { create: true });
  await journal.append([{ op: 'sweep_created', v: JOURNAL_FORMAT_VERSION, t: Date.now(), sweepId, config }]);
  return { sweepId, journal };
}

export interface TrainerProc {
  /** Its --id, the trainer id its results carry. */
  id: string;
  child: ChildProcess;
  log: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** A real `cellsweep trainer --nats URL` process. */
export function startNatsTrainer(url: string, id: string, opts: { env?: NodeJS.ProcessEnv; args?: string[] } = {}): TrainerProc {
  const child = spawn(process.execPath, [BIN, 'trainer', '--nats', url, '--id', id, '--backend', 'wasm', ...(opts.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own session, as a pod would be its own machine: with the kernel's
    // autogroup scheduling a process fleet in one session shares one CPU slice
    // against the training tests that run beside it.
    detached: true,
    env: { ...process.env, CELLSWEEP_BACKEND: 'wasm', ...opts.env },
  });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { id, child, log: () => log, exited };
}

export async function stopTrainers(trainers: TrainerProc[]): Promise<void> {
  for (const t of trainers) if (t.child.exitCode === null && t.child.signalCode === null) t.child.kill('SIGKILL');
  await Promise.all(trainers.map((t) => t.exited));
}

export interface CoordinatorProc {
  child: ChildProcess;
  address: string;
  log: () => string;
  /** Its stdout: JSON event lines. */
  out: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export const TEST_TOKEN = 'test-token-0123456789abcdef';

/** A real `cellsweep coordinator` process; resolves once it serves. */
export async function startCoordinator(
  natsUrl: string,
  opts: { ackWait?: number; maxDeliveries?: number; dataRoot?: string; extra?: string[]; env?: NodeJS.ProcessEnv; nodeArgs?: string[] } = {},
): Promise<CoordinatorProc> {
  const dir = tempDir('coordinator');
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, TEST_TOKEN);
  const args = [...(opts.nodeArgs ?? []), BIN, 'coordinator', '--nats', natsUrl, '--listen', '127.0.0.1:0', '--token-file', tokenFile, '--ack-wait', String(opts.ackWait ?? 2), '--max-deliveries', String(opts.maxDeliveries ?? 3), '--data-root', opts.dataRoot ?? dir, ...(opts.extra ?? [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env }, detached: true });
  let log = '';
  let out = '';
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const address = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"address":"([^"]+)"/.exec(out);
      if (m !== null) resolve(m[1]!);
    });
    void exited.then((e) => reject(new Error(`the coordinator exited (${e.code ?? e.signal}) before serving:\n${log}`)));
  });
  return { child, address, log: () => log, out: () => out, exited };
}

/**
 * Trainers that come back when killed, as a Deployment's pods do: a trainer
 * process that dies is replaced by a new one under a new id.
 */
export class TrainerPool {
  readonly all: TrainerProc[] = [];
  private stopped = false;
  private next = 0;

  constructor(
    private readonly url: string,
    private readonly prefix: string,
    size: number,
    private readonly restart = true,
    private readonly trainerOpts: { env?: NodeJS.ProcessEnv; args?: string[] } = {},
  ) {
    for (let i = 0; i < size; i++) this.spawn();
  }

  live(): TrainerProc[] {
    return this.all.filter((t) => t.child.exitCode === null && t.child.signalCode === null);
  }

  logs(): string {
    return this.all.map((t) => t.log()).join('\n');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await stopTrainers(this.all);
  }

  private spawn(): void {
    const trainer = startNatsTrainer(this.url, `${this.prefix}${++this.next}`, this.trainerOpts);
    this.all.push(trainer);
    void trainer.exited.then(() => {
      if (this.restart && !this.stopped) this.spawn();
    });
  }
}

/** How often each run was started, from the trainers' logs ("run <id> of sweep <sweep>: started"). */
export function startsByRun(logs: string, sweepId: string): Map<string, number> {
  const starts = new Map<string, number>();
  for (const m of logs.matchAll(new RegExp(`run (\\S+) of sweep ${sweepId}: started`, 'g'))) starts.set(m[1]!, (starts.get(m[1]!) ?? 0) + 1);
  return starts;
}

/** A StudyService client with the test token, and promise forms of the calls the tests use. */
export function testClient(address: string) {
  const { client, metadata } = studyClient({ address, token: TEST_TOKEN });
  return {
    client,
    metadata,
    create: (yaml: string) => call(client.createSweep, client, { configYaml: yaml }, metadata),
    get: (sweepId: string) => call(client.getSweep, client, { sweepId }, metadata),
    best: (sweepId: string) => call(client.getBest, client, { sweepId }, metadata),
    trials: (sweepId: string, pageSize = 0, pageToken = '') => call(client.listTrials, client, { sweepId, study: '', pageSize, pageToken }, metadata),
    /** Polls GetSweep until the sweep is no longer running. */
    async waitDone(sweepId: string, timeoutMs: number): Promise<Sweep> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const sweep = await call(client.getSweep, client, { sweepId }, metadata, { deadline: Date.now() + 5000 }).catch(() => undefined);
        if (sweep !== undefined && sweep.state !== SweepState.SWEEP_STATE_RUNNING) return sweep;
        if (Date.now() > deadline) throw new Error(`sweep ${sweepId} still running after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
  };
}

/** The sweep's journal records as they are in JetStream now (read-only; the coordinator may be writing). */
export async function journalRecords(nc: NatsConnection, sweepId: string): Promise<JournalRecord[]> {
  return (await JetStreamJournal.open(nc, sweepId, { create: false })).read();
}

/** Every run id with an outcome in the journal, failing the test when one was recorded twice. */
export function outcomesOnce(records: JournalRecord[]): Set<string> {
  const seen = new Set<string>();
  for (const r of records) {
    if (r.op !== 'run_finished' && r.op !== 'run_failed') continue;
    const id = `${r.study}/${r.trial}/${r.seed}`;
    if (seen.has(id)) throw new Error(`run ${id} has two outcomes in the journal`);
    seen.add(id);
  }
  return seen;
}
