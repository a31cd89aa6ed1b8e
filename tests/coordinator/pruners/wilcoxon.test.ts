import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { signedRankTest, type Alternative } from '../../../coordinator/pruners/wilcoxon.js';

const fixtures = JSON.parse(readFileSync(new URL('../../fixtures/wilcoxon.json', import.meta.url), 'utf8')) as {
  cases: Array<{ d: number[]; alternative: Alternative; p: number }>;
};

test('p-values equal scipy.stats.wilcoxon (exact and normal approximation, ties included)', () => {
  assert.ok(fixtures.cases.length >= 40);
  for (const c of fixtures.cases) {
    const { pValue } = signedRankTest(c.d, c.alternative);
    assert.ok(Math.abs(pValue - c.p) <= 1e-12 * Math.max(1, c.p), `n=${c.d.length} ${c.alternative}: ${pValue} vs scipy ${c.p}`);
  }
});

test('six seeds all worse give the smallest one-sided p, 1/64; zeros are dropped', () => {
  assert.equal(signedRankTest([-1, -2, -3, -4, -5, -6], 'less').pValue, 1 / 64);
  assert.equal(signedRankTest([-1, -2, -3, -4, -5, 0], 'less').pValue, 1 / 32);
  assert.equal(signedRankTest([0, 0], 'less').pValue, 1);
  assert.throws(() => signedRankTest([1, Number.NaN], 'less'), /expected finite differences, but got NaN/);
});

test('ties are counted exactly: the p-value equals brute-force enumeration of all sign patterns', () => {
  const cases = [
    [0.05, -0.2, -0.2, -0.2, -0.23],
    [1, 1, -1, -1, 2, -3, 3],
    [-0.5, -0.5, -0.5, -0.5, -0.5, -0.5],
  ];
  for (const d of cases) {
    const abs = d.map(Math.abs);
    const ranks = abs.map((a) => abs.filter((b) => b < a).length + (abs.filter((b) => b === a).length + 1) / 2);
    const observed = d.reduce((w, x, i) => (x > 0 ? w + ranks[i]! : w), 0);
    let below = 0;
    for (let mask = 0; mask < 2 ** d.length; mask++) {
      let w = 0;
      for (let i = 0; i < d.length; i++) if (mask & (1 << i)) w += ranks[i]!;
      if (w <= observed + 1e-9) below++;
    }
    const { pValue, method } = signedRankTest(d, 'less');
    assert.equal(method, 'exact');
    assert.equal(pValue, below / 2 ** d.length, `${d}`);
  }
  // One seed better and four tied worse is not significant at 0.05 (the normal approximation would say 0.037).
  assert.ok(signedRankTest([0.05, -0.2, -0.2, -0.2, -0.23], 'less').pValue > 0.05);
});
