import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TrialView } from '../../../coordinator/samplers/sampler.js';
import { gamma, splitTrials } from '../../../coordinator/samplers/tpe/split.js';
import { load, type SplitFixtures } from './fixtures.js';

const f = load<SplitFixtures>('split.json');

/**
 * The histories of bench/reference/tpe_fixtures.py (SPLIT_HISTORIES), rebuilt
 * here from the fixture's trial numbers: the script gives trial i the state and
 * value listed at position i.
 */
const HISTORIES: Record<string, Array<[TrialView['state'], number | number[] | null]>> = {
  'complete only, ties broken by the earlier trial': [0.7, 0.9, 0.7, 0.5, 0.9, 0.6, 0.65, 0.8, 0.71, 0.55, 0.9, 0.3].map((v) => ['COMPLETE', v]),
  'pruned fill the good group when complete ones run out': [
    ['PRUNED', [0.6, 0.62]], ['COMPLETE', 0.7], ['PRUNED', [0.9]], ['PRUNED', [0.5, 0.7, 0.4]],
    ['PRUNED', null], ['PRUNED', [0.5, 0.7, 0.45]], ['RUNNING', null], ['PRUNED', [0.95]],
    ['FAIL', null], ['PRUNED', [0.1, 0.2]], ['COMPLETE', 0.2], ['PRUNED', [0.8, 0.1]],
    ['PRUNED', null], ['PRUNED', [0.3, 0.2, 0.1, 0.0]], ['PRUNED', [0.3, 0.2, 0.1, 0.05]],
    ...Array.from({ length: 10 }, (_, i): ['PRUNED', number[]] => ['PRUNED', [0.1 * (i % 7)]]),
  ],
  'running trials always go to the bad group': [
    ['RUNNING', null], ['COMPLETE', 0.5], ['RUNNING', null], ['COMPLETE', 0.9], ['COMPLETE', 0.1],
    ['RUNNING', null], ['COMPLETE', 0.95], ['COMPLETE', 0.4], ['RUNNING', null], ['COMPLETE', 0.3],
    ['COMPLETE', 0.2], ['COMPLETE', 0.25], ['RUNNING', null],
  ],
  'a long history: gamma caps at 25': [
    ...Array.from({ length: 300 }, (_, i): ['COMPLETE', number] => ['COMPLETE', ((i * 7919) % 1000) / 1000]),
    ...Array.from({ length: 5 }, (): ['RUNNING', null] => ['RUNNING', null]),
    ...Array.from({ length: 3 }, (): ['PRUNED', number[]] => ['PRUNED', [0.99]]),
  ],
};

function trials(name: string): TrialView[] {
  const h = HISTORIES[name];
  assert.ok(h, `history ${name}`);
  return h.map(([state, v], number) => {
    const t: TrialView = { number, state, params: { x: (number % 97) / 97 } };
    if (state === 'COMPLETE') t.value = v as number;
    if (state === 'PRUNED' && v !== null) t.intermediate = v as number[];
    return t;
  });
}

describe('split against Optuna', () => {
  test('fixtures: v5 and 3.1 agree on every history (the script asserts it), and every history is rebuilt here', () => {
    assert.deepEqual(f.v5.splits.map((s) => s.name).sort(), Object.keys(HISTORIES).sort());
    for (const [a, b] of f.v5.splits.map((s, i) => [s, f.v3_1.splits[i]!] as const)) {
      assert.deepEqual([a.below, a.above], [b.below, b.above], a.name);
      assert.match(a.producer, /^optuna 5\.0\.0\.dev @ 1d8ce7b/);
      assert.match(b.producer, /^optuna 3\.1\.0/);
    }
  });

  for (const expected of f.v5.splits) {
    test(expected.name, () => {
      // As the sampler does: COMPLETE, PRUNED and (constant liar) RUNNING trials; FAIL ones left out.
      const used = trials(expected.name).filter((t) => t.state !== 'FAIL');
      const n = used.filter((t) => t.state !== 'RUNNING').length;
      assert.equal(n, expected.n_finished);
      assert.equal(gamma(n), expected.gamma);
      const { below, above } = splitTrials(used, gamma(n));
      assert.deepEqual(below.map((t) => t.number), expected.below);
      assert.deepEqual(above.map((t) => t.number), expected.above);
    });
  }

  test('gamma is min(ceil(0.1 n), 25)', () => {
    for (const [n, g] of Object.entries(f.v5.default_gamma)) assert.equal(gamma(Number(n)), g, `n = ${n}`);
  });
});

describe('split details', () => {
  test('the groups come back oldest first whatever order the history is in', () => {
    const t = trials('running trials always go to the bad group').filter((x) => x.state !== 'FAIL');
    const shuffled = [t[5]!, t[0]!, t[12]!, t[3]!, t[9]!, t[1]!, t[7]!, t[2]!, t[11]!, t[4]!, t[8]!, t[6]!, t[10]!];
    assert.deepEqual(splitTrials(shuffled, 3), splitTrials(t, 3));
  });

  test('FAIL trials given to the split (the penalise option) land in the bad group even when the good group is short', () => {
    const t: TrialView[] = [
      { number: 0, state: 'FAIL', params: {} },
      { number: 1, state: 'COMPLETE', params: {}, value: 0.5 },
    ];
    const { below, above } = splitTrials(t, 2);
    assert.deepEqual([below.map((x) => x.number), above.map((x) => x.number)], [[1], [0]]);
  });
});
