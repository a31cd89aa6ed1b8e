/**
 * TPE head-to-head: cellsweep's TpeSampler against Optuna 3.1's TPESampler
 * (and random search) on the problems of bench/tpe/problems.json, sequential
 * and with simulated asynchronous workers. One command, from the repository
 * root:
 *
 *   node --import tsx bench/tpe/head-to-head.ts
 *
 * Options: --seeds 20 --first-seed 0 (seeds first .. first + seeds - 1) --trials 100 (sequential; async runs 100 trials with 8
 * workers, 200 with 32) --jobs 2 (Optuna processes) --out .tmp/bench-tpe
 * (raw results) --report bench/results/tpe-head-to-head.md --reuse (keep
 * Optuna results of an earlier run whose unit definitions match)
 * --problems a,b (subset) --no-async --optuna-v5 DIR (also run Optuna v5's
 * source from DIR, e.g. /tmp/optuna-v5 as bench/reference/tpe_fixtures.py
 * extracts it, as a third sampler).
 *
 * The Optuna side (bench/tpe/head_to_head.py, /usr/bin/python3 with Debian's
 * python3-optuna and python3-scipy) runs in `jobs` child processes while this
 * process runs cellsweep's samplers. Before anything runs, both sides
 * evaluate the same sample points of every problem and must agree. After,
 * the rank tests are recomputed with scipy.stats.mannwhitneyu and must agree.
 */
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { ParamValue, Params } from '../../core/params.js';
import { RandomSampler } from '../../coordinator/samplers/random.js';
import type { Sampler } from '../../coordinator/samplers/sampler.js';
import { TpeSampler } from '../../coordinator/samplers/tpe/index.js';
import { loadProblems, PROBLEMS_FILE, type Problem } from './problems.js';
import { MUTATION, POOL, PORTFOLIO } from './sampler-settings.js';
import { durationTable, regretAt, regretCurve, runAsync, runSequential, type Run } from './simulate.js';
import { mannWhitneyU, mean, median, sem, verdict, type MannWhitney } from './stats.js';

const PYTHON = '/usr/bin/python3';
const HERE = new URL('.', import.meta.url).pathname;
const COMMAND = 'node --import tsx bench/tpe/head-to-head.ts';
const ASYNC_PROBLEMS = ['hartmann6', 'ackley5', 'hpo-mixed'];
const WORKERS = [8, 32];
const CHECKPOINTS = [25, 50, 100];
const ALPHA = 0.05;
type SamplerId = 'random' | 'optuna' | 'optuna5' | 'ours' | 'ours-scr' | 'ours-pool' | 'ours-31' | 'ours-mut';
const LABEL: Record<SamplerId, string> = {
  random: 'random',
  optuna: 'Optuna 3.1',
  optuna5: 'Optuna v5',
  ours: 'cellsweep',
  'ours-scr': 'cellsweep +SCR',
  'ours-pool': 'cellsweep pool',
  'ours-31': 'cellsweep 3.1/4',
  'ours-mut': 'cellsweep mut/4',
};

interface Unit {
  key: string;
  mode: 'seq' | 'async';
  problem: string;
  seed: number;
  trials: number;
  workers?: number;
  durations?: number[];
  spec: string;
}

interface UnitResult {
  key: string;
  runs: Partial<Record<SamplerId, Run>>;
  optunaWall?: number;
  optunaCpu?: number;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);
const log = (msg: string): void => void process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const uptime = (): string => execFileSync('uptime', { encoding: 'utf8' }).trim();

function ourSampler(id: SamplerId, seed: number): Sampler {
  switch (id) {
    case 'random':
      return new RandomSampler(seed);
    case 'ours':
      return new TpeSampler(seed);
    case 'ours-scr':
      return new TpeSampler(seed, { startupCountsRunning: true });
    case 'ours-pool':
      return new TpeSampler(seed, POOL);
    case 'ours-31':
      return new TpeSampler(seed, PORTFOLIO);
    case 'ours-mut':
      return new TpeSampler(seed, MUTATION);
    case 'optuna':
    case 'optuna5':
      throw new Error('Optuna runs on the Python side');
  }
}

/** Both sides evaluate the same points; they must agree to rounding. */
function checkAgreement(problems: readonly Problem[]): { points: number; maxRelDiff: number } {
  const points: Array<{ problem: string; params: Params }> = [];
  for (const p of problems) {
    points.push({ problem: p.name, params: p.argmin });
    const random = new RandomSampler(12345);
    for (let i = 0; i < 40; i++) points.push({ problem: p.name, params: random.suggest(p.space, [], i) });
  }
  const py = spawnSync(PYTHON, [join(HERE, 'problems.py'), '--eval'], { input: JSON.stringify({ points }), encoding: 'utf8', maxBuffer: 1 << 26 });
  if (py.status !== 0) throw new Error(`bench/tpe/problems.py failed: ${py.stderr}`);
  const values = (JSON.parse(py.stdout) as { values: number[] }).values;
  let maxRelDiff = 0;
  points.forEach((pt, i) => {
    const ts = problems.find((p) => p.name === pt.problem)!.evaluate(pt.params);
    const diff = Math.abs(ts - values[i]!) / Math.max(1, Math.abs(ts));
    maxRelDiff = Math.max(maxRelDiff, diff);
    if (!(diff <= 1e-12)) throw new Error(`${pt.problem}: TypeScript gives ${ts}, Python ${values[i]} at ${JSON.stringify(pt.params)}`);
  });
  return { points: points.length, maxRelDiff };
}

function makeUnits(problems: readonly Problem[], firstSeed: number, seeds: number, trials: number, withAsync: boolean): Unit[] {
  const problemsText = readFileSync(PROBLEMS_FILE, 'utf8');
  const spec = (u: Omit<Unit, 'spec' | 'key'>): string =>
    createHash('sha256')
      .update(problemsText)
      .update(JSON.stringify(u))
      .digest('hex')
      .slice(0, 16);
  const units: Unit[] = [];
  for (const p of problems) {
    for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
      const u = { mode: 'seq' as const, problem: p.name, seed, trials };
      units.push({ ...u, key: `seq:${p.name}:${seed}`, spec: spec(u) });
    }
  }
  if (withAsync) {
    for (const workers of WORKERS) {
      const n = workers === 8 ? trials : 2 * trials;
      for (const p of problems.filter((q) => ASYNC_PROBLEMS.includes(q.name))) {
        for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
          const u = { mode: 'async' as const, problem: p.name, seed, trials: n, workers, durations: durationTable(seed, n) };
          units.push({ ...u, key: `async:${workers}:${p.name}:${seed}`, spec: spec(u) });
        }
      }
    }
  }
  return units;
}

interface OptunaLine {
  key: string;
  spec: string;
  values: number[];
  ends?: number[];
  choices?: Record<string, ParamValue[]>;
  wall_s: number;
  cpu_s: number;
  optuna: string;
}

/** One Python side: Debian's Optuna 3.1, or (with --optuna-v5 DIR) Optuna v5's source on PYTHONPATH. */
interface Side {
  id: 'optuna' | 'optuna5';
  /** Result files: `${prefix}-<shard>.jsonl` in the output folder. */
  prefix: string;
  env: NodeJS.ProcessEnv;
}

function readSide(out: string, side: Side): Map<string, OptunaLine> {
  const found = new Map<string, OptunaLine>();
  if (!existsSync(out)) return found;
  const pattern = new RegExp(`^${side.prefix}-\\d+\\.jsonl$`);
  for (const file of readdirSync(out).filter((f) => pattern.test(f))) {
    for (const line of readFileSync(join(out, file), 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      try {
        const r = JSON.parse(line) as OptunaLine;
        // A rerun that recorded the categorical choices wins over an older line without them, whichever file is read last.
        const key = `${r.key}@${r.spec}`;
        if (!found.has(key) || r.choices !== undefined) found.set(key, r);
      } catch {
        // A line cut short by an interrupted run: that unit runs again.
      }
    }
  }
  return found;
}

/** A stored result that answers `u`: same definition, and the categorical choices when the space has any. */
function usable(line: OptunaLine | undefined, u: Unit, problems: ReadonlyMap<string, Problem>): line is OptunaLine {
  if (line === undefined) return false;
  const hasCategorical = problems.get(u.problem)!.space.params.some(([, d]) => d.type === 'categorical');
  return !hasCategorical || line.choices !== undefined;
}

/** Starts one Python side on the units it has no result for, in `jobs` processes; resolves when all have exited. */
function startSide(side: Side, units: readonly Unit[], out: string, jobs: number, problems: ReadonlyMap<string, Problem>): Promise<void> {
  const done = readSide(out, side);
  const todo = units.filter((u) => !usable(done.get(`${u.key}@${u.spec}`), u, problems));
  log(`${side.id}: ${units.length - todo.length} units reused, ${todo.length} to run in ${jobs} processes`);
  if (todo.length === 0) return Promise.resolve();
  // Most expensive first (32 workers, 200 trials), dealt round-robin.
  const cost = (u: Unit): number => u.trials * u.trials;
  const ordered = [...todo].sort((a, b) => cost(b) - cost(a));
  const shards = Array.from({ length: jobs }, (): Unit[] => []);
  ordered.forEach((u, i) => shards[i % jobs]!.push(u));
  return Promise.all(
    shards
      .filter((s) => s.length > 0)
      .map(
        (shard, j) =>
          new Promise<void>((resolve, reject) => {
            const jobFile = join(out, `${side.prefix}-job-${j}.json`);
            writeFileSync(jobFile, JSON.stringify({ units: shard }));
            const child = spawn(PYTHON, [join(HERE, 'head_to_head.py'), 'run', jobFile, join(out, `${side.prefix}-${j}.jsonl`)], {
              stdio: ['ignore', 'ignore', 'pipe'],
              env: { ...process.env, ...side.env },
            });
            let stderr = '';
            child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
            child.on('error', reject);
            child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`head_to_head.py (${side.id}) shard ${j} exited with ${code}: ${stderr}`))));
          }),
      ),
  ).then(() => undefined);
}

function runOurs(units: readonly Unit[], problems: ReadonlyMap<string, Problem>): { results: Map<string, UnitResult>; seconds: Partial<Record<SamplerId, number>> } {
  const results = new Map<string, UnitResult>();
  const seconds: Partial<Record<SamplerId, number>> = {};
  let last = Date.now();
  units.forEach((u, n) => {
    const p = problems.get(u.problem)!;
    const ids: SamplerId[] = u.mode === 'seq' ? ['random', 'ours', 'ours-pool', 'ours-31', 'ours-mut'] : ['random', 'ours', 'ours-scr', 'ours-pool', 'ours-31', 'ours-mut'];
    const runs: Partial<Record<SamplerId, Run>> = {};
    for (const id of ids) {
      const t0 = performance.now();
      const sampler = ourSampler(id, u.seed);
      runs[id] = u.mode === 'seq' ? runSequential(sampler, p.space, p.evaluate, u.trials) : runAsync(sampler, p.space, p.evaluate, u.trials, u.workers!, u.durations!);
      seconds[id] = (seconds[id] ?? 0) + (performance.now() - t0) / 1000;
    }
    results.set(u.key, { key: u.key, runs });
    if (Date.now() - last > 30_000) {
      last = Date.now();
      log(`cellsweep: ${n + 1}/${units.length} units`);
    }
  });
  return { results, seconds };
}

// ---------------------------------------------------------------- report

function fmt(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e4) return x.toPrecision(3);
  return x.toExponential(2);
}
const fmtP = (p: number): string => (p < 0.001 ? p.toExponential(1) : p.toFixed(3));
const meanSe = (xs: readonly number[]): string => (xs.every(Number.isFinite) ? `${fmt(mean(xs))} ± ${fmt(sem(xs))}` : `n/a (${xs.filter((x) => !Number.isFinite(x)).length} runs had no trial ended)`);

interface Comparison {
  a: SamplerId;
  b: SamplerId;
  test: MannWhitney;
  verdict: 'win' | 'tie' | 'loss';
}

function compare(a: SamplerId, b: SamplerId, xa: number[], xb: number[]): Comparison {
  const test = mannWhitneyU(xa, xb);
  return { a, b, test, verdict: verdict(test, ALPHA) };
}

function tally(cs: readonly Comparison[]): string {
  const n = (v: string): number => cs.filter((c) => c.verdict === v).length;
  return `${n('win')} wins, ${n('tie')} ties, ${n('loss')} losses`;
}

function main(): Promise<void> {
  const seeds = Number(arg('seeds', '20'));
  const firstSeed = Number(arg('first-seed', '0'));
  const trials = Number(arg('trials', '100'));
  const jobs = Number(arg('jobs', String(Math.max(1, Math.min(2, availableParallelism())))));
  const out = arg('out', '.tmp/bench-tpe');
  const reportPath = arg('report', 'bench/results/tpe-head-to-head.md');
  const only = arg('problems', '');
  const v5 = arg('optuna-v5', '');
  const withAsync = !flag('no-async');
  const started = Date.now();
  const loadBefore = uptime();

  let problems = loadProblems();
  if (only !== '') problems = problems.filter((p) => only.split(',').includes(p.name));
  const byName = new Map(problems.map((p) => [p.name, p]));
  const agreement = checkAgreement(problems);
  log(`problems agree on ${agreement.points} points (max relative difference ${agreement.maxRelDiff.toExponential(1)})`);

  const sides: Side[] = [{ id: 'optuna', prefix: 'optuna', env: {} }];
  if (v5 !== '') {
    if (!existsSync(join(v5, 'optuna', '__init__.py'))) throw new Error(`--optuna-v5 ${v5}: no optuna/__init__.py there`);
    sides.push({ id: 'optuna5', prefix: 'optuna5', env: { PYTHONPATH: v5 } });
  }
  mkdirSync(out, { recursive: true });
  if (!flag('reuse')) for (const f of readdirSync(out).filter((f) => /^optuna5?-/.test(f))) rmSync(join(out, f));
  const units = makeUnits(problems, firstSeed, seeds, trials, withAsync);
  const sideStart = Date.now();
  const sideWall: Partial<Record<SamplerId, number>> = {};
  const python = Promise.all(sides.map((side) => startSide(side, units, out, jobs, byName).then(() => (sideWall[side.id] = (Date.now() - sideStart) / 1000))));

  const oursStart = Date.now();
  const { results, seconds } = runOurs(units, byName);
  const oursWall = (Date.now() - oursStart) / 1000;
  log(`cellsweep done in ${oursWall.toFixed(0)} s; waiting for Optuna`);

  return python.then(() => {
    const versions: Partial<Record<SamplerId, string>> = {};
    const pyTime: Partial<Record<SamplerId, { wall: number; cpu: number }>> = {};
    for (const side of sides) {
      const lines = readSide(out, side);
      const time = { wall: 0, cpu: 0 };
      for (const u of units) {
        const line = lines.get(`${u.key}@${u.spec}`);
        if (!usable(line, u, byName)) throw new Error(`no ${side.id} result for ${u.key}`);
        versions[side.id] = line.optuna;
        time.wall += line.wall_s;
        time.cpu += line.cpu_s;
        const run: Run = { values: line.values };
        if (line.ends !== undefined) run.ends = line.ends;
        if (line.choices !== undefined) run.choices = line.choices;
        results.get(u.key)!.runs[side.id] = run;
        if (u.mode === 'async') {
          // Both simulations must have produced the same schedule.
          const ours = results.get(u.key)!.runs.ours!.ends!;
          line.ends!.forEach((e, i) => {
            if (Math.abs(e - ours[i]!) > 1e-9) throw new Error(`${u.key}: trial ${i} ends at ${e} in ${side.id}'s simulation, ${ours[i]} in ours`);
          });
        }
      }
      pyTime[side.id] = time;
    }
    const loadAfter = uptime();
    const totalWall = (Date.now() - started) / 1000;
    writeFileSync(
      join(out, 'results.json'),
      JSON.stringify({ date: new Date().toISOString(), seeds, trials, versions, units: units.map((u) => ({ ...u, durations: undefined, runs: results.get(u.key)!.runs })) }),
    );
    const report = buildReport({
      problems,
      units,
      results,
      seeds,
      firstSeed,
      trials,
      agreement,
      loadBefore,
      loadAfter,
      totalWall,
      oursWall,
      sideWall,
      pyTime,
      seconds,
      jobs,
      versions,
      out,
      withAsync,
      v5,
    });
    writeFileSync(reportPath, report);
    log(`wrote ${reportPath} and ${join(out, 'results.json')} (${totalWall.toFixed(0)} s in all)`);
  });
}

interface ReportInput {
  problems: readonly Problem[];
  units: readonly Unit[];
  results: Map<string, UnitResult>;
  seeds: number;
  firstSeed: number;
  trials: number;
  agreement: { points: number; maxRelDiff: number };
  loadBefore: string;
  loadAfter: string;
  totalWall: number;
  oursWall: number;
  sideWall: Partial<Record<SamplerId, number>>;
  pyTime: Partial<Record<SamplerId, { wall: number; cpu: number }>>;
  seconds: Partial<Record<SamplerId, number>>;
  jobs: number;
  versions: Partial<Record<SamplerId, string>>;
  out: string;
  withAsync: boolean;
  v5: string;
}

function buildReport(r: ReportInput): string {
  const md: string[] = [];
  const hasV5 = r.v5 !== '';
  const seqIds: SamplerId[] = hasV5 ? ['random', 'optuna', 'optuna5', 'ours', 'ours-pool', 'ours-31', 'ours-mut'] : ['random', 'optuna', 'ours', 'ours-pool', 'ours-31', 'ours-mut'];
  const runsOf = (key: (seed: number) => string, id: SamplerId): Run[] => Array.from({ length: r.seeds }, (_, s) => r.results.get(key(r.firstSeed + s))!.runs[id]!);
  const checks: Array<{ x: number[]; y: number[]; p: number }> = [];
  const test = (a: SamplerId, b: SamplerId, xa: number[], xb: number[]): Comparison => {
    const c = compare(a, b, xa, xb);
    checks.push({ x: xa, y: xb, p: c.test.p });
    return c;
  };
  const cellOf = (c: Comparison): string => `${c.verdict} (${fmtP(c.test.p)})`;
  const v5Label = hasV5 ? `Optuna ${r.versions.optuna5}` : '';

  // Sequential regret curves.
  const seqRegret = new Map<string, Partial<Record<SamplerId, number[][]>>>();
  for (const p of r.problems) {
    const entry: Partial<Record<SamplerId, number[][]>> = {};
    for (const id of seqIds) entry[id] = runsOf((s) => `seq:${p.name}:${s}`, id).map((run) => regretCurve(run.values, p.fstar));
    seqRegret.set(p.name, entry);
  }
  const at = (curves: number[][], k: number): number[] => curves.map((c) => c[Math.min(k, c.length) - 1]!);

  md.push(`# TPE head-to-head: cellsweep vs Optuna ${r.versions.optuna}`);
  md.push('');
  md.push(`Date: ${new Date().toISOString().slice(0, 10)}. Command (from the repository root; the \`bench-tpe\` make target runs the first line):`);
  md.push('');
  md.push(`    ${COMMAND}`);
  const args = process.argv.slice(2).join(' ');
  if (args !== '') md.push(`    ${COMMAND} ${args}    # this report`);
  md.push('');
  const sideTimes = Object.entries(r.sideWall)
    .map(([id, w]) => `${LABEL[id as SamplerId]} side ${((w as number) / 60).toFixed(1)} min`)
    .join(', ');
  md.push(
    `Run time: ${(r.totalWall / 60).toFixed(1)} min wall in all (${sideTimes}, ${r.jobs} processes each, results reused from an earlier run excluded; the cellsweep side, in parallel with them, ${(r.oursWall / 60).toFixed(1)} min). Node ${process.version}; problems: \`bench/tpe/problems.json\`; raw results: \`${r.out}/results.json\` (not committed).`,
  );
  md.push('');
  md.push("Machine load (the machine is shared, 2 cores; other engineers' jobs were running):");
  md.push('');
  md.push(`    before: ${r.loadBefore}`);
  md.push(`    after:  ${r.loadAfter}`);
  md.push('');
  md.push('## Setup');
  md.push('');
  const setup = [
    `- **Problems** (\`bench/tpe/problems.json\`, one definition read by \`problems.ts\` and \`problems.py\`): ${r.problems.length} minimisation problems, regret = f(best so far) - f*. Before the runs both sides evaluated the same ${r.agreement.points} points (each problem's argmin and 40 random points) and agreed to a relative ${r.agreement.maxRelDiff.toExponential(1)}. cellsweep's samplers maximise and are told -f; Optuna's study maximises -f.`,
    '',
    '  | problem | parameters | f* | about |',
    '  |---|---|---:|---|',
    ...r.problems.map((p) => `  | ${p.name} | ${describeSpace(p)} | ${p.fstar.toPrecision(8)} | ${p.about} |`),
    '',
    `- **Samplers**, seeds ${r.firstSeed}..${r.firstSeed + r.seeds - 1} each:`,
    `  - *Optuna 3.1* (Debian's ${r.versions.optuna}): \`optuna.samplers.TPESampler(seed=s, multivariate=True, constant_liar=True)\` (both set explicitly: 3.1's defaults are False), in-memory study, \`ask\`/\`tell\`, logging silenced.`,
  ];
  if (hasV5) {
    setup.push(
      `  - *Optuna v5* (reference, not a target): the same call with Optuna's source at commit 1d8ce7b (${v5Label}, the version whose semantics docs/tpe.md follows) on PYTHONPATH (\`${r.v5}\`, see bench/reference/tpe_fixtures.py for how to get it), Debian's numpy and SciPy. cellsweep's TPE should be statistically indistinguishable from it; where cellsweep and Optuna 3.1 differ, this column says whether the difference is v5's algorithm or cellsweep's port.`,
    );
  }
  setup.push(
    `  - *cellsweep*: \`new TpeSampler(s)\`, the defaults (Optuna v5's semantics: multivariate, constant liar, 10 startup trials, 24 candidates).`,
    `  - *cellsweep pool*: \`new TpeSampler(s, ${JSON.stringify(POOL)})\`, the setting docs/tpe.md suggests for parallel trainers, chosen before the benchmark ran. In a sequential run only the Latin-hypercube startup and (on the all-discrete step-quadratic) duplicate rejection can act.`,
    `  - *cellsweep +SCR* (asynchronous runs only): \`{startupCountsRunning: true}\` alone.`,
    `  - *cellsweep 3.1/4*: \`new TpeSampler(s, ${JSON.stringify(PORTFOLIO)})\`: every fourth suggestion made with Optuna 3.1.0's density rules, the others with v5's (docs/tpe.md). The period 4 was chosen among 2-5 on seeds 0-19 of this benchmark${r.firstSeed === 0 ? ', so on these seeds its figures are optimistic; see BENCHMARKS.md for a check on other seeds' : ''}.`,
    `  - *cellsweep mut/4*: \`new TpeSampler(s, ${JSON.stringify(MUTATION)})\`: every fourth suggestion keeps TPE's numeric parameters and draws its categorical ones uniformly (docs/tpe.md). The period 4 was chosen among 3, 4 and 6 on seeds 20-39 of this benchmark${r.firstSeed === 20 ? ', so on these seeds its figures are optimistic; see BENCHMARKS.md for a check on other seeds' : ''}.`,
    `  - *random*: \`RandomSampler(s)\`.`,
    `- **Sequential**: ${r.trials} trials per run: ask, evaluate, tell.`,
    `- **Rank test**: two-sided Mann-Whitney U on the ${r.seeds} final regrets of each sampler. The seeds are not paired (the two samplers draw from different random streams, so seed s of one has nothing in common with seed s of the other), hence an unpaired test. Normal approximation with tie and continuity corrections, alpha 0.05. *win*: the first-named sampler has significantly lower regret; *loss*: significantly higher; *tie*: p >= 0.05. The test is \`bench/tpe/stats.ts\`; every p-value in this file was recomputed with \`scipy.stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic")\` (SciPy 1.10.1; with more than 8 values per sample that is its default method), see the end.`,
    `- **Dispersion**: mean ± standard error of the mean over the ${r.seeds} seeds; medians are in the final-regret table.`,
  );
  md.push(setup.join('\n'));
  md.push('');

  md.push(`## Sequential: mean best-so-far regret (± s.e.m., ${r.seeds} seeds)`);
  md.push('');
  for (const k of CHECKPOINTS.filter((c) => c <= r.trials)) {
    md.push(`### After ${k} trials`);
    md.push('');
    md.push(`| problem | ${seqIds.map((id) => LABEL[id]).join(' | ')} |`);
    md.push(`|---|${seqIds.map(() => '---:').join('|')}|`);
    for (const p of r.problems) {
      const e = seqRegret.get(p.name)!;
      md.push(`| ${p.name} | ${seqIds.map((id) => meanSe(at(e[id]!, k))).join(' | ')} |`);
    }
    md.push('');
  }

  md.push(`## Sequential: final regret (${r.trials} trials), medians and rank tests`);
  md.push('');
  const pairs: Array<[string, SamplerId, SamplerId]> = [
    ['cellsweep vs Optuna 3.1', 'ours', 'optuna'],
    ['pool vs Optuna 3.1', 'ours-pool', 'optuna'],
    ['3.1/4 vs Optuna 3.1', 'ours-31', 'optuna'],
    ['mut/4 vs Optuna 3.1', 'ours-mut', 'optuna'],
    ...(hasV5 ? ([['cellsweep vs Optuna v5', 'ours', 'optuna5']] as Array<[string, SamplerId, SamplerId]>) : []),
    ['cellsweep vs random', 'ours', 'random'],
    ['Optuna 3.1 vs random', 'optuna', 'random'],
  ];
  md.push(`| problem | ${seqIds.map((id) => `median ${LABEL[id]}`).join(' | ')} | ${pairs.map(([label]) => `${label} (p)`).join(' | ')} |`);
  md.push(`|---|${seqIds.map(() => '---:').join('|')}|${pairs.map(() => '---').join('|')}|`);
  const seqComparisons = pairs.map((): Comparison[] => []);
  for (const p of r.problems) {
    const e = seqRegret.get(p.name)!;
    const fin = (id: SamplerId): number[] => at(e[id]!, r.trials);
    const cells = pairs.map(([, a, b], i) => {
      const c = test(a, b, fin(a), fin(b));
      seqComparisons[i]!.push(c);
      return cellOf(c);
    });
    md.push(`| ${p.name} | ${seqIds.map((id) => fmt(median(fin(id)))).join(' | ')} | ${cells.join(' | ')} |`);
  }
  md.push('');
  md.push(`Totals over ${r.problems.length} problems:`);
  md.push('');
  pairs.forEach(([label], i) => md.push(`- ${label}: ${i === 0 ? '**' : ''}${tally(seqComparisons[i]!)}${i === 0 ? '**' : ''}`));
  md.push('');
  const main = seqComparisons[0]!;
  const losses = main.filter((c) => c.verdict === 'loss').length;
  const wins = main.filter((c) => c.verdict === 'win').length;
  const third = Math.ceil(r.problems.length / 3);
  md.push(
    `Target (issue 4): no significant loss on any problem, wins on at least a third (${third} of ${r.problems.length}). Measured, cellsweep defaults vs Optuna 3.1: ${losses} ${losses === 1 ? 'loss' : 'losses'} (${losses === 0 ? 'met' : 'not met'}: ${
      main
        .map((c, i) => (c.verdict === 'loss' ? r.problems[i]!.name : ''))
        .filter((n) => n !== '')
        .join(', ') || 'none'
    }), ${wins} wins (${wins >= third ? 'met' : 'not met'}).`,
  );
  md.push('');

  // Categorical choices on the problems that have a categorical parameter.
  const catProblems = r.problems.filter((p) => p.objective.by !== undefined && p.argmin[p.objective.by] !== undefined);
  if (catProblems.length > 0) {
    md.push('### The categorical parameter');
    md.push('');
    md.push(
      `On the problems whose objective depends on a categorical parameter: the share of trials ${Math.floor(r.trials / 2) + 1}..${r.trials} that use the optimum's choice, and in how many of the ${r.seeds} runs the best trial has it (sequential runs).`,
    );
    md.push('');
    md.push(`| problem | optimum's choice | ${seqIds.map((id) => LABEL[id]).join(' | ')} |`);
    md.push(`|---|---|${seqIds.map(() => '---:').join('|')}|`);
    for (const p of catProblems) {
      const by = p.objective.by!;
      const target = p.argmin[by];
      const cells = seqIds.map((id) => {
        const runs = runsOf((s) => `seq:${p.name}:${s}`, id);
        let late = 0;
        let lateN = 0;
        let bestIn = 0;
        for (const run of runs) {
          const choices = run.choices![by]!;
          for (let i = Math.floor(r.trials / 2); i < r.trials; i++) {
            lateN++;
            if (choices[i] === target) late++;
          }
          let arg = 0;
          run.values.forEach((v, i) => (v < run.values[arg]! ? (arg = i) : 0));
          if (choices[arg] === target) bestIn++;
        }
        return `${((100 * late) / lateN).toFixed(0)}% of trials, ${bestIn}/${runs.length} runs`;
      });
      md.push(`| ${p.name} | ${by} = ${String(target)} | ${cells.join(' | ')} |`);
    }
    md.push('');
  }

  if (r.withAsync) {
    const asyncIds: SamplerId[] = hasV5 ? ['random', 'optuna', 'optuna5', 'ours', 'ours-scr', 'ours-pool', 'ours-31', 'ours-mut'] : ['random', 'optuna', 'ours', 'ours-scr', 'ours-pool', 'ours-31', 'ours-mut'];
    md.push('## Asynchronous workers: regret against simulated wall-clock');
    md.push('');
    md.push(
      [
        `Problems: ${ASYNC_PROBLEMS.join(', ')}. ${WORKERS.map((w) => `${w} workers run ${w === 8 ? r.trials : 2 * r.trials} trials`).join('; ')}. A discrete-event simulation (\`bench/tpe/simulate.ts\`, and the same rules in \`head_to_head.py\`): at time 0 each worker asks in turn; trial i runs for d_i; the earliest-ending trial is told first and its worker asks at once, with the other trials RUNNING in the history (the constant liar sees them). d_i is log-normal, exp(0.5 z - 0.125), mean 1: time is in units of the mean evaluation time. The durations come from one table per seed, made on the TypeScript side and handed to Python, and they do not depend on the configuration, so every sampler sees the same schedule; the run checks that Optuna's simulation ended every trial at the same time as ours.`,
        '',
        'Times: T = N/W is the makespan of N trials on W perfectly busy workers; regret is that of the best trial ended by time t, at t = T/4, T/2, T, and when all N trials have ended.',
      ].join('\n'),
    );
    md.push('');
    const asyncPairs: Array<[string, SamplerId, SamplerId]> = [
      ['cellsweep vs 3.1', 'ours', 'optuna'],
      ['+SCR vs 3.1', 'ours-scr', 'optuna'],
      ['pool vs 3.1', 'ours-pool', 'optuna'],
      ['3.1/4 vs 3.1', 'ours-31', 'optuna'],
      ['mut/4 vs 3.1', 'ours-mut', 'optuna'],
      ...(hasV5 ? ([['cellsweep vs v5', 'ours', 'optuna5']] as Array<[string, SamplerId, SamplerId]>) : []),
    ];
    const endComparisons = asyncPairs.map((): Comparison[] => []);
    for (const w of WORKERS) {
      const n = w === 8 ? r.trials : 2 * r.trials;
      const T = n / w;
      const times = [T / 4, T / 2, T, Number.POSITIVE_INFINITY];
      const timeLabel = (t: number): string => (Number.isFinite(t) ? `t = ${t.toFixed(2)}` : 'all ended');
      md.push(`### ${w} workers, ${n} trials (T = ${T.toFixed(2)})`);
      md.push('');
      md.push(`| problem | time | ${asyncIds.map((id) => LABEL[id]).join(' | ')} |`);
      md.push(`|---|---|${asyncIds.map(() => '---:').join('|')}|`);
      const tests: string[] = [];
      for (const p of r.problems.filter((q) => ASYNC_PROBLEMS.includes(q.name))) {
        const key = (s: number): string => `async:${w}:${p.name}:${s}`;
        const reg = (id: SamplerId, t: number): number[] => runsOf(key, id).map((run) => regretAt(run, p.fstar, t));
        for (const t of times) md.push(`| ${p.name} | ${timeLabel(t)} | ${asyncIds.map((id) => meanSe(reg(id, t))).join(' | ')} |`);
        const row: string[] = [];
        for (const t of [T, Number.POSITIVE_INFINITY]) {
          asyncPairs.forEach(([, a, b], i) => {
            const c = test(a, b, reg(a, t), reg(b, t));
            if (!Number.isFinite(t)) endComparisons[i]!.push(c);
            row.push(cellOf(c));
          });
        }
        tests.push(`| ${p.name} | ${row.join(' | ')} |`);
      }
      md.push('');
      md.push(`Rank tests (${w} workers), at t = T and when all trials have ended:`);
      md.push('');
      md.push(`| problem | ${asyncPairs.map(([label]) => `${label}, t = T`).join(' | ')} | ${asyncPairs.map(([label]) => `${label}, end`).join(' | ')} |`);
      md.push(`|---|${[...asyncPairs, ...asyncPairs].map(() => '---').join('|')}|`);
      md.push(...tests);
      md.push('');
    }
    md.push(`Totals when all trials have ended (${endComparisons[0]!.length} problem x worker-count cells):`);
    md.push('');
    asyncPairs.forEach(([label], i) => md.push(`- ${label}: ${tally(endComparisons[i]!)}`));
    md.push('');
  }

  // Cross-check of every p-value with SciPy.
  const py = spawnSync(PYTHON, [join(HERE, 'head_to_head.py'), 'mwu'], {
    input: JSON.stringify({ pairs: checks.map((c) => [c.x, c.y]) }),
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (py.status !== 0) throw new Error(`head_to_head.py mwu failed: ${py.stderr}`);
  const scipy = (JSON.parse(py.stdout) as { p: number[] }).p;
  let maxDiff = 0;
  let flips = 0;
  checks.forEach((c, i) => {
    const s = Number.isNaN(scipy[i]!) ? 1 : scipy[i]!;
    maxDiff = Math.max(maxDiff, Math.abs(s - c.p));
    if (s < ALPHA !== c.p < ALPHA) flips++;
  });
  if (maxDiff > 1e-9 || flips > 0) throw new Error(`rank tests disagree with SciPy: max |p difference| ${maxDiff}, ${flips} verdicts differ`);
  md.push('## Checks and timings');
  md.push('');
  md.push(`- Rank tests: all ${checks.length} p-values above recomputed with scipy.stats.mannwhitneyu: largest difference ${maxDiff.toExponential(1)}, no verdict differs.`);
  md.push(`- Problems: TypeScript and Python agree on ${r.agreement.points} points to a relative ${r.agreement.maxRelDiff.toExponential(1)}; each f* is checked by tests/bench/tpe-problems.test.ts.`);
  const t = r.seconds;
  md.push(
    `- cellsweep side (all seeds and problems, sequential and asynchronous, one process, this run): random ${t.random?.toFixed(1)} s, cellsweep ${t.ours?.toFixed(1)} s, +SCR ${(t['ours-scr'] ?? 0).toFixed(1)} s, pool ${t['ours-pool']?.toFixed(1)} s, 3.1/4 ${(t['ours-31'] ?? 0).toFixed(1)} s, mut/4 ${(t['ours-mut'] ?? 0).toFixed(1)} s.`,
  );
  for (const [id, time] of Object.entries(r.pyTime)) {
    md.push(`- ${LABEL[id as SamplerId]} side: its ${r.units.length} units took ${(time.wall / 60).toFixed(1)} min wall and ${(time.cpu / 60).toFixed(1)} min CPU in all, summed over units as recorded when they ran.`);
  }
  md.push('');
  const notes = join(HERE, 'head-to-head-notes.md');
  if (existsSync(notes)) md.push(readFileSync(notes, 'utf8').trim(), '');
  return md.join('\n');
}

function describeSpace(p: Problem): string {
  const kinds = p.space.params.map(([, d]) => {
    if (d.type === 'categorical') return `categorical(${d.choices.length})`;
    if (d.type === 'int') return d.log ? 'log int' : 'int';
    return d.log ? 'log float' : d.step !== undefined ? 'stepped float' : 'float';
  });
  const counts = new Map<string, number>();
  for (const k of kinds) counts.set(k, (counts.get(k) ?? 0) + 1);
  return [...counts].map(([k, n]) => (n > 1 ? `${n} ${k}` : k)).join(', ');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
