/**
 * TPE suggestion latency: cellsweep's TpeSampler against Optuna 3.1's
 * TPESampler (in memory, ask + tell) in the same run, at 100, 1,000 and
 * 3,000 finished trials on the 5-parameter `sctl-log` space.
 *
 *   node --import tsx bench/tpe/latency.ts [--iters 50] [--warmup 30]
 *
 * Both get the same histories (made here, handed to bench/tpe/latency.py on
 * stdin) and the same protocol: `warmup` untimed suggestions, then `iters`
 * timed ones, each followed by telling a value, so the history grows by one
 * per suggestion as in a sweep. Ours: TpeSampler defaults (Optuna v5's:
 * multivariate, constant liar), twice: with each trial's params frozen, as a
 * sweep's state holds them (the sampler then reuses their encoding), and
 * with plain objects (every trial checked and encoded at every suggestion).
 * Reported: the median and mean wall time per
 * suggestion, process CPU time per suggestion, and `uptime` before and after
 * (the machine is shared: wall times stretch with its load, CPU times less).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import type { Params } from '../../core/params.js';
import { Rng } from '../../core/rng.js';
import { RandomSampler } from '../../coordinator/samplers/random.js';
import type { TrialView } from '../../coordinator/samplers/sampler.js';
import { TpeSampler } from '../../coordinator/samplers/tpe/index.js';
import { BUILTIN_SPACES } from '../../coordinator/space/builtin-spaces.js';

const SIZES = [100, 1000, 3000];
const TARGET_MS = 1;
const PYTHON = '/usr/bin/python3';

interface Row {
  size: number;
  oursMedian: number;
  oursMean: number;
  oursCpu: number;
  uncachedMedian: number;
  uncachedCpu: number;
  optunaMedian: number;
  optunaMean: number;
  optunaCpu: number;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** A smooth objective with noise, shaped like an AUC: what the history's values look like matters little to the timing. */
function objective(p: Params, rng: Rng): number {
  const l1 = Math.log(p.l1 as number);
  const l2 = Math.log(p.l2 as number);
  const l3 = Math.log(p.l3 as number);
  const bonus = p.sampling === 'weighted' ? 0.02 : p.sampling === 'smote' ? 0.01 : 0;
  return 0.8 - 0.01 * (l1 * l1 + (l2 - 1) ** 2 + 0.5 * (l3 - 1.5) ** 2) - 0.005 * ((p.depth as number) - 4) ** 2 + bonus + rng.normal(0, 0.01);
}

function main(): void {
  const iters = Number(arg('iters', '50'));
  const warmup = Number(arg('warmup', '30'));
  const space = BUILTIN_SPACES['sctl-log']!;
  const rng = new Rng('bench:tpe-latency');
  const random = new RandomSampler(1);
  const trials = Array.from({ length: Math.max(...SIZES) }, (_, i) => {
    const params = random.suggest(space, [], i);
    return { params, value: objective(params, rng) };
  });
  const loadBefore = execFileSync('uptime', { encoding: 'utf8' }).trim();

  // Frozen params, as the sweep's state holds them (journal/replay.ts): the sampler's
  // cache then reuses a trial's encoding. Not frozen: every trial is checked and
  // encoded at every suggestion, the cost for callers that hand in plain objects.
  const measure = (size: number, frozen: boolean) => {
    const sampler = new TpeSampler(0);
    const told = new Rng(`bench:tpe-latency:told:${size}`);
    const own = (p: Params): Params => (frozen ? Object.freeze({ ...p }) : { ...p });
    const history: TrialView[] = trials.slice(0, size).map((t, number) => ({ number, state: 'COMPLETE', value: t.value, params: own(t.params) }));
    // JIT warm-up on this size's history, not told: the timed history starts at `size`.
    for (let i = 0; i < warmup; i++) sampler.suggest(space, history, size + 100_000 + i);
    const walls: number[] = [];
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < iters; i++) {
      const t0 = performance.now();
      const params = sampler.suggest(space, history, history.length)!;
      history.push({ number: history.length, state: 'COMPLETE', params: own(params), value: objective(params, told) });
      walls.push(performance.now() - t0);
    }
    const cpu = process.cpuUsage(cpu0);
    return { size, walls, cpu: (cpu.user + cpu.system) / 1000 / iters };
  };
  // Interleaved by size, so that a drift in the machine's speed falls on both alike.
  const both = SIZES.map((size) => [measure(size, true), measure(size, false)] as const);
  const ours = both.map(([frozen]) => frozen);
  const uncached = both.map(([, plain]) => plain);

  const py = spawnSync(PYTHON, [new URL('./latency.py', import.meta.url).pathname], {
    input: JSON.stringify({ space: space.params, trials, sizes: SIZES, iters, warmup }),
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (py.status !== 0) throw new Error(`bench/tpe/latency.py failed: ${py.stderr}`);
  const optuna = py.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { size: number; wall_ms: number[]; cpu_ms: number; optuna: string });
  const loadAfter = execFileSync('uptime', { encoding: 'utf8' }).trim();

  const rows: Row[] = SIZES.map((size, i) => {
    const o = optuna.find((r) => r.size === size)!;
    return {
      size,
      oursMedian: median(ours[i]!.walls),
      oursMean: mean(ours[i]!.walls),
      oursCpu: ours[i]!.cpu,
      uncachedMedian: median(uncached[i]!.walls),
      uncachedCpu: uncached[i]!.cpu,
      optunaMedian: median(o.wall_ms),
      optunaMean: mean(o.wall_ms),
      optunaCpu: o.cpu_ms,
    };
  });
  const table = [
    '| finished trials | cellsweep median ms | mean ms | CPU ms | params not frozen: median ms | CPU ms | Optuna ' +
      optuna[0]!.optuna +
      ' median ms | mean ms | CPU ms | ratio (median) | ratio (CPU) |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.size} | ${r.oursMedian.toFixed(3)} | ${r.oursMean.toFixed(3)} | ${r.oursCpu.toFixed(3)} | ${r.uncachedMedian.toFixed(3)} | ${r.uncachedCpu.toFixed(3)} | ${r.optunaMedian.toFixed(1)} | ${r.optunaMean.toFixed(1)} | ${r.optunaCpu.toFixed(1)} | ${(r.optunaMedian / r.oursMedian).toFixed(0)}x | ${(r.optunaCpu / r.oursCpu).toFixed(0)}x |`,
    ),
  ].join('\n');
  const at1000 = rows.find((r) => r.size === 1000)!;
  const verdict = `Target at 1,000 trials: at most ${TARGET_MS} ms. Measured: median ${at1000.oursMedian.toFixed(2)} ms wall, ${at1000.oursCpu.toFixed(2)} ms CPU (${at1000.oursMedian <= TARGET_MS ? 'met' : 'not met'} on wall time under this load).`;
  const report = [
    `iters ${iters}, warmup ${warmup}, node ${process.version}`,
    `uptime before: ${loadBefore}`,
    `uptime after:  ${loadAfter}`,
    '',
    table,
    '',
    verdict,
  ].join('\n');
  console.log(report);
}

main();
