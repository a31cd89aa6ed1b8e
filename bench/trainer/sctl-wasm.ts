/**
 * The TensorFlow.js side of the SCTL speed benchmark (bench/trainer/run.ts
 * runs it): trains SCTL through the production path (the `sctl` family, as
 * `cellsweep train` does) on one prepared dataset and times every epoch.
 *
 *   node --import tsx bench/trainer/sctl-wasm.ts --data DIR [--warmup 2] [--epochs 5] [--backend wasm]
 *        [--without gemm,gather,reduce,identity,adam,reduce-grad]
 *
 * An epoch is one pass over the bulk batches: ceil(bulk rows / 128) steps,
 * each a 128-row bulk batch (weighted sampling) with a 128-cell batch, one
 * forward and backward pass and one Adam update, at SCTL's default settings.
 * Epoch times are the wall time between two progress reports; the first
 * `warmup` epochs (model set-up, first-call compilation, allocator growth)
 * are left out. Prints one JSON line on stdout.
 *
 * --without undoes some of the wasm kernel replacements of
 * trainer/backend/wasm-kernels.ts after the backend starts, so that one run
 * can time the training step without each of them (the ablation rows of
 * bench/run.ts --ablate): `gemm` leaves matrix products transpose-first only,
 * `adam` drops the fused Adam kernel (Adam then runs as tensor ops),
 * `reduce-grad` puts tfjs's own Sum/Mean gradients back.
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { SCTL, resolveSettings } from '../../core/model-specs.js';
import { selectBackend, type BackendChoice } from '../../trainer/backend/index.js';
import { unregisterReduceGradients } from '../../trainer/backend/reduce-gradients.js';
import { unregisterWasmAdam } from '../../trainer/backend/wasm-adam.js';
import { unpatchWasmGather } from '../../trainer/backend/wasm-gather.js';
import { unpatchWasmIdentity } from '../../trainer/backend/wasm-identity.js';
import { patchWasmMatMul, unpatchWasmMatMul } from '../../trainer/backend/wasm-matmul.js';
import { unpatchWasmReduce } from '../../trainer/backend/wasm-reduce.js';
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
    without: { type: 'string', default: '' },
  },
});
if (values.data === undefined) throw new Error('--data DIR is required');
const warmup = Number(values.warmup);
const epochs = Number(values.epochs);

const backend = await selectBackend(values.backend as BackendChoice, { log: () => {} });
const UNDO: Record<string, () => void> = {
  gemm: () => {
    unpatchWasmMatMul();
    patchWasmMatMul({ simdGemm: false });
  },
  gather: unpatchWasmGather,
  reduce: unpatchWasmReduce,
  identity: unpatchWasmIdentity,
  adam: unregisterWasmAdam,
  'reduce-grad': unregisterReduceGradients,
};
const without = values.without.split(',').filter((w) => w !== '');
for (const name of without) {
  const undo = UNDO[name];
  if (undo === undefined) throw new Error(`--without: unknown change '${name}' (known: ${Object.keys(UNDO).join(', ')})`);
  undo();
}
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
    without,
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
