import assert from 'node:assert/strict';
import test from 'node:test';
import { dropoutNoise } from '../../../trainer/models/dropout-noise.js';

test('dropout noise: seeded, the right fraction kept at 1 / (1 - rate), no pattern between neighbours', () => {
  const n = 200_000;
  for (const rate of [0.1, 0.5, 0.9]) {
    const a = dropoutNoise(n, rate, 12345);
    assert.deepEqual(a, dropoutNoise(n, rate, 12345), 'same seed, same noise');
    assert.notDeepEqual(a, dropoutNoise(n, rate, 12346), 'next seed, other noise');
    const kept = a.filter((v) => v !== 0);
    assert.ok(kept.every((v) => v === Math.fround(1 / (1 - rate))), 'survivors scaled by 1 / (1 - rate)');
    const keptFraction = kept.length / n;
    // Binomial sd at n = 200,000 is at most 0.0011; 5 sd.
    assert.ok(Math.abs(keptFraction - (1 - rate)) < 0.0056, `rate ${rate}: kept ${keptFraction}`);
    // Neighbouring entries are independent: P(both kept) = (1 - rate)^2.
    let both = 0;
    for (let i = 1; i < n; i++) if (a[i] !== 0 && a[i - 1] !== 0) both++;
    assert.ok(Math.abs(both / (n - 1) - (1 - rate) ** 2) < 0.0056, `rate ${rate}: neighbours both kept ${both / (n - 1)}`);
  }
  assert.ok(dropoutNoise(1000, 0, 1).every((v) => v === 1), 'rate 0 keeps everything');
  assert.throws(() => dropoutNoise(10, 1, 1), /dropoutNoise: expected a rate in \[0, 1\), but got 1/);
});

test('dropout noise: consecutive seeds give unrelated masks (seeds come from a counter-like stream)', () => {
  const a = dropoutNoise(100_000, 0.5, 7);
  const b = dropoutNoise(100_000, 0.5, 8);
  let agree = 0;
  for (let i = 0; i < a.length; i++) if ((a[i] === 0) === (b[i] === 0)) agree++;
  assert.ok(Math.abs(agree / a.length - 0.5) < 0.01, `masks agree on ${agree / a.length}`);
});
