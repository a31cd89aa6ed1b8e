import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatParams } from '../../core/params.js';
import { GridSampler, gridPoints } from '../../coordinator/samplers/grid.js';
import { RandomSampler } from '../../coordinator/samplers/random.js';
import type { TrialView } from '../../coordinator/samplers/sampler.js';
import { BUILTIN_SPACES } from '../../coordinator/space/builtin-spaces.js';
import { contains, type SearchSpace } from '../../coordinator/space/search-space.js';

const mixed: SearchSpace = {
  params: [
    ['lr', { type: 'float', low: 1e-4, high: 1e-1, log: true }],
    ['dropout', { type: 'float', low: 0, high: 0.5, log: false, step: 0.1 }],
    ['width', { type: 'int', low: 16, high: 512, log: true, step: 1 }],
    ['depth', { type: 'int', low: 2, high: 6, log: false, step: 2 }],
    ['sampling', { type: 'categorical', choices: ['none', 'weighted', 'smote'] }],
  ],
};

const asked = (params: TrialView['params'][]): TrialView[] => params.map((p, i) => ({ number: i, state: 'COMPLETE', params: p, value: 0.5 }));

test('random: every value is inside its distribution, and the same seed gives the same suggestions', () => {
  const a = new RandomSampler(3);
  const b = new RandomSampler(3);
  for (let n = 0; n < 300; n++) {
    const p = a.suggest(mixed, [], n);
    assert.deepEqual(p, b.suggest(mixed, [], n));
    for (const [name, def] of mixed.params) assert.ok(contains(def, p[name]!), `${name}=${p[name]}`);
  }
  assert.notDeepEqual(new RandomSampler(3).suggest(mixed, [], 0), new RandomSampler(4).suggest(mixed, [], 0));
});

test('random: a trial gets the same suggestion whatever history came before (resume asks what it would have)', () => {
  const s = new RandomSampler(11);
  assert.deepEqual(s.suggest(mixed, [], 5), s.suggest(mixed, asked([{ x: 1 }, { x: 2 }]), 5));
});

test('random: log-uniform spreads evenly over decades, and every categorical choice and int value is drawn', () => {
  const s = new RandomSampler(1);
  const decades = [0, 0, 0];
  const seen = new Map<string, Set<unknown>>([['sampling', new Set()], ['depth', new Set()], ['dropout', new Set()]]);
  const n = 3000;
  for (let i = 0; i < n; i++) {
    const p = s.suggest(mixed, [], i);
    decades[Math.min(2, Math.floor(Math.log10(p.lr as number) + 4))]!++;
    for (const [k, set] of seen) set.add(p[k]);
  }
  // Each decade holds a third; a binomial sd is ~26, so 150 is a >5 sd margin.
  for (const d of decades) assert.ok(Math.abs(d - n / 3) < 150, `decade counts ${decades}`);
  assert.deepEqual([...seen.get('sampling')!].sort(), ['none', 'smote', 'weighted']);
  assert.deepEqual([...seen.get('depth')!].sort(), [2, 4, 6]);
  assert.deepEqual([...(seen.get('dropout')! as Set<number>)].sort(), [0, 0.1, 0.2, 0.3, 0.4, 0.5]);
});

test('grid: the paper space gives its 720 distinct configurations, each once, then reports exhaustion', () => {
  const space = BUILTIN_SPACES['sctl-paper']!;
  const grid = new GridSampler(0);
  assert.equal(grid.capacity(space), 720);
  const history: TrialView[] = [];
  for (let n = 0; n < 720; n++) {
    const p = grid.suggest(space, history, n);
    assert.ok(p !== null);
    history.push({ number: n, state: 'RUNNING', params: p });
  }
  assert.equal(new Set(history.map((t) => formatParams(t.params))).size, 720);
  assert.equal(grid.suggest(space, history, 720), null);
  const l1 = new Set(history.map((t) => t.params.l1));
  assert.deepEqual([...l1].sort(), [0.1, 0.5, 1, 2]);
});

test('grid: order is a seeded shuffle, reproducible; float steps do not drift', () => {
  const space: SearchSpace = { params: [['dropout', { type: 'float', low: 0, high: 0.3, log: false, step: 0.1 }], ['d', { type: 'int', low: 1, high: 2, log: false, step: 1 }]] };
  assert.deepEqual(
    gridPoints(space).map((p) => p.dropout),
    [0, 0, 0.1, 0.1, 0.2, 0.2, 0.3, 0.3],
  );
  const first = (seed: number): string[] => {
    const g = new GridSampler(seed);
    const h: TrialView[] = [];
    for (let n = 0; n < 8; n++) h.push({ number: n, state: 'RUNNING', params: g.suggest(space, h, n)! });
    return h.map((t) => formatParams(t.params));
  };
  assert.deepEqual(first(5), first(5));
  assert.notDeepEqual(first(5), first(6));
});
