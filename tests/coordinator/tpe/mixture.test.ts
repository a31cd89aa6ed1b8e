import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../core/rng.js';
import type { ParamDef } from '../../../coordinator/space/search-space.js';
import { internalBounds, type Kernels } from '../../../coordinator/samplers/tpe/kernels.js';
import { logPdfMixture, sampleMixture, type Mixture } from '../../../coordinator/samplers/tpe/mixture.js';
import { buildParzenEstimator, defaultWeights } from '../../../coordinator/samplers/tpe/parzen-estimator.js';
import { logcdf, logGaussMass, logpdf } from '../../../coordinator/samplers/tpe/truncnorm.js';
import { assertClose } from './fixtures.js';

/** The mixture density the slow, obvious way: every component, every parameter, one exp each. */
function naiveLogPdf(m: Mixture, point: readonly number[]): number {
  const terms = Array.from(m.weights, (w, c) => {
    let t = Math.log(w);
    m.dims.forEach((k, d) => (t += naiveTerm(k, c, point[d]!)));
    return t;
  });
  const max = Math.max(...terms);
  return max + Math.log(terms.reduce((s, t) => s + Math.exp(t - max), 0));
}

function naiveTerm(k: Kernels, c: number, x: number): number {
  switch (k.kind) {
    case 'categorical':
      return Math.log(k.weights[c * k.nChoices + x]!);
    case 'truncnorm': {
      const [lo, hi] = internalBounds(k);
      const y = k.log ? Math.log(x) : x;
      const [mu, s] = [k.mu[c]!, k.sigma[c]!];
      return logpdf(y, (lo - mu) / s, (hi - mu) / s, mu, s);
    }
    case 'discrete-truncnorm': {
      const [lo, hi] = internalBounds(k);
      const t = (v: number): number => (k.log ? Math.log(v) : v);
      const [mu, s] = [k.mu[c]!, k.sigma[c]!];
      return logGaussMass((t(x - k.step / 2) - mu) / s, (t(x + k.step / 2) - mu) / s) - logGaussMass((lo - mu) / s, (hi - mu) / s);
    }
  }
}

const space: ParamDef[] = [
  { type: 'float', low: 0.05, high: 4, log: true },
  { type: 'float', low: -1, high: 1, log: false },
  { type: 'int', low: 2, high: 6, log: false, step: 1 },
  { type: 'categorical', choices: ['none', 'weighted', 'smote'] },
];

function randomObservations(n: number, seed: number): Float64Array[] {
  const rng = new Rng(seed);
  return [
    Float64Array.from({ length: n }, () => Math.exp(rng.uniform(Math.log(0.05), Math.log(4)))),
    Float64Array.from({ length: n }, () => rng.uniform(-1, 1)),
    Float64Array.from({ length: n }, () => rng.int(2, 6)),
    Float64Array.from({ length: n }, () => rng.int(0, 2)),
  ];
}

describe('log density', () => {
  test('a long history (pruned by window) and a short one agree with the component-by-component sum', () => {
    for (const n of [30, 1500]) {
      const m = buildParzenEstimator(space, randomObservations(n, n), defaultWeights(n));
      const points = sampleMixture(m, new Rng(1), 40);
      // Far from every observation, and on the range ends: the window's bound fails there and it falls back.
      points.forEach((col, d) => {
        col[0] = d === 0 ? 4 : d === 1 ? -1 : d === 2 ? 6 : 2;
        col[1] = d === 0 ? 0.05 : d === 1 ? 1 : d === 2 ? 2 : 0;
      });
      const got = logPdfMixture(m, points);
      for (let i = 0; i < got.length; i++) {
        const expected = naiveLogPdf(m, points.map((col) => col[i]!));
        assertClose(got[i]!, expected, 1e-13, 1e-13, `n = ${n}, point ${i}`);
      }
    }
  });

  test('outside the support the density is 0 (log -inf), not NaN', () => {
    const m = buildParzenEstimator(space, randomObservations(300, 3), defaultWeights(300));
    const out = logPdfMixture(m, [[5, 1], [0, 2], [4, 4], [1, 1]]);
    assert.deepEqual(Array.from(out), [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY]);
  });

  test('a joint density of continuous kernels of different widths and a categorical integrates to 1', () => {
    // Each Gaussian's log density carries -log sigma. Optuna 3.1.0's _truncnorm.logpdf
    // left it out (optuna/optuna#5109, fixed in 3.5.0): its estimator was not normalised
    // and weighed every narrow kernel down against the wide prior, by sigma / range per
    // continuous dimension, which is half of why 3.1 explores more than v5 on the
    // benchmark's hartmann6-cat (docs/tpe.md).
    const defs: ParamDef[] = [
      { type: 'float', low: -1, high: 1, log: false },
      { type: 'float', low: 0, high: 10, log: false },
      { type: 'categorical', choices: ['a', 'b', 'c'] },
    ];
    const obs = [Float64Array.of(-0.9, -0.85, -0.8, 0.3, 0.35, 0.95), Float64Array.of(0.5, 2, 2.2, 7, 9.9, 4), Float64Array.of(0, 1, 1, 2, 0, 1)];
    const m = buildParzenEstimator(defs, obs, defaultWeights(6));
    const widths = (m.dims[0] as Extract<Kernels, { kind: 'truncnorm' }>).sigma;
    assert.ok(Math.max(...widths) / Math.min(...widths) > 5, 'kernels of different widths');
    // Midpoint rule on a 400 x 400 grid per choice.
    const n = 400;
    const columns = [new Float64Array(n * n * 3), new Float64Array(n * n * 3), new Float64Array(n * n * 3)];
    let k = 0;
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++, k++) {
          columns[0]![k] = -1 + (2 * (i + 0.5)) / n;
          columns[1]![k] = (10 * (j + 0.5)) / n;
          columns[2]![k] = c;
        }
      }
    }
    const cell = (2 / n) * (10 / n);
    const total = logPdfMixture(m, columns).reduce((s, v) => s + Math.exp(v) * cell, 0);
    assertClose(total, 1, 1e-4, 0, 'integral of the joint density');
  });

  test('a discrete kernel spreads its mass over the grid: the bin probabilities sum to 1', () => {
    for (const def of [
      { type: 'int', low: 2, high: 9, log: false, step: 1 },
      { type: 'int', low: 1, high: 64, log: true, step: 1 },
      { type: 'float', low: 0, high: 0.5, log: false, step: 0.1 },
      { type: 'int', low: 0, high: 20, log: false, step: 4 },
    ] as ParamDef[]) {
      if (def.type === 'categorical') continue;
      const m = buildParzenEstimator([def], [Float64Array.of(def.low, def.high)], defaultWeights(2));
      const grid: number[] = [];
      for (let i = 0; def.low + i * def.step! <= def.high + 1e-9; i++) grid.push(Number((def.low + i * def.step!).toPrecision(12)));
      const total = logPdfMixture(m, [grid]).reduce((s, v) => s + Math.exp(v), 0);
      assertClose(total, 1, 1e-12, 0, `${JSON.stringify(def)}`);
    }
  });
});

describe('sampling', () => {
  test('components are drawn by weight, and draws stay on the grid and inside the range', () => {
    const defs: ParamDef[] = [
      { type: 'float', low: 0, high: 100, log: false },
      { type: 'float', low: 0, high: 0.5, log: false, step: 0.1 },
      { type: 'int', low: 16, high: 512, log: true, step: 1 },
    ];
    // Two observations far apart, weights 1 and 3 (and the prior 1): 1/5, 3/5, 1/5.
    const m = buildParzenEstimator(defs, [Float64Array.of(10, 90), Float64Array.of(0.1, 0.4), Float64Array.of(20, 400)], Float64Array.of(1, 3));
    const n = 5000;
    const [x, drop, width] = sampleMixture(m, new Rng(5), n);
    let high = 0;
    for (let i = 0; i < n; i++) {
      if (x![i]! > 50) high++;
      assert.ok(x![i]! >= 0 && x![i]! <= 100);
      assert.ok([0, 0.1, 0.2, 0.3, 0.4, 0.5].includes(drop![i]!), `drop ${drop![i]}`);
      assert.ok(Number.isInteger(width![i]!) && width![i]! >= 16 && width![i]! <= 512, `width ${width![i]}`);
    }
    // The exact mixture cdf at 50: sum of weight x truncated-normal cdf; 5 binomial sd allowed.
    const k = m.dims[0]!;
    assert.ok(k.kind === 'truncnorm');
    let below = 0;
    m.weights.forEach((w, c) => (below += w * Math.exp(logcdf(50, (0 - k.mu[c]!) / k.sigma[c]!, (100 - k.mu[c]!) / k.sigma[c]!, k.mu[c]!, k.sigma[c]!))));
    const p = 1 - below;
    assert.ok(p > 0.52 && p < 0.7, `the heavier kernel sits above 50: ${p}`);
    assert.ok(Math.abs(high / n - p) < 5 * Math.sqrt((p * (1 - p)) / n), `fraction above 50: ${high / n}, expected ${p}`);
  });

  test('categorical draws follow the smoothed choice probabilities', () => {
    const defs: ParamDef[] = [{ type: 'categorical', choices: ['a', 'b', 'c'] }];
    // Four observations of 'b': each row 1 + 1/5 on 'b', 1/5 elsewhere; the prior row uniform.
    const m = buildParzenEstimator(defs, [Float64Array.of(1, 1, 1, 1)], defaultWeights(4));
    const n = 6000;
    const counts = [0, 0, 0];
    for (const j of sampleMixture(m, new Rng(9), n)[0]!) counts[j]!++;
    const pB = (4 / 5) * (1.2 / 1.6) + (1 / 5) * (1 / 3);
    assert.ok(Math.abs(counts[1]! / n - pB) < 5 * Math.sqrt((pB * (1 - pB)) / n), `counts ${counts}, expected p(b) = ${pB}`);
  });

  test('the same stream gives the same draws', () => {
    const m = buildParzenEstimator(space, randomObservations(50, 2), defaultWeights(50));
    assert.deepEqual(sampleMixture(m, new Rng(3), 24), sampleMixture(m, new Rng(3), 24));
    assert.notDeepEqual(sampleMixture(m, new Rng(3), 24), sampleMixture(m, new Rng(4), 24));
  });
});
