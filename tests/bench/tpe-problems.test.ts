import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Params } from '../../core/params.js';
import { RandomSampler } from '../../coordinator/samplers/random.js';
import type { Sampler, TrialView } from '../../coordinator/samplers/sampler.js';
import { contains, type SearchSpace } from '../../coordinator/space/search-space.js';
import { branin, loadProblems, quadraticOptimum, styblinskiTang, type Problem } from '../../bench/tpe/problems.js';
import { durationTable, regretAt, regretCurve, runAsync, runSequential } from '../../bench/tpe/simulate.js';
import { mannWhitneyU, verdict } from '../../bench/tpe/stats.js';

const problems = loadProblems();
const byName = new Map(problems.map((p) => [p.name, p]));
const get = (name: string): Problem => byName.get(name)!;
const close = (a: number, b: number, tol: number): boolean => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

describe('benchmark problems', () => {
  test('at least 10, with the standard functions and mixed spaces the issue names', () => {
    assert.ok(problems.length >= 10);
    for (const name of ['branin', 'hartmann3', 'hartmann6', 'rosenbrock5', 'ackley5', 'levy5', 'styblinski-tang5']) assert.ok(byName.has(name), name);
    const kinds = new Set<string>(problems.flatMap((p) => p.space.params.map(([, d]) => (d.type === 'float' && d.step !== undefined ? 'step' : d.type === 'float' && d.log ? 'log' : d.type))));
    for (const kind of ['float', 'int', 'categorical', 'step', 'log']) assert.ok(kinds.has(kind), kind);
  });

  test('each argmin is in the space and attains fstar', () => {
    for (const p of problems) {
      for (const [name, def] of p.space.params) assert.ok(contains(def, p.argmin[name]!), `${p.name}.${name} = ${p.argmin[name]}`);
      assert.equal(Object.keys(p.argmin).length, p.space.params.length, p.name);
      assert.ok(close(p.evaluate(p.argmin), p.fstar, 1e-12), `${p.name}: f(argmin) = ${p.evaluate(p.argmin)}, fstar = ${p.fstar}`);
    }
  });

  test('literature optima', () => {
    // Branin: three global minima, 0.397887.
    for (const [x1, x2] of [
      [-Math.PI, 12.275],
      [Math.PI, 2.275],
      [9.42478, 2.475],
    ]) {
      assert.ok(Math.abs(branin(x1!, x2!) - 0.397887) < 1e-6);
    }
    assert.ok(Math.abs(get('branin').fstar - 0.397887) < 1e-6);
    assert.ok(Math.abs(get('hartmann3').fstar - -3.86278) < 1e-5);
    assert.ok(Math.abs(get('hartmann3').evaluate({ x1: 0.114614, x2: 0.555649, x3: 0.852547 }) - -3.86278) < 1e-5);
    assert.ok(Math.abs(get('hartmann6').fstar - -3.32237) < 1e-5);
    assert.ok(
      Math.abs(get('hartmann6').evaluate({ x1: 0.20169, x2: 0.150011, x3: 0.476874, x4: 0.275332, x5: 0.311652, x6: 0.6573 }) - -3.32237) < 1e-5,
    );
    assert.ok(Math.abs(get('styblinski-tang5').fstar / 5 - -39.16617) < 1e-5);
    assert.ok(Math.abs(styblinskiTang([-2.903534]) - -39.16617) < 1e-5);
    assert.equal(get('rosenbrock5').evaluate(get('rosenbrock5').argmin), 0);
    assert.ok(get('levy5').evaluate(get('levy5').argmin) < 1e-30);
    assert.ok(get('ackley5').evaluate(get('ackley5').argmin) < 1e-15);
  });

  test('no random point beats fstar, and the argmin is a local minimum', () => {
    for (const p of problems) {
      const random = new RandomSampler(7);
      for (let i = 0; i < 1000; i++) {
        const params = random.suggest(p.space, [], i);
        assert.ok(p.evaluate(params) >= p.fstar - 1e-12, `${p.name} at ${JSON.stringify(params)}`);
      }
      // Moving one continuous coordinate a little never helps.
      for (const [name, def] of p.space.params) {
        if (def.type !== 'float' || def.step !== undefined) continue;
        for (const h of [-1e-4, 1e-4]) {
          const x = Math.min(def.high, Math.max(def.low, (p.argmin[name] as number) * (def.log ? Math.exp(h) : 1) + (def.log ? 0 : h)));
          assert.ok(p.evaluate({ ...p.argmin, [name]: x }) >= p.fstar - 1e-12, `${p.name}.${name} ${h}`);
        }
      }
    }
  });

  test('branin-int: fstar is the minimum over a fine x1 grid for every integer x2', () => {
    const p = get('branin-int');
    let best = Number.POSITIVE_INFINITY;
    for (let x2 = 0; x2 <= 15; x2++) {
      for (let k = 0; k <= 15000; k++) best = Math.min(best, p.evaluate({ x1: -5 + k / 1000, x2 }));
    }
    assert.ok(best >= p.fstar - 1e-12 && best - p.fstar < 1e-5, `grid minimum ${best}, fstar ${p.fstar}`);
  });

  test('quadratic problems: fstar is the exact minimum by enumeration', () => {
    for (const name of ['step-quadratic', 'hpo-mixed']) {
      const p = get(name);
      const opt = quadraticOptimum(p);
      assert.ok(close(opt.fstar, p.fstar, 1e-12), `${name}: ${opt.fstar} vs ${p.fstar}`);
      assert.deepEqual(opt.argmin, { ...opt.argmin, ...p.argmin });
    }
    // By hand: each centre's nearest grid point.
    assert.ok(close(get('step-quadratic').fstar, 1 * 0.04 + 2 * 0.04 + 0.5 * 0.04 + 1.5 * 0.01 + 0.3 * 0.16 + 0.8 * 0.16, 1e-12));
  });

  test('hartmann6-cat: the categorical choice c wins with 1.3 H6* + 0.9', () => {
    const p = get('hartmann6-cat');
    const h6 = get('hartmann6').fstar;
    assert.ok(close(p.fstar, 1.3 * h6 + 0.9, 1e-12));
    const others = ['a', 'b', 'd'].map((v) => p.evaluate({ ...p.argmin, variant: v }));
    assert.ok(Math.min(...others) > p.fstar + 0.3);
  });

  test('the Python side evaluates the same functions', (t) => {
    const python = ['/usr/bin/python3', 'python3'].find((py) => py.startsWith('/') ? existsSync(py) : spawnSync(py, ['-c', '1']).status === 0);
    if (python === undefined) {
      t.skip('no python3 here');
      return;
    }
    const points: Array<{ problem: string; params: Params }> = [];
    for (const p of problems) {
      points.push({ problem: p.name, params: p.argmin });
      const random = new RandomSampler(99);
      for (let i = 0; i < 10; i++) points.push({ problem: p.name, params: random.suggest(p.space, [], i) });
    }
    const py = spawnSync(python, ['bench/tpe/problems.py', '--eval'], { input: JSON.stringify({ points }), encoding: 'utf8' });
    assert.equal(py.status, 0, py.stderr);
    const values = (JSON.parse(py.stdout) as { values: number[] }).values;
    points.forEach((pt, i) => assert.ok(close(get(pt.problem).evaluate(pt.params), values[i]!, 1e-12), `${pt.problem} ${JSON.stringify(pt.params)}`));
  });
});

describe('Mann-Whitney U (values from scipy.stats.mannwhitneyu 1.10.1, two-sided, method="asymptotic")', () => {
  const cases: Array<[string, number[], number[], number, number]> = [
    ['distinct', [0.12, 0.5, 0.33, 0.91, 0.05, 0.77, 0.42, 0.64, 0.28, 0.19], [0.88, 0.61, 0.95, 0.7, 0.52, 0.99, 0.83, 0.47, 0.74, 0.9], 17, 0.014019277113959953],
    ['ties', [0, 0, 0, 0.1, 0.2, 0.2, 0.5, 1, 1, 1, 0, 0], [0, 0.1, 0.1, 0.2, 0.3, 0.5, 0.5, 0.7, 1, 2, 2, 3], 43, 0.09559475611359483],
    ['separated', Array.from({ length: 20 }, (_, i) => i), Array.from({ length: 20 }, (_, i) => 20 + i), 0, 6.795615128173358e-8],
    ['all tied', [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], 12.5, 1],
    ['unequal sizes', [3.1, 2.2, 5.0, 4.4, 1.0, 2.2, 6.1], [2.0, 2.2, 1.5, 0.3, 0.9, 1.1, 2.5, 0.1, 1.8], 54, 0.01951175906457239],
  ];
  for (const [name, x, y, u, p] of cases) {
    test(name, () => {
      const r = mannWhitneyU(x, y);
      assert.equal(r.u1, u);
      assert.ok(close(r.p, p, 1e-12), `${r.p} vs ${p}`);
    });
  }

  test('verdicts: smaller values win; symmetric; ties when not significant', () => {
    const lo = Array.from({ length: 20 }, (_, i) => i);
    const hi = lo.map((v) => v + 20);
    assert.equal(verdict(mannWhitneyU(lo, hi)), 'win');
    assert.equal(verdict(mannWhitneyU(hi, lo)), 'loss');
    assert.equal(mannWhitneyU(lo, hi).p, mannWhitneyU(hi, lo).p);
    assert.equal(verdict(mannWhitneyU([0, 0, 0], [0, 0, 0])), 'tie');
    assert.equal(verdict(mannWhitneyU(cases[1]![1], cases[1]![2])), 'tie');
  });
});

describe('simulation', () => {
  /** Suggests x = trial number and records what it saw. */
  class Recorder implements Sampler {
    readonly name = 'recorder';
    readonly seen: Array<{ number: number; running: number[]; complete: number[] }> = [];
    suggest(_space: SearchSpace, history: readonly TrialView[], trialNumber: number): Params {
      this.seen.push({
        number: trialNumber,
        running: history.filter((t) => t.state === 'RUNNING').map((t) => t.number),
        complete: history.filter((t) => t.state === 'COMPLETE').map((t) => t.number),
      });
      return { x: trialNumber };
    }
    capacity(): number {
      return Infinity;
    }
  }
  const space: SearchSpace = { params: [['x', { type: 'float', low: 0, high: 10, log: false }]] };
  const f = (p: Params): number => (p.x as number) - 5;

  test('asynchronous workers: schedule, and running trials visible to the sampler', () => {
    const rec = new Recorder();
    // Two workers: trials 0 and 1 start at t = 0; 0 ends at 1 and trial 2 starts (ends at 2), then trial 3
    // starts at 2 (ends at 4), 1 ends at 3 and trial 4 starts (ends at 3.5).
    const run = runAsync(rec, space, f, 5, 2, [1, 3, 1, 2, 0.5]);
    assert.deepEqual(run.ends, [1, 3, 2, 4, 3.5]);
    assert.deepEqual(
      rec.seen.map((s) => [s.number, s.running, s.complete]),
      [
        [0, [], []],
        [1, [0], []],
        [2, [1], [0]],
        [3, [1], [0, 2]],
        [4, [3], [0, 1, 2]],
      ],
    );
    assert.deepEqual(run.values, [-5, -4, -3, -2, -1]);
    assert.equal(regretAt(run, -6, 0.5), Number.POSITIVE_INFINITY);
    assert.equal(regretAt(run, -6, 1), 1);
    assert.equal(regretAt(run, -6, 10), 1);
  });

  test('sequential runs tell -f; regret curves are best-so-far', () => {
    const rec = new Recorder();
    const run = runSequential(rec, space, (p) => 10 - (p.x as number), 3);
    assert.deepEqual(run.values, [10, 9, 8]);
    assert.deepEqual(rec.seen.map((s) => s.complete), [[], [0], [0, 1]]);
    assert.deepEqual(regretCurve([3, 1, 2, 0.5], 0.5), [2.5, 0.5, 0.5, 0]);
  });

  test('durations: seeded, positive, mean about 1', () => {
    const d = durationTable(3, 4000);
    assert.deepEqual(durationTable(3, 10), d.slice(0, 10));
    assert.ok(d.every((x) => x > 0));
    const m = d.reduce((a, b) => a + b, 0) / d.length;
    assert.ok(Math.abs(m - 1) < 0.03, `mean ${m}`);
  });
});
