/**
 * The tabular SCTL benchmark (issue 4): samplers search the paper's 720-point
 * grid, but a configuration's value is looked up in a table of real SCTL
 * results (bench/tpe/tabular-sctl.yaml says how the table is made) instead
 * of trained. Scored by how many trials a run needs to reach a
 * configuration within `--tolerance` of the grid's best mean AUC, and by the
 * mean best-so-far regret (best mean AUC - best found) at 25, 50 and 100
 * trials.
 *
 *   node --import tsx bench/tpe/tabular.ts --table bench/tpe/tabular-sctl-trials.csv [--seeds 20] [--first-seed 0] [--trials 200] [--tolerance 0.005]
 *
 * Samplers, each with seeds first-seed .. first-seed+seeds-1, one trial at a
 * time: cellsweep's TPE (defaults: Optuna v5 semantics; with optuna31Every:
 * 4; with categoricalMutationEvery: 4; the grid setting of
 * sampler-settings.ts, and that setting without enumeration and with v5's
 * density rules), random search, and Optuna 3.1's
 * TPESampler(multivariate=True, constant_liar=True) through
 * bench/tpe/tabular.py (/usr/bin/python3), with its default 10 startup
 * trials and with the grid setting's startup count. Prints the median
 * trials-to-target per sampler (a run that never gets there counts as more
 * than `--trials`), the regrets, and two-sided Mann-Whitney U tests of
 * cellsweep's defaults and grid setting against the others.
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import type { Params } from '../../core/params.js';
import { RandomSampler } from '../../coordinator/samplers/random.js';
import type { Sampler } from '../../coordinator/samplers/sampler.js';
import { TpeSampler } from '../../coordinator/samplers/tpe/index.js';
import { BUILTIN_SPACES } from '../../coordinator/space/builtin-spaces.js';
import { GRID, MUTATION, PORTFOLIO } from './sampler-settings.js';
import { regretCurve, runSequential } from './simulate.js';
import { mannWhitneyU, median, verdict } from './stats.js';
import { loadTable, lookup, trialsToTarget } from './tabular-table.js';

const { values } = parseArgs({
  options: {
    table: { type: 'string', default: 'bench/tpe/tabular-sctl-trials.csv' },
    seeds: { type: 'string', default: '20' },
    'first-seed': { type: 'string', default: '0' },
    trials: { type: 'string', default: '200' },
    tolerance: { type: 'string', default: '0.005' },
    python: { type: 'string', default: '/usr/bin/python3' },
    'no-optuna': { type: 'boolean', default: false },
  },
});
const count = (name: keyof typeof values, min: number): number => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: expected an integer >= ${min}, but got '${String(values[name])}'`);
  return n;
};
const seeds = count('seeds', 2);
const firstSeed = count('first-seed', 0);
const trials = count('trials', 100);
const tolerance = Number(values.tolerance);
if (!(tolerance >= 0)) throw new Error(`--tolerance: expected a number >= 0, but got '${values.tolerance}'`);
const GRID_SIZE = 720;
const CHECKPOINTS = [25, 50, 100];
const seedList = Array.from({ length: seeds }, (_, i) => firstSeed + i);

const space = BUILTIN_SPACES['sctl-paper']!;
const table = loadTable(values.table!, space, GRID_SIZE);
console.log(`table ${values.table}: ${table.auc.size} configurations, best mean AUC ${table.best.toFixed(4)}, target >= ${(table.best - tolerance).toFixed(4)}; seeds ${firstSeed}..${firstSeed + seeds - 1}`);

/** One sampler's runs: per seed, the regret (best mean AUC - AUC) of each trial. */
type Runs = number[][];

/** The sampler maximises AUC (it is told -regret). */
const runs = (make: (seed: number) => Sampler): Runs =>
  seedList.map((s) => runSequential(make(s), space, (p: Params) => table.best - lookup(table, p), trials).values);

/** Optuna 3.1's runs through tabular.py, its values (AUCs) turned into regrets. */
function optunaRuns(nStartup: number): Runs {
  const script = new URL('./tabular.py', import.meta.url).pathname;
  const args = [script, values.table!, String(seeds), String(trials), String(firstSeed), String(nStartup)];
  const py = spawnSync(values.python!, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (py.status !== 0) throw new Error(`tabular.py failed (${py.status ?? py.signal}):\n${py.stderr}`);
  return (JSON.parse(py.stdout) as number[][]).map((vs) => vs.map((v) => table.best - v));
}

const results: Record<string, Runs> = {
  'cellsweep TPE': runs((s) => new TpeSampler(s)),
  // The portfolio of density rules (docs/tpe.md, optuna31Every), as in bench/results/tpe-head-to-head-optuna31.md.
  'cellsweep TPE 3.1/4': runs((s) => new TpeSampler(s, PORTFOLIO)),
  // Categorical mutation (docs/tpe.md, categoricalMutationEvery), as in bench/results/tpe-head-to-head-seeds40.md.
  'cellsweep TPE mut/4': runs((s) => new TpeSampler(s, MUTATION)),
  // The setting for small discrete spaces (docs/tpe.md, enumerateUpTo).
  'cellsweep TPE grid': runs((s) => new TpeSampler(s, GRID)),
  // Ablations of the grid setting: what enumeration and 3.1's rules each add.
  'grid without enumeration': runs((s) => new TpeSampler(s, { ...GRID, enumerateUpTo: 0 })),
  'grid with v5 rules': runs((s) => new TpeSampler(s, { ...GRID, optuna31Every: 0 })),
  random: runs((s) => new RandomSampler(s)),
};
if (!values['no-optuna']) {
  results['Optuna 3.1 TPE'] = optunaRuns(10);
  // The same startup budget as the grid setting, so its win is not only a shorter startup.
  results[`Optuna 3.1 TPE, ${GRID.nStartupTrials} startup`] = optunaRuns(GRID.nStartupTrials!);
}

const toTarget = (r: Runs): number[] => r.map((regrets) => trialsToTarget(regrets, tolerance));
/** Mean over seeds of the best regret within the first n trials. */
const regretAt = (r: Runs, n: number): number => r.reduce((sum, regrets) => sum + regretCurve(regrets, 0)[n - 1]!, 0) / r.length;

const show = (t: number): string => (Number.isFinite(t) ? String(t) : `>${trials}`);
const at = CHECKPOINTS.filter((n) => n <= trials);
console.log(`\n| sampler | median trials to within ${tolerance} of the best | reached in ${trials} trials | ${at.map((n) => `regret @${n}`).join(' | ')} | per seed |`);
console.log(`|---|---|---|${at.map(() => '---|').join('')}---|`);
for (const [name, r] of Object.entries(results)) {
  const ts = toTarget(r);
  const reached = ts.filter(Number.isFinite).length;
  console.log(`| ${name} | ${show(median(ts))} | ${reached}/${ts.length} | ${at.map((n) => regretAt(r, n).toFixed(4)).join(' | ')} | ${ts.map(show).join(' ')} |`);
}
// Never reaching the target ranks after every run that did (Infinity sorts last).
const ranked = (r: Runs): number[] => toTarget(r).map((t) => (Number.isFinite(t) ? t : trials + 1));
console.log('');
for (const ours of ['cellsweep TPE', 'cellsweep TPE grid']) {
  for (const [name, r] of Object.entries(results)) {
    if (name === ours) continue;
    const test = mannWhitneyU(ranked(results[ours]!), ranked(r));
    console.log(`${ours} vs ${name}: ${verdict(test, 0.05)} (p = ${test.p.toPrecision(2)}; win = fewer trials)`);
  }
}
