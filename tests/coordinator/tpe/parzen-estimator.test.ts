import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ParamDef } from '../../../coordinator/space/search-space.js';
import { logPdfMixture } from '../../../coordinator/samplers/tpe/mixture.js';
import { argsortStable, buildParzenEstimator, defaultWeights, neighbourSigmas } from '../../../coordinator/samplers/tpe/parzen-estimator.js';
import { assertClose, load, num, type ParzenCase, type SplitFixtures } from './fixtures.js';

// Against Optuna v5's _ParzenEstimator at commit 1d8ce7b (tests/fixtures/tpe/parzen.json):
// kernels and weights to the last few ulps, log densities to 1e-12 relative (both
// sides sum hundreds of terms through log-sum-exp in different orders).
const parzen = load<{ generated_by: string; producer: string; cases: ParzenCase[] }>('parzen.json');
const split = load<SplitFixtures>('split.json');
const parzen31 = load<{ generated_by: string; producer: string; cases: ParzenCase[] }>('parzen-3.1.json');

function build(c: ParzenCase) {
  const defs = c.space.map(([, def]) => def as ParamDef);
  const names = c.space.map(([name]) => name);
  const n = c.observations[names[0]!]!.length;
  return { defs, names, mixture: buildParzenEstimator(defs, names.map((k) => Float64Array.from(c.observations[k]!)), defaultWeights(n)) };
}

describe('against Optuna v5', () => {
  test('fixtures: v5 at the pinned commit, every kind of parameter, alone and joint', () => {
    assert.match(parzen.producer, /^optuna 5\.0\.0\.dev @ 1d8ce7bb6f3c7274a7a31a0a007991995085baa7$/);
    const kinds = new Set(parzen.cases.flatMap((c) => c.space.map(([, d]) => `${d.type}${'log' in d && d.log ? ' log' : ''}${'step' in d && d.step !== undefined && d.type === 'float' ? ' step' : ''}`)));
    assert.deepEqual([...kinds].sort(), ['categorical', 'float', 'float log', 'float step', 'int', 'int log']);
    assert.ok(parzen.cases.some((c) => c.space.length > 1 && c.observations[c.space[0]![0]]!.length > 25), 'a joint case with ramp weights');
    assert.ok(parzen.cases.some((c) => c.observations[c.space[0]![0]]!.length === 0), 'an empty estimator (prior only)');
  });

  for (const c of parzen.cases) {
    test(c.name, () => {
      const { mixture, names } = build(c);
      assert.equal(mixture.weights.length, c.mixture_weights.length, 'components');
      mixture.weights.forEach((w, i) => assertClose(w, num(c.mixture_weights[i]!), 1e-15, 0, `weight ${i}`));
      c.dims.forEach((expected, d) => {
        const k = mixture.dims[d]!;
        if ('mu' in expected) {
          assert.ok(k.kind !== 'categorical', `${names[d]} is numerical`);
          k.mu.forEach((mu, i) => assertClose(mu, num(expected.mu[i]!), 1e-15, 1e-15, `${names[d]} mu ${i}`));
          k.sigma.forEach((s, i) => assertClose(s, num(expected.sigma[i]!), 1e-14, 0, `${names[d]} sigma ${i}`));
        } else {
          assert.equal(k.kind, 'categorical');
          if (k.kind !== 'categorical') return;
          expected.weights.flat().forEach((w, i) => assertClose(k.weights[i]!, num(w), 1e-15, 1e-17, `${names[d]} weight ${i}`));
        }
      });
      const got = logPdfMixture(mixture, names.map((k) => c.points[k]!));
      got.forEach((v, i) => assertClose(v, num(c.log_pdf[i]!), 1e-12, 1e-13, `log pdf at point ${i}`));
    });
  }
});

// The 'optuna-3.1' rules (TpeOptions.exploreEvery) against Optuna 3.1.0's joint
// _ParzenEstimator (tests/fixtures/tpe/parzen-3.1.json, bench/reference/tpe31_fixtures.py).
describe('against Optuna 3.1.0, with the optuna-3.1 rules', () => {
  test('fixtures: Debian\'s Optuna 3.1.0, joint estimators of float, log, stepped, int and categorical parameters', () => {
    assert.equal(parzen31.producer, 'optuna 3.1.0');
    assert.ok(parzen31.cases.length >= 5 && parzen31.cases.some((c) => c.observations[c.space[0]![0]]!.length > 25));
  });

  for (const c of parzen31.cases) {
    test(c.name, () => {
      const defs = c.space.map(([, def]) => def as ParamDef);
      const names = c.space.map(([name]) => name);
      const n = c.observations[names[0]!]!.length;
      const observations = names.map((k) => Float64Array.from(c.observations[k]!));
      const mixture = buildParzenEstimator(defs, observations, defaultWeights(n), undefined, undefined, { rules: 'optuna-3.1', joint: true });
      mixture.weights.forEach((w, i) => assertClose(w, num(c.mixture_weights[i]!), 1e-15, 0, `weight ${i}`));
      c.dims.forEach((expected, d) => {
        const k = mixture.dims[d]!;
        if ('mu' in expected) {
          assert.ok(k.kind !== 'categorical');
          k.sigma.forEach((s, i) => assertClose(s, num(expected.sigma[i]!), 1e-14, 0, `${names[d]} sigma ${i}`));
        }
      });
      const got = logPdfMixture(mixture, names.map((k) => c.points[k]!));
      got.forEach((v, i) => assertClose(v, num(c.log_pdf[i]!), 1e-12, 1e-13, `log pdf at point ${i}`));
      // v5's rules give other densities on the same data: the fixture tells the two apart.
      const v5 = logPdfMixture(buildParzenEstimator(defs, observations, defaultWeights(n)), names.map((k) => c.points[k]!));
      assert.ok(v5.some((v, i) => Math.abs(v - num(c.log_pdf[i]!)) > 1e-3), 'v5 rules differ from 3.1 here');
    });
  }
});

describe('weights and bandwidths', () => {
  test('default weights are Optuna 3.1 and v5 default_weights: flat up to 25, then a ramp from 1/n', () => {
    for (const table of [split.v5.default_weights, split.v3_1.default_weights]) {
      for (const [n, expected] of Object.entries(table)) {
        const got = defaultWeights(Number(n));
        assert.equal(got.length, expected.length, `n = ${n}`);
        got.forEach((w, i) => assertClose(w, expected[i]!, 1e-15, 0, `n = ${n}, weight ${i}`));
      }
    }
  });

  test('an empty estimator is the prior alone: a wide kernel over the range, uniform choices', () => {
    const defs: ParamDef[] = [
      { type: 'float', low: -2, high: 6, log: false },
      { type: 'categorical', choices: ['a', 'b', 'c', 'd'] },
    ];
    const m = buildParzenEstimator(defs, [new Float64Array(0), new Float64Array(0)], new Float64Array(0));
    assert.deepEqual(Array.from(m.weights), [1]);
    const k = m.dims[0]!;
    assert.ok(k.kind === 'truncnorm' && k.mu[0] === 2 && k.sigma[0] === 8);
    const cat = m.dims[1]!;
    assert.ok(cat.kind === 'categorical' && Array.from(cat.weights).every((w) => w === 0.25));
  });

  test('neighbour widths: the larger gap, inner gaps at the ends, clipped to [range / min(100, n + 2), range]', () => {
    // Sorted 1, 2, 4, 8 in [0, 10]: gaps 1, 1, 2, 4, 2; the ends use their inner gap.
    assert.deepEqual(Array.from(neighbourSigmas(Float64Array.of(8, 2, 1, 4), 0, 10)), [4, 2, 10 / 6, 4]);
    // One observation: the larger distance to a range end.
    assert.deepEqual(Array.from(neighbourSigmas(Float64Array.of(3), 0, 10)), [7]);
    // Ties: observation order decides which tied centre gets which gap (a stable sort).
    assert.deepEqual(Array.from(neighbourSigmas(Float64Array.of(5, 5, 5, 9), 0, 10)), [10 / 6, 10 / 6, 4, 4]);
  });

  test('argsortStable: the stable sort of Array.prototype.sort, for spread, clustered and tied values', () => {
    const rng = (seed: number) => () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const r = rng(42);
    const inputs: Record<string, Float64Array> = {
      spread: Float64Array.from({ length: 1000 }, r),
      clustered: Float64Array.from({ length: 1000 }, (_, i) => (i % 10 === 0 ? r() : 0.3 + r() * 1e-3)),
      ties: Float64Array.from({ length: 1000 }, (_, i) => ((i * 7919) % 97) / 7),
      'one value': new Float64Array(50).fill(2),
      short: Float64Array.of(3, 1, 2, 1),
    };
    for (const [name, values] of Object.entries(inputs)) {
      const expected = Array.from(values.keys()).sort((p, q) => values[p]! - values[q]!);
      assert.deepEqual(Array.from(argsortStable(values)), expected, name);
      assert.deepEqual(Array.from(argsortStable(values, -1, 100)), expected, `${name}, with wider bounds`);
    }
    assert.deepEqual(Array.from(argsortStable(new Float64Array(0))), []);
  });
});
