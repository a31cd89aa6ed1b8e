import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { predictedGroups } from '../../../trainer/interpret/index.js';
import { fixtures } from './fixtures.js';

describe('predictedGroups', () => {
  for (const c of fixtures.groups) {
    test(`matches numpy (score > np.median): ${c.name}`, () => {
      const g = predictedGroups(Float32Array.from(c.scores));
      assert.equal(g.threshold, c.threshold);
      assert.deepEqual(g.sensitive, c.sensitive);
      assert.equal(g.nSensitive, c.sensitive.filter(Boolean).length);
      assert.equal(g.nSensitive + g.nResistant, c.scores.length);
    });
  }

  test('fixtures include ties at the median, an odd count and all-equal scores', () => {
    const names = fixtures.groups.map((c) => c.name).join('\n');
    for (const kind of ['ties at the median', 'odd', 'all equal', 'n=1', 'signed zeros']) assert.ok(names.includes(kind), kind);
  });

  test('scores equal to the median go to resistant', () => {
    // Median 0.5, held by three cells: none of them is sensitive.
    const g = predictedGroups([0.1, 0.5, 0.5, 0.9, 0.5, 0.7, 0.2]);
    assert.equal(g.threshold, 0.5);
    assert.deepEqual(g.sensitive, [false, false, false, true, false, true, false]);
    assert.equal(g.nSensitive, 2);
    assert.equal(g.nResistant, 5);
  });

  test('even count: the threshold is the mean of the middle pair, so the split is half and half', () => {
    const g = predictedGroups([0.4, 0.1, 0.8, 0.6]);
    assert.equal(g.threshold, 0.5);
    assert.deepEqual(g.sensitive, [false, false, true, true]);
  });

  test('all scores equal: an empty sensitive group, not an error', () => {
    const g = predictedGroups(new Float32Array(9).fill(0.3));
    assert.equal(g.nSensitive, 0);
    assert.equal(g.nResistant, 9);
    assert.ok(g.sensitive.every((s) => s === false));
  });

  test('non-finite or no scores: RangeError naming the problem', () => {
    assert.throws(() => predictedGroups([0.2, Number.NaN, 0.4]), { name: 'RangeError', message: /score 1 is NaN/ });
    assert.throws(() => predictedGroups([0.2, Number.POSITIVE_INFINITY]), { name: 'RangeError', message: /score 1 is Infinity/ });
    assert.throws(() => predictedGroups([]), { name: 'RangeError', message: /no scores/ });
  });
});
