import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../core/errors.js';
import type { Params } from '../../../core/params.js';
import { Rng } from '../../../core/rng.js';
import { RandomSampler } from '../../../coordinator/samplers/random.js';
import type { TrialState, TrialView } from '../../../coordinator/samplers/sampler.js';
import { encodeHistory } from '../../../coordinator/samplers/tpe/encoding.js';
import { HistoryCache } from '../../../coordinator/samplers/tpe/history-cache.js';
import { TpeSampler } from '../../../coordinator/samplers/tpe/index.js';
import type { TpeOptions } from '../../../coordinator/samplers/tpe/options.js';
import { argsortStable } from '../../../coordinator/samplers/tpe/parzen-estimator.js';
import type { SearchSpace } from '../../../coordinator/space/search-space.js';
import { mixed } from './spaces.js';

const f = (p: Params): number => (p.x as number) - (Math.log10(p.lr as number) + 2.5) ** 2 - (p.dropout as number) + (p.sampling === 'smote' ? 0.3 : 0);
const STATES: TrialState[] = ['COMPLETE', 'COMPLETE', 'COMPLETE', 'PRUNED', 'RUNNING', 'FAIL'];

/** A trial of every state in turn, its params frozen as the sweep's state holds them (or not). */
function view(number: number, params: Params, frozen: boolean): TrialView {
  const state = STATES[number % STATES.length]!;
  const t: TrialView = { number, state, params: frozen ? Object.freeze({ ...params }) : { ...params } };
  if (state === 'COMPLETE') t.value = f(params);
  if (state === 'PRUNED') t.intermediate = [f(params) - 1, f(params) - 0.5];
  return t;
}

function randomHistory(n: number, frozen: boolean, seed = 9): TrialView[] {
  const random = new RandomSampler(seed);
  return Array.from({ length: n }, (_, i) => view(i, random.suggest(mixed, [], i), frozen));
}

const OPTIONS: Array<[string, Partial<TpeOptions>]> = [
  ['multivariate', {}],
  ['univariate', { multivariate: false }],
  ['penalised failures, no liar', { failedTrials: 'penalise', constantLiar: false }],
];

describe('a sampler that keeps its cache suggests what a fresh one does', () => {
  for (const [name, options] of OPTIONS) {
    test(`${name}: a history grown one trial at a time, then by a hundred at once`, () => {
      const kept = new TpeSampler(3, options);
      const h = randomHistory(12, true);
      for (let i = h.length; i < 90; i++) {
        const params = kept.suggest(mixed, h, i)!;
        assert.deepEqual(params, new TpeSampler(3, options).suggest(mixed, h, i), `trial ${i}`);
        h.push(view(i, params, true));
      }
      const more = randomHistory(190, true).slice(90);
      h.push(...more);
      assert.deepEqual(kept.suggest(mixed, h, 190), new TpeSampler(3, options).suggest(mixed, h, 190));
    });
  }

  test('rows replaced, the history shortened, out of trial order, or another space object: still the fresh suggestion', () => {
    const kept = new TpeSampler(5);
    const fresh = (h: readonly TrialView[], space = mixed) => new TpeSampler(5).suggest(space, h, 200);
    const h = randomHistory(150, true);
    assert.deepEqual(kept.suggest(mixed, h, 200), fresh(h));
    // Another frozen object at an old row, with other values: that row is encoded again and the orders rebuilt.
    const other = randomHistory(150, true, 10);
    for (const i of [3, 40, 41, 149]) h[i] = { ...other[i]!, number: i };
    assert.deepEqual(kept.suggest(mixed, h, 200), fresh(h));
    assert.deepEqual(kept.suggest(mixed, h.slice(0, 60), 200), fresh(h.slice(0, 60)));
    assert.deepEqual(kept.suggest(mixed, h, 200), fresh(h));
    const shuffled = [...h].sort((a, b) => (a.number * 37) % 151 - (b.number * 37) % 151);
    assert.deepEqual(kept.suggest(mixed, shuffled, 200), fresh(shuffled));
    const copy: SearchSpace = { params: mixed.params.map(([name, def]) => [name, { ...def }]) };
    assert.deepEqual(kept.suggest(copy, h, 200), fresh(h, copy));
  });

  test('params changed in place (not frozen) are read again at every suggestion', () => {
    const kept = new TpeSampler(8);
    const h = randomHistory(80, false);
    const before = kept.suggest(mixed, h, 80);
    for (const t of h) if (t.state === 'COMPLETE') (t.params as Record<string, number>).x = -(t.params.x as number);
    const after = kept.suggest(mixed, h, 80);
    assert.deepEqual(after, new TpeSampler(8).suggest(mixed, h, 80));
    assert.notDeepEqual(after, before, 'the change is seen');
  });

  test('a history rejected part way leaves nothing a later suggestion uses', () => {
    const kept = new TpeSampler(2);
    const good = randomHistory(100, true);
    const expected = new TpeSampler(2).suggest(mixed, good, 100);
    assert.deepEqual(kept.suggest(mixed, good, 100), expected);
    // Rows 0-49 replaced by other valid values, then row 50 by other values with a bad x: the
    // pass stops at x, after writing row 50's lr, so row 50's old entry must not be reused.
    const other = randomHistory(100, true, 11);
    const bad = [...other.slice(0, 50), { ...good[50]!, params: Object.freeze({ ...other[50]!.params, x: 7 }) }, ...good.slice(51)];
    assert.throws(() => kept.suggest(mixed, bad, 100), (err: unknown) => err instanceof ConfigError && /trial 50: expected a number in \[-2, 2\], but got 7/.test(err.message));
    assert.deepEqual(kept.suggest(mixed, good, 100), expected);
    assert.deepEqual(kept.suggest(mixed, [...other.slice(0, 50), ...good.slice(50)], 100), new TpeSampler(2).suggest(mixed, [...other.slice(0, 50), ...good.slice(50)], 100));
  });

  test('batch ask: the same k suggestions as a fresh sampler', () => {
    const h = randomHistory(60, true);
    const kept = new TpeSampler(4);
    kept.suggest(mixed, h, 60);
    assert.deepEqual(kept.suggestBatch(mixed, h, 60, 6), new TpeSampler(4).suggestBatch(mixed, h, 60, 6));
  });
});

describe('HistoryCache', () => {
  /** Counts the rows encodeHistory checks and encodes. */
  class Counting extends HistoryCache {
    rows = 0;
    override encoded(i: number, params: Params): void {
      this.rows++;
      super.encoded(i, params);
    }
  }

  test('a frozen row is encoded once; a row not frozen at every pass; the columns are the encoding', () => {
    const cache = new Counting();
    const h = randomHistory(70, true);
    const columns = encodeHistory(mixed, h, cache).map((c) => Array.from(c));
    assert.equal(cache.rows, 70);
    assert.deepEqual(columns, encodeHistory(mixed, h).map((c) => Array.from(c)));
    h.push(...randomHistory(73, true).slice(70));
    const grown = encodeHistory(mixed, h, cache).map((c) => Array.from(c));
    assert.equal(cache.rows, 73, 'only the three new rows');
    assert.deepEqual(grown, encodeHistory(mixed, h).map((c) => Array.from(c)));
    const loose = randomHistory(20, false);
    encodeHistory(mixed, loose, cache);
    encodeHistory(mixed, loose, cache);
    assert.equal(cache.rows, 73 + 40);
  });

  test('a pass that throws part way through a row: that row is encoded again at the next pass', () => {
    const cache = new HistoryCache();
    const good = randomHistory(30, true);
    encodeHistory(mixed, good, cache);
    // Row 12 by other values, its lr written before its bad x stops the pass.
    const bad = [...good];
    bad[12] = { ...good[12]!, params: Object.freeze({ ...randomHistory(30, true, 12)[12]!.params, x: 7 }) };
    assert.throws(() => encodeHistory(mixed, bad, cache), /trial 12: expected a number in \[-2, 2\], but got 7/);
    const plain = (c: Float64Array[]) => c.map((column) => Array.from(column));
    assert.deepEqual(plain(encodeHistory(mixed, good, cache)), plain(encodeHistory(mixed, good)));
  });

  test("a group's observations come in internal space, sorted as argsortStable sorts them", () => {
    const cache = new HistoryCache();
    const h = randomHistory(40, true);
    encodeHistory(mixed, h, cache);
    // Then one row at a time, through the insertion path.
    for (let i = 40; i < 120; i++) {
      h.push(view(i, new RandomSampler(9).suggest(mixed, [], i), true));
      encodeHistory(mixed, h, cache);
    }
    // Two groups and rows in neither, as the split leaves them.
    const rng = new Rng('history-cache-test');
    const group = Array.from(h, () => Math.floor(rng.float() * 3));
    const groups = [0, 1].map((g) => Int32Array.from(h.keys()).filter((r) => group[r] === g));
    const sorted = cache.presorted(groups[0]!, groups[1]!, h.length);
    groups.forEach((rows, g) =>
      mixed.params.forEach(([name, def], d) => {
        if (def.type === 'categorical') return assert.equal(sorted[g]![d], undefined);
        const internal = Float64Array.from(rows, (r) => (def.log ? Math.log(h[r]!.params[name] as number) : (h[r]!.params[name] as number)));
        assert.deepEqual(Array.from(sorted[g]![d]!.mu), Array.from(internal), name);
        assert.deepEqual(Array.from(sorted[g]![d]!.order), Array.from(argsortStable(internal)), name);
      }),
    );
  });
});
