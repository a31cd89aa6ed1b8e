/**
 * SCTL training speed, TensorFlow.js (wasm) against PyTorch on the same data,
 * architecture, batches and optimiser, in one command (`make bench-trainer`):
 *
 *   node --import tsx bench/trainer/run.ts [--genes 2000,12966] [--warmup 2] [--epochs 5]
 *        [--work .tmp/bench-trainer] [--tfjs-root LABEL=DIR ...] [--only tfjs|torch]
 *
 * For each gene count: writes a data1-shaped synthetic dataset (1,280 bulk
 * lines, 548 cells) with `cellsweep datasets synth` unless it exists, exports
 * its prepared matrices for torch, then runs, one after another and each in
 * its own process:
 *   - torch, 1 thread (torch.set_num_threads(1) and OPENBLAS/OMP/MKL_NUM_THREADS=1:
 *     Debian's torch calls the system OpenBLAS, which ignores torch's setting),
 *   - torch, all cores,
 *   - TensorFlow.js on the wasm backend (one core: it has no threads under Node),
 * and prints the median epoch and step time of each and the ratio
 * tfjs / torch-1-thread. An epoch is one pass over the bulk batches (10
 * steps of 128 bulk rows + 128 cells; see sctl-wasm.ts and sctl_torch.py);
 * the first `warmup` epochs are not timed, the median is over `epochs`.
 * CPU time per step is printed beside the wall time: when other processes
 * share the machine, wall time grows and CPU time much less, and the load
 * average before each run is printed too.
 *
 * --ablate adds one TensorFlow.js row per kernel replacement of
 * trainer/backend/wasm-kernels.ts, run without that one (sctl-wasm.ts
 * --without): the difference to the full row is what that change gains.
 *
 * --rounds N repeats torch (1 thread) and the TensorFlow.js rows N times in
 * turn and reports each round's ratio and their median: this machine's speed
 * drifts by 10-20% within minutes (other tenants), so a ratio taken from
 * neighbouring runs, repeated, is steadier than one pair of runs. torch on
 * all cores and the --ablate rows run in the first round only.
 *
 * --tfjs-root LABEL=DIR (repeatable) runs the TensorFlow.js side from other
 * checkouts of the repository, one row each, instead of this one (e.g.
 * `git archive` of an earlier commit with this bench/trainer copied in):
 * the before/after rows of bench/results/trainer-speed.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SCTL, resolveSettings } from '../../core/model-specs.js';
import { checkoutRoots } from './checkouts.js';
import { median } from './stats.js';

const { values } = parseArgs({
  options: {
    genes: { type: 'string', default: '2000,12966' },
    warmup: { type: 'string', default: '2' },
    epochs: { type: 'string', default: '5' },
    work: { type: 'string', default: '.tmp/bench-trainer' },
    'tfjs-root': { type: 'string', multiple: true },
    only: { type: 'string' },
    ablate: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '1' },
    python: { type: 'string', default: '/usr/bin/python3' },
  },
});
const repo = resolve(import.meta.dirname, '..', '..');
const work = resolve(values.work);
// LABEL=DIR: the TensorFlow.js side run from other checkouts (repeatable); none: this one.
const tfjsRoots = checkoutRoots(values['tfjs-root']);
const geneCounts = values.genes.split(',').map(Number);
const timing = ['--warmup', values.warmup, '--epochs', values.epochs];
// Both sides train SCTL's defaults: sctl-wasm.ts resolves them itself, torch gets them from here.
const settings = resolveSettings(SCTL, {});

interface SideResult {
  side: string;
  medianEpochMs: number;
  medianStepMs: number;
  epochMs: number[];
  epochCpuMs: number[];
  stepsPerEpoch: number;
  [key: string]: unknown;
}
interface Row {
  label: string;
  load: string;
  result: SideResult;
}

function run(label: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): Row {
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  process.stderr.write(`bench-trainer: ${label} (load ${load}) ...\n`);
  const out = spawnSync(command, args, { cwd: repo, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (out.status !== 0) throw new Error(`${label} failed (${out.status ?? out.signal}):\n${out.stderr}`);
  const last = out.stdout.trim().split('\n').pop() ?? '';
  return { label, load, result: JSON.parse(last) as SideResult };
}

function ensureData(genes: number): { dataset: string; prepared: string } {
  const dataset = join(work, `data1-g${genes}`);
  const prepared = join(work, `data1-g${genes}-prepared`);
  if (!existsSync(join(dataset, 'dataset.yaml'))) {
    process.stderr.write(`bench-trainer: writing ${dataset}\n`);
    const r = spawnSync(process.execPath, ['bin/cellsweep.mjs', 'datasets', 'synth', '--shape', 'data1', '--genes', String(genes), '--out', dataset], { cwd: repo, stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error('cellsweep datasets synth failed');
  }
  if (!existsSync(join(prepared, 'meta.json'))) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/trainer/export-data.ts', '--data', dataset, '--out', prepared], { cwd: repo, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('export-data failed');
  }
  return { dataset, prepared };
}

const ABLATIONS = ['gemm', 'gather', 'reduce', 'identity', 'adam', 'reduce-grad'];
const perStep = (r: SideResult, epochs: number[]): number => median(epochs) / r.stepsPerEpoch;

mkdirSync(work, { recursive: true });
const report: { date: string; cpus: string; genes: number; settings: Record<string, unknown>; rows: Row[] }[] = [];
for (const genes of geneCounts) {
  const { dataset, prepared } = ensureData(genes);
  const rows: Row[] = [];
  const torch = [values.python, 'bench/trainer/sctl_torch.py', '--data', prepared, '--settings', JSON.stringify(settings), ...timing];
  const rounds = Number(values.rounds);
  const tag = (round: number): string => (rounds > 1 ? `, round ${round}` : '');
  // Per round: torch 1 thread's epoch time, then each TensorFlow.js label's ratio to it.
  const ratios = new Map<string, number[]>();
  for (let round = 1; round <= rounds; round++) {
    let base: Row | undefined;
    if (values.only !== 'tfjs') {
      const oneThread = { OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
      base = run(`torch, 1 thread, ${genes} genes${tag(round)}`, torch[0] as string, [...torch.slice(1), '--threads', '1'], oneThread);
      rows.push(base);
      if (round === 1) rows.push(run(`torch, all ${cpus().length} cores, ${genes} genes`, torch[0] as string, [...torch.slice(1), '--threads', '0']));
    }
    if (values.only === 'torch') continue;
    for (const [label, root] of tfjsRoots) {
      const script = join(root, 'bench/trainer/sctl-wasm.ts');
      const row = run(`tfjs wasm, ${genes} genes, ${label}${tag(round)}`, process.execPath, ['--import', 'tsx', script, '--data', dataset, ...timing]);
      rows.push(row);
      if (base !== undefined) ratios.set(label, [...(ratios.get(label) ?? []), row.result.medianEpochMs / base.result.medianEpochMs]);
    }
    // One row per kernel replacement left out, from this checkout: what each one gains.
    if (values.ablate && round === 1) {
      const script = join(repo, 'bench/trainer/sctl-wasm.ts');
      for (const change of ABLATIONS) {
        rows.push(run(`tfjs wasm, ${genes} genes, without ${change}`, process.execPath, ['--import', 'tsx', script, '--data', dataset, ...timing, '--without', change]));
      }
    }
  }
  report.push({ date: new Date().toISOString(), cpus: cpus()[0]?.model ?? '?', genes, settings, rows });

  console.log(`\n### ${genes} genes (1,280 bulk, 548 cells; ${rows[0]?.result.stepsPerEpoch} steps per epoch; median of ${values.epochs} epochs after ${values.warmup} warm-up)\n`);
  console.log('| run | load before | epoch (s) | step (ms) | CPU per step (ms) | vs torch 1 thread (same round) |');
  console.log('|---|---|---|---|---|---|');
  let base: Row | undefined;
  for (const r of rows) {
    if (r.label.startsWith('torch, 1 thread')) base = r;
    const ratio = base ? `${(r.result.medianEpochMs / base.result.medianEpochMs).toFixed(2)}x` : '-';
    console.log(
      `| ${r.label} | ${r.load} | ${(r.result.medianEpochMs / 1000).toFixed(2)} | ${r.result.medianStepMs.toFixed(0)} | ${perStep(r.result, r.result.epochCpuMs).toFixed(0)} | ${ratio} |`,
    );
  }
  if (rounds > 1) {
    console.log(`\n| TensorFlow.js / torch 1 thread, ${genes} genes | each round | median |`);
    console.log('|---|---|---|');
    for (const [label, rs] of ratios) console.log(`| ${label} | ${rs.map((x) => `${x.toFixed(2)}x`).join(', ')} | **${median(rs).toFixed(2)}x** |`);
  }
}
const file = join(work, `results-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify(report, null, 1) + '\n');
console.log(`\nraw results: ${file}`);
