import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../core/rng.js';
import { logcdf, logGaussMass, logpdf, ndtriExp, ppf, rvs } from '../../../coordinator/samplers/tpe/truncnorm.js';
import { assertClose, load, num, type TruncnormFixtures } from './fixtures.js';

// Against mpmath at 60 digits: a few ulps, except where the double formula itself
// cancels (logpdf = -z^2/2 - log mass at z = -999: 5e5-sized terms for a result of 7).
// Against scipy 1.10.1: within 1e-10, or, where scipy misses mpmath by more (its ppf
// for q -> 1 on an interval across 0, its logcdf near 1 in the far tail), closer to
// mpmath than scipy is.
const VS_SCIPY = 1e-10;
const f = load<TruncnormFixtures>('truncnorm.json');

/** Ours within 1e-10 of scipy, or nearer the exact value than scipy. */
function assertScipyOrBetter(ours: number, scipy: number, exact: number | undefined, what: string): void {
  if (!Number.isFinite(scipy)) return assertClose(ours, scipy, 0, 0, what);
  if (Math.abs(ours - scipy) <= VS_SCIPY * Math.abs(scipy) + 1e-15) return;
  assert.ok(exact !== undefined, `${what}: ${ours} vs scipy ${scipy} and no exact value to settle it`);
  assert.ok(Math.abs(ours - exact) < Math.abs(scipy - exact), `${what}: ours ${ours}, scipy ${scipy}, exact ${exact}: scipy is closer`);
}

describe('fixtures', () => {
  test('come from the reference script and cover infinite, far-tail, narrow and degenerate bounds', () => {
    assert.match(f.generated_by, /^\/usr\/bin\/python3 bench\/reference\/tpe_fixtures\.py --optuna-src \S+ tests\/fixtures\/tpe$/);
    assert.match(f.producer, /^scipy 1\.10\.1/);
    const bounds = f.cases.map((c) => [num(c.a), num(c.b)] as const);
    assert.ok(bounds.some(([a, b]) => a === -Infinity && b === Infinity));
    assert.ok(bounds.some(([a, b]) => a === -Infinity && Number.isFinite(b)) && bounds.some(([a, b]) => Number.isFinite(a) && b === Infinity));
    assert.ok(bounds.some(([a]) => a >= 30) && bounds.some(([, b]) => b <= -38));
    assert.ok(bounds.some(([a, b]) => b - a <= 1e-3));
    assert.ok(bounds.some(([a, b]) => a === b));
  });
});

describe('truncnorm against scipy and mpmath', () => {
  for (const c of f.cases) {
    const a = num(c.a);
    const b = num(c.b);
    // Bounds 0.01 apart or closer: the log mass is a difference of two close log Phi.
    const narrow = b - a <= 1e-2;
    test(`[${a}, ${b}]`, () => {
      for (const p of c.ppf) {
        const ours = ppf(p.q, a, b);
        const exact = p.exact === null ? undefined : num(p.exact);
        if (exact !== undefined) assertClose(ours, exact, 1e-13, 2e-16, `ppf(${p.q}) vs mpmath`);
        assertScipyOrBetter(ours, num(p.scipy), exact, `ppf(${p.q}) vs scipy`);
      }
      for (const p of c.logpdf) {
        const ours = logpdf(p.x, a, b);
        const exact = p.exact === null ? undefined : num(p.exact);
        // The formula's own cancellation: ulps of z^2/2, not of the result.
        if (exact !== undefined) assertClose(ours, exact, narrow ? 1e-12 : 1e-14, 1e-15 * (1 + (p.x * p.x) / 2), `logpdf(${p.x}) vs mpmath`);
        assertScipyOrBetter(ours, num(p.scipy), exact, `logpdf(${p.x}) vs scipy`);
      }
      for (const p of c.logcdf) {
        const ours = logcdf(p.x, a, b);
        const exact = p.exact === null ? undefined : num(p.exact);
        // Narrow: 1e-11 is what doubles give for a difference of two close log Phi.
        if (exact !== undefined) assertClose(ours, exact, narrow ? 1e-9 : 1e-13, 1e-15, `logcdf(${p.x}) vs mpmath`);
        assertScipyOrBetter(ours, num(p.scipy), exact, `logcdf(${p.x}) vs scipy`);
      }
    });
  }

  test('loc and scale as scipy applies them', () => {
    for (const s of f.scaled) {
      assertClose(logpdf(s.x, num(s.a), num(s.b), s.loc, s.scale), num(s.logpdf), VS_SCIPY, 1e-15, `logpdf ${JSON.stringify(s)}`);
      assertClose(logcdf(s.x, num(s.a), num(s.b), s.loc, s.scale), num(s.logcdf), VS_SCIPY, 1e-15, `logcdf ${JSON.stringify(s)}`);
    }
  });
});

describe('edges', () => {
  test('degenerate or inverted bounds and NaN give NaN, as scipy', () => {
    for (const [a, b] of [[1, 1], [2, 1], [Number.NaN, 1]] as const) {
      assert.ok(Number.isNaN(ppf(0.5, a, b)) && Number.isNaN(logpdf(0.5, a, b)) && Number.isNaN(logcdf(0.5, a, b)), `[${a}, ${b}]`);
    }
    assert.ok(Number.isNaN(ppf(1.5, 0, 1)) && Number.isNaN(ppf(-0.1, 0, 1)) && Number.isNaN(ppf(Number.NaN, 0, 1)));
    assert.ok(Number.isNaN(ndtriExp(0.1)));
  });

  test('ppf reaches the bounds at q = 0 and 1 and stays inside them in between', () => {
    assert.equal(ppf(0, -2, 3), -2);
    assert.equal(ppf(1, -2, 3), 3);
    for (const [a, b] of [[30, 30.5], [-1e3, -999.999], [-Infinity, -50], [0, 1e-12]] as const) {
      for (const q of [1e-300, 1e-16, 0.5, 1 - 1e-16]) {
        const x = ppf(q, a, b);
        assert.ok(x >= a && x <= b, `ppf(${q}, ${a}, ${b}) = ${x}`);
      }
    }
  });

  test('log mass: 0 for the whole line, additive over a split, finite far out', () => {
    assert.equal(logGaussMass(-Infinity, Infinity), 0);
    for (const [a, m, b] of [[-1, 0.3, 2], [-40, -39, -38.5], [7, 8, 50], [-0.5, 0, 0.5]] as const) {
      const whole = Math.exp(logGaussMass(a, b));
      const parts = Math.exp(logGaussMass(a, m)) + Math.exp(logGaussMass(m, b));
      assertClose(parts, whole, 1e-13, 0, `[${a}, ${m}, ${b}]`);
    }
    assert.ok(Number.isFinite(logGaussMass(-1000, -999)) && logGaussMass(-1000, -999) < -499000);
  });

  test('rvs: the same stream gives the same draws, and the draws follow the truncated cdf', () => {
    const draw = (seed: number): number[] => {
      const rng = new Rng(seed);
      return Array.from({ length: 2000 }, () => rvs(-0.5, 2, 1, 0.5, rng));
    };
    assert.deepEqual(draw(7), draw(7));
    const xs = draw(8).sort((p, q) => p - q);
    assert.ok(xs[0]! >= 0.75 && xs.at(-1)! <= 2, 'inside [loc + a scale, loc + b scale]');
    // Kolmogorov-Smirnov against the exact cdf: D < 1.63 / sqrt(n) fails 1% of the time for a correct sampler.
    let d = 0;
    xs.forEach((x, i) => {
      const cdf = Math.exp(logcdf(x, -0.5, 2, 1, 0.5));
      d = Math.max(d, Math.abs(cdf - i / xs.length), Math.abs(cdf - (i + 1) / xs.length));
    });
    assert.ok(d < 1.63 / Math.sqrt(xs.length), `KS distance ${d}`);
  });
});
