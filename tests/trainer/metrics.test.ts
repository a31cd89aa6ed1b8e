import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { averagePrecision, rocAuc } from '../../trainer/metrics/index.js';
import { Rng } from '../../core/rng.js';

interface FixtureCase {
  name: string;
  labels: number[];
  scores: number[];
  roc_auc: number | null;
  average_precision: number;
}
interface Fixtures {
  generated_by: string;
  sklearn_version: string;
  cases: FixtureCase[];
}

// Produced by bench/reference/metrics_fixtures.py (`make fixtures`) with scikit-learn 1.2.1.
const fixtures = JSON.parse(readFileSync(new URL('../fixtures/metrics.json', import.meta.url), 'utf8')) as Fixtures;
const TOLERANCE = 1e-12;

function assertClose(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= TOLERANCE, `${what}: expected ${expected}, got ${actual} (diff ${actual - expected})`);
}

describe('metrics fixtures', () => {
  test('come from scikit-learn 1.2.1 and cover the required cases', () => {
    assert.equal(fixtures.sklearn_version, '1.2.1');
    assert.match(fixtures.generated_by, /^\/usr\/bin\/python3 bench\/reference\/metrics_fixtures\.py > tests\/fixtures\/metrics\.json$/);
    const names = fixtures.cases.map((c) => c.name).join('\n');
    for (const kind of ['random', 'ties', 'all equal', 'perfectly separated', 'perfectly reversed', 'one positive in 500', 'float32', 'n=2']) {
      assert.ok(names.includes(kind), `no fixture case for ${kind}`);
    }
  });

  test('scores are float32 values, so a Float32Array carries them exactly', () => {
    for (const c of fixtures.cases) {
      const f32 = Float32Array.from(c.scores);
      c.scores.forEach((s, i) => assert.ok(Object.is(f32[i], s), `${c.name}: score ${i} (${s}) is not a float32 value`));
    }
  });
});

describe('rocAuc', () => {
  for (const c of fixtures.cases) {
    if (c.roc_auc === null) continue;
    const expected = c.roc_auc;
    test(`matches scikit-learn: ${c.name}`, () => {
      assertClose(rocAuc(Uint8Array.from(c.labels), Float32Array.from(c.scores)), expected, c.name);
      // Plain arrays give the very same number.
      assert.equal(rocAuc(c.labels, c.scores), rocAuc(Uint8Array.from(c.labels), Float32Array.from(c.scores)));
    });
  }

  test('equals the pairwise (Mann-Whitney) definition with half credit for ties', () => {
    const rng = new Rng('roc-pairs');
    for (let trial = 0; trial < 20; trial++) {
      const n = rng.int(2, 120);
      const labels = Uint8Array.from({ length: n }, (_, i) => (i < 1 ? 1 : i < 2 ? 0 : rng.int(0, 1)));
      const scores = Float32Array.from({ length: n }, () => Math.round(rng.float() * 8) / 8);
      let wins = 0;
      let pairs = 0;
      for (let i = 0; i < n; i++) {
        if (labels[i] !== 1) continue;
        for (let j = 0; j < n; j++) {
          if (labels[j] !== 0) continue;
          pairs++;
          const si = scores[i] as number;
          const sj = scores[j] as number;
          wins += si > sj ? 1 : si === sj ? 0.5 : 0;
        }
      }
      assertClose(rocAuc(labels, scores), wins / pairs, `trial ${trial}`);
    }
  });

  test('does not depend on the input order', () => {
    const c = fixtures.cases.find((k) => k.name.startsWith('ties rounded to 0.1 n=300'));
    assert.ok(c !== undefined && c.roc_auc !== null);
    const order = new Rng('roc-order').shuffle(Array.from(c.labels, (_, i) => i));
    const labels = order.map((i) => c.labels[i] as number);
    const scores = order.map((i) => c.scores[i] as number);
    assert.equal(rocAuc(labels, scores), rocAuc(c.labels, c.scores));
  });

  test('rejects bad input with a message saying what was expected', () => {
    assert.throws(() => rocAuc([0, 1, 1], [0.1, 0.2]), {
      name: 'RangeError',
      message: 'rocAuc: expected labels and scores of the same length, but got 3 labels and 2 scores',
    });
    assert.throws(() => rocAuc([], []), { name: 'RangeError', message: 'rocAuc: expected at least one sample, but got 0' });
    assert.throws(() => rocAuc([0, 2, 1], [0.1, 0.2, 0.3]), {
      name: 'RangeError',
      message: 'rocAuc: expected labels 0 or 1, but got 2 at index 1',
    });
    assert.throws(() => rocAuc([0, 1, 0.5], [0.1, 0.2, 0.3]), { message: 'rocAuc: expected labels 0 or 1, but got 0.5 at index 2' });
    assert.throws(() => rocAuc([0, 1, 1], [0.1, Number.NaN, 0.3]), {
      name: 'RangeError',
      message: 'rocAuc: expected finite scores, but got NaN at index 1',
    });
    assert.throws(() => rocAuc([0, 1], [Number.NEGATIVE_INFINITY, 0.3]), {
      message: 'rocAuc: expected finite scores, but got -Infinity at index 0',
    });
  });

  test('is undefined with one class, as in scikit-learn', () => {
    assert.throws(() => rocAuc([1, 1, 1], [0.1, 0.2, 0.3]), {
      name: 'RangeError',
      message: 'rocAuc: expected both classes (0 and 1) in labels, but got only 1 (ROC AUC is undefined with one class)',
    });
    assert.throws(() => rocAuc(new Uint8Array(4), new Float32Array(4)), {
      name: 'RangeError',
      message: 'rocAuc: expected both classes (0 and 1) in labels, but got only 0 (ROC AUC is undefined with one class)',
    });
  });
});

describe('averagePrecision', () => {
  for (const c of fixtures.cases) {
    test(`matches scikit-learn: ${c.name}`, () => {
      assertClose(averagePrecision(Uint8Array.from(c.labels), Float32Array.from(c.scores)), c.average_precision, c.name);
      assert.equal(averagePrecision(c.labels, c.scores), averagePrecision(Uint8Array.from(c.labels), Float32Array.from(c.scores)));
    });
  }

  test('does not depend on the input order', () => {
    const c = fixtures.cases.find((k) => k.name.startsWith('ties rounded to 0.1 n=2000'));
    assert.ok(c !== undefined);
    const order = new Rng('ap-order').shuffle(Array.from(c.labels, (_, i) => i));
    const labels = order.map((i) => c.labels[i] as number);
    const scores = order.map((i) => c.scores[i] as number);
    assert.equal(averagePrecision(labels, scores), averagePrecision(c.labels, c.scores));
  });

  test('rejects bad input with a message saying what was expected', () => {
    assert.throws(() => averagePrecision(new Uint8Array(2), new Float32Array(3)), {
      name: 'RangeError',
      message: 'averagePrecision: expected labels and scores of the same length, but got 2 labels and 3 scores',
    });
    assert.throws(() => averagePrecision(new Uint8Array(0), new Float32Array(0)), {
      message: 'averagePrecision: expected at least one sample, but got 0',
    });
    assert.throws(() => averagePrecision([1, -1], [0.1, 0.2]), {
      message: 'averagePrecision: expected labels 0 or 1, but got -1 at index 1',
    });
    assert.throws(() => averagePrecision([1, 0], [0.1, Number.POSITIVE_INFINITY]), {
      message: 'averagePrecision: expected finite scores, but got Infinity at index 1',
    });
  });

  test('throws with no positive label, where scikit-learn 1.2.1 warns and returns 0', () => {
    assert.throws(() => averagePrecision([0, 0, 0], [0.1, 0.5, 0.2]), {
      name: 'RangeError',
      message: 'averagePrecision: expected at least one positive label (1), but got none (average precision is undefined)',
    });
  });
});
