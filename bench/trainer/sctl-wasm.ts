/**
 * The TensorFlow.js side of the SCTL speed benchmark (bench/trainer/run.ts
 * runs it): trains SCTL through the production path (the `sctl` family, as
 * `cellsweep train` does) on one prepared dataset and times every epoch.
 *
 *   node --import tsx bench/trainer/sctl-wasm.ts --data DIR [--warmup 2] [--epochs 5] [--backend wasm]
 *
 * An epoch is one pass over the bulk batches: ceil(bulk rows / 128) steps,
 * each a 128-row bulk batch (weighted sampling) with a 128-cell batch, one
 * forward and backward pass and one Adam update, at SCTL's default settings.
 * Epoch times are the wall time between two progress reports; the first
 * `warmup` epochs (model set-up, first-call compilation, allocator growth)
 * are left out. Prints one JSON line on stdout.
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { SCTL, resolveSettings } from '../../core/model-specs.js';
import { selectBackend, type BackendChoice } from '../../trainer/backend/index.js';
import { loadPrepared } from '../../trainer/data/index.js';
import { sctl } from '../../trainer/models/sctl/family.js';
import { median } from './stats.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    warmup: { type: 'string', default: '2' },
    epochs: { type: 'string', default: '5' },
    backend: { type: 'string', default: 'wasm' },
    seed: { type: 'string', default: '42' },
  },
});
if (values.data === undefined) throw new Error('--data DIR is required');
const warmup = Number(values.warmup);
const epochs = Number(values.epochs);

const backend = await selectBackend(values.backend as BackendChoice, { log: () => {} });
const data = await loadPrepared(resolve(values.data));
const settings = resolveSettings(SCTL, {});
const batchSize = settings.batch_size as number;
const stepsPerEpoch = Math.ceil(data.bulk.rows / batchSize);
settings.iterations = (warmup + epochs) * stepsPerEpoch;

const wall: number[] = [];
const cpu: number[] = [];
let lastWall = performance.now();
let lastCpu = process.cpuUsage();
const started = lastWall;
await sctl.train({
  data,
  settings,
  seed: Number(values.seed),
  signal: new AbortController().signal,
  evaluateEachEpoch: false,
  onEpoch: () => {
    const now = performance.now();
    const usage = process.cpuUsage(lastCpu);
    wall.push(now - lastWall);
    cpu.push((usage.user + usage.system) / 1000);
    lastWall = now;
    lastCpu = process.cpuUsage();
  },
});
const timed = wall.slice(warmup);
process.stdout.write(
  JSON.stringify({
    side: 'tfjs',
    backend: backend.name,
    detail: backend.reason,
    genes: data.genes.length,
    bulk: data.bulk.rows,
    cells: data.cells.rows,
    stepsPerEpoch,
    warmup,
    epochMs: timed,
    epochCpuMs: cpu.slice(warmup),
    medianEpochMs: median(timed),
    medianStepMs: median(timed) / stepsPerEpoch,
    totalS: (performance.now() - started) / 1000,
  }) + '\n',
);
