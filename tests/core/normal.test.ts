import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { erf, erfc, erfcx, logNormalSf, normalSf } from '../../core/normal.js';
import { assertClose, DBL_MIN, fixtures } from '../trainer/interpret/fixtures.js';

// Against mpmath at 60 digits rounded to double ("exact"): Cody's algorithm with
// the split exp(-x^2) is within a few ulps. Against scipy 1.10.1 (Cephes, which
// rounds x^2 and is itself off by up to 1.5e-13 in the far tail): the brief's
// 1e-10, far looser than either error.
const ULPS = 4 * Number.EPSILON;
const VS_SCIPY = 1e-10;
/** Spacing of the subnormal doubles: below DBL_MIN an absolute error of a few of these is all a double can do. */
const SUBNORMAL_STEP = 5e-324;

describe('fixtures', () => {
  test('come from the reference script and cover the range', () => {
    assert.match(fixtures.generated_by, /^\/usr\/bin\/python3 bench\/reference\/markers_fixtures\.py > tests\/fixtures\/interpret\/markers\.json$/);
    const xs = fixtures.erfc.map((c) => c.x);
    assert.ok(Math.min(...xs) <= -6 && Math.max(...xs) >= 28, 'erfc cases span [-6, 28]');
    const zs = fixtures.normal_sf.map((c) => c.z);
    assert.ok(zs.some((z) => z < 0) && zs.some((z) => z >= 1000), 'sf cases span negative z to 1000');
    // p near 1e-300 and subnormal and zero results are all present.
    assert.ok(fixtures.normal_sf.some((c) => c.sf_exact > DBL_MIN && c.sf_exact < 1e-290));
    assert.ok(fixtures.normal_sf.some((c) => c.sf_exact > 0 && c.sf_exact < DBL_MIN));
    assert.ok(fixtures.normal_sf.some((c) => c.sf_scipy === 0 && c.sf_exact > 0), 'a case where scipy underflows early');
  });
});

describe('erfc', () => {
  for (const c of fixtures.erfc) {
    test(`x = ${c.x}`, () => {
      const v = erfc(c.x);
      if (c.exact >= DBL_MIN) {
        assertClose(v, c.exact, ULPS, 'vs mpmath');
        if (c.scipy >= DBL_MIN) assertClose(v, c.scipy, VS_SCIPY, 'vs scipy');
      } else {
        assert.ok(Math.abs(v - c.exact) <= 2 * SUBNORMAL_STEP, `subnormal range: expected ${c.exact}, got ${v}`);
      }
    });
  }

  test('erf + erfc = 1, erf is odd, NaN passes through', () => {
    for (const x of [-3, -0.7, -0.2, 0, 0.2, 0.46875, 0.7, 1.3, 3, 6]) {
      assertClose(erf(x) + erfc(x), 1, 2 * Number.EPSILON, `x = ${x}`);
      assert.equal(erf(-x), -erf(x));
    }
    assert.ok(Number.isNaN(erfc(Number.NaN)) && Number.isNaN(erf(Number.NaN)) && Number.isNaN(normalSf(Number.NaN)));
    assert.equal(erfc(Number.POSITIVE_INFINITY), 0);
    assert.equal(erfc(Number.NEGATIVE_INFINITY), 2);
    assert.equal(erf(Number.POSITIVE_INFINITY), 1);
  });

  test('erfcx = exp(x^2) erfc(x) where both are representable, and 1/(x sqrt(pi)) far out', () => {
    for (const x of [0, 0.3, 0.46875, 0.5, 1, 2, 3.9, 4.1, 8, 20]) {
      assertClose(erfcx(x), Math.exp(x * x) * erfc(x), 1e-13, `x = ${x}`);
    }
    // Asymptotic series 1/(x sqrt(pi)) (1 - 1/(2x^2) + 3/(4x^4)): exact to double precision at x = 1e4.
    const x = 1e4;
    assertClose(erfcx(x), (1 / (x * Math.sqrt(Math.PI))) * (1 - 1 / (2 * x * x) + 3 / (4 * x ** 4)), 2 * Number.EPSILON, 'x = 1e4');
    assertClose(erfcx(1e9), 1 / (1e9 * Math.sqrt(Math.PI)), 2 * Number.EPSILON, 'x = 1e9');
    assert.throws(() => erfcx(-1), RangeError);
  });
});

describe('normalSf and logNormalSf', () => {
  for (const c of fixtures.normal_sf) {
    test(`z = ${c.z}`, () => {
      const v = normalSf(c.z);
      if (c.sf_exact >= DBL_MIN) {
        assertClose(v, c.sf_exact, ULPS, 'sf vs mpmath');
        assertClose(v, c.sf_scipy, VS_SCIPY, 'sf vs scipy');
      } else {
        // scipy returns 0 from z ~ 37.7 (Cephes' erfc underflow test); the true
        // value is subnormal there, and 0 only from z ~ 38.5.
        assert.ok(Math.abs(v - c.sf_exact) <= 2 * SUBNORMAL_STEP, `subnormal range: expected ${c.sf_exact}, got ${v}`);
        assert.ok(c.sf_scipy < DBL_MIN);
      }
      // Log space: finite and right to a few ulps however small the p.
      const l = logNormalSf(c.z);
      assertClose(l, c.logsf_exact, ULPS, 'logsf vs mpmath', 1e-300);
      assertClose(l, c.logsf_scipy, VS_SCIPY, 'logsf vs scipy', 1e-300);
    });
  }

  test('symmetry and the centre', () => {
    assert.equal(normalSf(0), 0.5);
    assert.equal(Math.LN2 + logNormalSf(0), 0, 'two-sided p of z = 0 is exactly 1 in log space');
    for (const z of [0.1, 0.9, 1.7, 4, 9]) assertClose(normalSf(z) + normalSf(-z), 1, 2 * Number.EPSILON, `z = ${z}`);
    assert.equal(normalSf(Number.POSITIVE_INFINITY), 0);
    assert.equal(normalSf(Number.NEGATIVE_INFINITY), 1);
    assert.equal(logNormalSf(Number.POSITIVE_INFINITY), Number.NEGATIVE_INFINITY);
    assert.ok(logNormalSf(Number.NEGATIVE_INFINITY) === 0, "log of 1");
  });
});
