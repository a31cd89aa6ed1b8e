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
import { JOURNAL_FORMAT_VERSION } from '../../coordinator/journal/records.js';
import { connectNats } from '../../core/nats/connect.js';
import { BIN, tempDir, tinyDataset } from '../e2e/helpers.js';

/** A sweep of the `sleep` test model over a tiny real dataset (written once per call). */
export async function sleepSweep(opts: { trials: number; seeds: number[]; seconds: number; epochs?: number; extraStudy?: string; name?: string }): Promise<SweepConfig> {
  const dir = tempDir('cluster-sweep');
  await tinyDataset(join(dir, 'd'), 'data6');
  const yaml = `name: ${opts.name ?? 'cluster-test'}
model: sleep
sampler: random
seed: 7
trials: ${opts.trials}
seeds: [${opts.seeds.join(', ')}]
trainers: 4
fixed: {seconds: ${opts.seconds}, epochs: ${opts.epochs ?? 2}}
space:
  signal: {type: float, low: 0, high: 1}
studies:
  - {name: s1, dataset: d}
${opts.extraStudy ?? ''}`;
  writeFileSync(join(dir, 'sweep.yaml'), yaml);
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
  child: ChildProcess;
  log: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** A real `cellsweep trainer --nats URL` process. */
export function startNatsTrainer(url: string, id: string): TrainerProc {
  const child = spawn(process.execPath, [BIN, 'trainer', '--nats', url, '--id', id, '--backend', 'wasm'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CELLSWEEP_BACKEND: 'wasm' },
  });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, log: () => log, exited };
}

export async function stopTrainers(trainers: TrainerProc[]): Promise<void> {
  for (const t of trainers) if (t.child.exitCode === null && t.child.signalCode === null) t.child.kill('SIGKILL');
  await Promise.all(trainers.map((t) => t.exited));
}
