/**
 * Simulated trainers for the cluster benchmark: K copies of the real NATS
 * trainer loop (trainer/worker/nats-worker.ts), each with its own NATS
 * connection, in one process, running the `sleep` test model. On SIGTERM it
 * writes how long runs waited in the queue to the --report file.
 *
 *   node --import tsx bench/cluster/sim-trainers.ts --nats URL --count 64 --report FILE
 */
import { setMaxListeners } from 'node:events';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { connectNats } from '../../core/nats/connect.js';
import { loadPrepared } from '../../trainer/data/index.js';
import { DatasetCache } from '../../trainer/worker/dataset-cache.js';
import { runNatsWorker } from '../../trainer/worker/nats-worker.js';

const { values } = parseArgs({ options: { nats: { type: 'string' }, count: { type: 'string', default: '64' }, report: { type: 'string' } } });
const count = Number(values.count);
const datasets = new DatasetCache(loadPrepared);
const stop = new AbortController();
// Every simulated trainer listens on the one stop signal.
setMaxListeners(0, stop.signal);
const waits: number[] = [];
const log = (line: string): void => {
  if (/fail|error|dead-letter|malformed/i.test(line)) process.stderr.write(line + '\n');
};
const connections = await Promise.all(Array.from({ length: count }, (_, i) => connectNats({ servers: [values.nats!], name: `sim-trainer-${i}` })));
const workers = connections.map((nc, i) =>
  runNatsWorker({ nc, trainerId: `sim-${i}`, backend: 'none', datasets, signal: stop.signal, log, onTaken: (ms) => waits.push(ms) }),
);
process.stdout.write(JSON.stringify({ event: 'ready', count }) + '\n');
process.once('SIGTERM', () => stop.abort());
await Promise.allSettled(workers);
if (values.report !== undefined) writeFileSync(values.report, JSON.stringify({ waits }));
await Promise.all(connections.map((nc) => nc.close()));
process.exit(0);
