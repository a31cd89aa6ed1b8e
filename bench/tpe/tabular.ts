/**
 * The tabular SCTL benchmark (issue 4): samplers search the paper's 720-point
 * grid, but a configuration's value is looked up in a table of real SCTL
 * results (bench/tpe/tabular-sctl.yaml says how the table is made) instead
 * of trained. Scored by how many trials a run needs to reach a
 * configuration within `--tolerance` of the grid's best mean AUC.
 *
 *   node --import tsx bench/tpe/tabular.ts --table runs/tabular-sctl/trials.csv [--seeds 20] [--trials 200] [--tolerance 0.005]
 *
 * Samplers: cellsweep's TPE (defaults: Optuna v5 semantics, with
 * optuna31Every: 4, and with categoricalMutationEvery: 4), random search,
 * and Optuna 3.1's TPESampler(multivariate=True, constant_liar=True) through
 * bench/tpe/tabular.py (/usr/bin/python3), each with seeds 0..seeds-1, one
 * trial at a time. Prints the median trials-to-target per sampler (a run that
 * never gets there counts as more than `--trials`) and two-sided
 * Mann-Whitney U tests of cellsweep against the others.
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import type { Params } from '../../core/params.js';
import { RandomSampler } from '../../coordinator/samplers/random.js';
import type { Sampler } from '../../coordinator/samplers/sampler.js';
import { TpeSampler } from '../../coordinator/samplers/tpe/index.js';
import { BUILTIN_SPACES } from '../../coordinator/space/builtin-spaces.js';
import { MUTATION, PORTFOLIO } from './sampler-settings.js';
import { runSequential } from './simulate.js';
import { mannWhitneyU, median, verdict } from './stats.js';
import { loadTable, lookup, trialsToTarget } from './tabular-table.js';

const { values } = parseArgs({
  options: {
    table: { type: 'string' },
    seeds: { type: 'string', default: '20' },
    trials: { type: 'string', default: '200' },
    tolerance: { type: 'string', default: '0.005' },
    python: { type: 'string', default: '/usr/bin/python3' },
    'no-optuna': { type: 'boolean', default: false },
  },
});
if (values.table === undefined) throw new Error('--table FILE (a complete grid sweep\'s trials.csv) is required');
const seeds = Number(values.seeds);
const trials = Number(values.trials);
const tolerance = Number(values.tolerance);
const GRID_SIZE = 720;

const space = BUILTIN_SPACES['sctl-paper']!;
const table = loadTable(values.table, space, GRID_SIZE);
console.log(`table ${values.table}: ${table.auc.size} configurations, best mean AUC ${table.best.toFixed(4)}, target >= ${(table.best - tolerance).toFixed(4)}`);

/** Trials to target for one sampler and seed; the sampler maximises AUC (it is told -regret). */
function score(sampler: Sampler): number {
  const regret = (p: Params): number => table.best - lookup(table, p);
  const run = runSequential(sampler, space, regret, trials);
  return trialsToTarget(run.values, tolerance);
}

const results: Record<string, number[]> = {
  'cellsweep TPE': Array.from({ length: seeds }, (_, s) => score(new TpeSampler(s))),
  // The portfolio of density rules (docs/tpe.md, optuna31Every), as in bench/results/tpe-head-to-head-optuna31.md.
  'cellsweep TPE 3.1/4': Array.from({ length: seeds }, (_, s) => score(new TpeSampler(s, PORTFOLIO))),
  // Categorical mutation (docs/tpe.md, categoricalMutationEvery), as in bench/results/tpe-head-to-head-seeds40.md.
  'cellsweep TPE mut/4': Array.from({ length: seeds }, (_, s) => score(new TpeSampler(s, MUTATION))),
  random: Array.from({ length: seeds }, (_, s) => score(new RandomSampler(s))),
};
if (!values['no-optuna']) {
  const py = spawnSync(values.python, [new URL('./tabular.py', import.meta.url).pathname, values.table, String(seeds), String(trials), String(tolerance)], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (py.status !== 0) throw new Error(`tabular.py failed (${py.status ?? py.signal}):\n${py.stderr}`);
  results['Optuna 3.1 TPE'] = (JSON.parse(py.stdout) as (number | null)[]).map((t) => t ?? Number.POSITIVE_INFINITY);
}

const show = (t: number): string => (Number.isFinite(t) ? String(t) : `>${trials}`);
console.log(`\n| sampler | median trials to within ${tolerance} of the best | reached in ${trials} trials | per seed |`);
console.log('|---|---|---|---|');
for (const [name, ts] of Object.entries(results)) {
  const reached = ts.filter(Number.isFinite).length;
  console.log(`| ${name} | ${show(median(ts))} | ${reached}/${ts.length} | ${ts.map(show).join(' ')} |`);
}
// Never reaching the target ranks after every run that did (Infinity sorts last).
const ours = results['cellsweep TPE']!;
for (const [name, ts] of Object.entries(results)) {
  if (name === 'cellsweep TPE') continue;
  const test = mannWhitneyU(ours.map((t) => (Number.isFinite(t) ? t : trials + 1)), ts.map((t) => (Number.isFinite(t) ? t : trials + 1)));
  console.log(`cellsweep TPE vs ${name}: ${verdict(test, 0.05)} (p = ${test.p.toPrecision(2)}; win = fewer trials)`);
}
