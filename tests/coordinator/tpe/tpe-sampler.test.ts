import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../core/errors.js';
import { paramsKey, type Params } from '../../../core/params.js';
import { createSampler, SAMPLER_NAMES } from '../../../coordinator/samplers/index.js';
import type { TrialView } from '../../../coordinator/samplers/sampler.js';
import { compileTpeOptions, DEFAULT_TPE_OPTIONS, TpeSampler } from '../../../coordinator/samplers/tpe/index.js';
import { BUILTIN_SPACES } from '../../../coordinator/space/builtin-spaces.js';
import { cardinality, contains, type SearchSpace } from '../../../coordinator/space/search-space.js';
import { mixed } from './spaces.js';

const line: SearchSpace = { params: [['x', { type: 'float', low: 0, high: 1, log: false }]] };
const plane: SearchSpace = {
  params: [
    ['x', { type: 'float', low: -5, high: 5, log: false }],
    ['y', { type: 'float', low: -5, high: 5, log: false }],
  ],
};
const tiny: SearchSpace = {
  params: [
    ['a', { type: 'int', low: 0, high: 1, log: false, step: 1 }],
    ['b', { type: 'categorical', choices: ['p', 'q', 'r'] }],
    ['c', { type: 'float', low: 0, high: 0.1, log: false, step: 0.1 }],
  ],
};

/** Runs a study to `n` trials, each completed with f(params) before the next is asked. */
function run(sampler: TpeSampler, space: SearchSpace, f: (p: Params) => number, n: number, history: TrialView[] = []): TrialView[] {
  for (let i = history.length; i < n; i++) {
    const params = sampler.suggest(space, history, i);
    assert.ok(params !== null);
    history.push({ number: i, state: 'COMPLETE', params, value: f(params) });
  }
  return history;
}

const quadratic = (p: Params): number => -(((p.x as number) - 1) ** 2 + ((p.y as number) + 2) ** 2);
const bowl = (p: Params): number => -(((p.x as number) - 0.3) ** 2);

describe('determinism', () => {
  test('same seed and history give the same suggestion; another seed another; history order does not matter', () => {
    const h = run(new TpeSampler(1), mixed, (p) => (p.x as number) + Math.log10(p.lr as number), 25);
    const frozen = Object.freeze(h.map((t) => Object.freeze({ ...t, params: Object.freeze({ ...t.params }) })));
    const a = new TpeSampler(4).suggest(mixed, frozen, 25);
    assert.deepEqual(new TpeSampler(4).suggest(mixed, frozen, 25), a);
    assert.notDeepEqual(new TpeSampler(5).suggest(mixed, frozen, 25), a);
    assert.notDeepEqual(new TpeSampler(4).suggest(mixed, frozen, 26), a, 'each trial number has its own stream');
    const reversed = [...frozen].reverse();
    assert.deepEqual(new TpeSampler(4).suggest(mixed, reversed, 25), a);
  });

  test('every suggestion is a value of the space, startup and TPE alike, joint and independent', () => {
    for (const multivariate of [true, false]) {
      const h = run(new TpeSampler(2, { multivariate }), mixed, (p) => -Math.abs(Math.log10(p.lr as number) + 2) - (p.depth as number) / 10, 60);
      for (const t of h) for (const [name, def] of mixed.params) assert.ok(contains(def, t.params[name]!), `${name} = ${t.params[name]}`);
    }
  });
});

describe('startup', () => {
  const done = (n: number, value = (i: number) => i / 100): TrialView[] =>
    Array.from({ length: n }, (_, i) => ({ number: i, state: 'COMPLETE', params: { x: i / n }, value: value(i) }));

  test('random until 10 trials have finished (COMPLETE or PRUNED), then TPE', () => {
    const s = new TpeSampler(3);
    // With 9 finished the suggestion ignores the values; with 10 it follows them.
    assert.deepEqual(s.suggest(line, done(9), 30), s.suggest(line, done(9, (i) => -i), 30));
    assert.notDeepEqual(s.suggest(line, done(10), 30), s.suggest(line, done(10, (i) => -i), 30));
    const pruned = [...done(9), { number: 9, state: 'PRUNED', params: { x: 0.5 } } as TrialView];
    assert.notDeepEqual(s.suggest(line, pruned, 30), s.suggest(line, done(9), 30), 'a PRUNED trial counts');
  });

  test('RUNNING and FAIL trials do not count, unless asked to', () => {
    const extra = (state: TrialView['state']): TrialView[] => Array.from({ length: 6 }, (_, i) => ({ number: 10 + i, state, params: { x: 0.9 } }));
    const h = [...done(5), ...extra('RUNNING')];
    const startup = (s: TpeSampler, hist: TrialView[]): Params | null => s.suggest(line, hist, 30);
    const plain = new TpeSampler(3);
    assert.deepEqual(startup(plain, h), startup(plain, done(5)), 'Optuna: running trials do not end the startup');
    const counting = new TpeSampler(3, { startupCountsRunning: true });
    assert.notDeepEqual(startup(counting, h), startup(counting, done(5)), '5 finished + 6 running >= 10: TPE');
    const fails = [...done(5), ...extra('FAIL')];
    assert.deepEqual(startup(plain, fails), startup(plain, done(5)));
    assert.notDeepEqual(startup(new TpeSampler(3, { failedTrials: 'penalise' }), fails), startup(plain, done(5)));
  });

  test('a Latin hypercube first batch: each parameter stratified over the 10 startup trials, fixed by the seed', () => {
    const space = BUILTIN_SPACES['sctl-log']!;
    const s = new TpeSampler(11, { startupDesign: 'latin-hypercube' });
    const batch = s.suggestBatch(space, [], 0, 10);
    const depths = batch.map((p) => p.depth as number).sort();
    assert.deepEqual(depths, [2, 2, 3, 3, 4, 4, 5, 5, 6, 6]);
    // l1 in [0.05, 4], log scale: one trial in each tenth of log(l1).
    const tenths = batch.map((p) => Math.floor((10 * Math.log((p.l1 as number) / 0.05)) / Math.log(4 / 0.05))).sort((a, b) => a - b);
    assert.deepEqual(tenths, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(new TpeSampler(11, { startupDesign: 'latin-hypercube' }).suggest(space, [], 3), batch[3]);
    assert.notDeepEqual(new TpeSampler(12, { startupDesign: 'latin-hypercube' }).suggest(space, [], 3), batch[3]);
    // Independent random draws rarely stratify: with the default, depths repeat unevenly for this seed.
    const random = new TpeSampler(11).suggestBatch(space, [], 0, 10).map((p) => p.depth as number).sort();
    assert.notDeepEqual(random, depths);
  });
});

describe('TPE', () => {
  test('beats random search on a 2-D quadratic: best after 60 trials, paired over 10 seeds (sign test)', () => {
    // Under "TPE is no better", at least 9 wins of 10 has probability 11/1024 = 1.1%.
    let wins = 0;
    const regrets: string[] = [];
    for (let seed = 0; seed < 10; seed++) {
      const tpe = Math.max(...run(new TpeSampler(seed), plane, quadratic, 60).map((t) => t.value!));
      const random = Math.max(...run(new TpeSampler(seed, { nStartupTrials: 60 }), plane, quadratic, 60).map((t) => t.value!));
      if (tpe > random) wins++;
      regrets.push(`${(-tpe).toFixed(3)}/${(-random).toFixed(3)}`);
    }
    assert.ok(wins >= 9, `TPE won ${wins} of 10 (regret TPE/random: ${regrets.join(' ')})`);
  });

  test('independent (univariate) TPE also beats random search there', () => {
    let wins = 0;
    for (let seed = 0; seed < 10; seed++) {
      const tpe = Math.max(...run(new TpeSampler(seed, { multivariate: false }), plane, quadratic, 60).map((t) => t.value!));
      const random = Math.max(...run(new TpeSampler(seed, { nStartupTrials: 60 }), plane, quadratic, 60).map((t) => t.value!));
      if (tpe > random) wins++;
    }
    assert.ok(wins >= 9, `univariate TPE won ${wins} of 10`);
  });

  test('constant liar: RUNNING trials are ignored without it, and push suggestions apart with it', () => {
    const h = run(new TpeSampler(7), line, bowl, 20);
    const running: TrialView[] = Array.from({ length: 4 }, (_, i) => ({ number: 20 + i, state: 'RUNNING', params: { x: 0.3 + i * 0.001 } }));
    const off = new TpeSampler(7, { constantLiar: false });
    assert.deepEqual(off.suggest(line, [...h, ...running], 30), off.suggest(line, h, 30));
    const on = new TpeSampler(7);
    // Trials running at the very point TPE would pick make it pick another candidate.
    const pick = on.suggest(line, h, 30)!;
    const there: TrialView[] = Array.from({ length: 3 }, (_, i) => ({ number: 40 + i, state: 'RUNNING', params: pick }));
    assert.notDeepEqual(on.suggest(line, [...h, ...there], 30), pick);
    assert.deepEqual(off.suggest(line, [...h, ...there], 30), pick);
    // Over 60 trial numbers, suggestions land near the running points less often with the liar
    // (seed 7: 0 with it, 8 without).
    const near = (s: TpeSampler): number => {
      let k = 0;
      for (let n = 30; n < 90; n++) if (Math.abs((s.suggest(line, [...h, ...running], n)!.x as number) - 0.3015) < 0.05) k++;
      return k;
    };
    assert.ok(near(on) < near(off) / 2, `near the running trials: ${near(on)} with the liar, ${near(off)} without`);
  });

  test('batch ask: k suggestions, each as if the earlier ones were RUNNING', () => {
    const h = run(new TpeSampler(8), plane, quadratic, 15);
    const s = new TpeSampler(8);
    const batch = s.suggestBatch(plane, h, 15, 5);
    assert.equal(batch.length, 5);
    const grown = [...h];
    batch.forEach((p, i) => {
      assert.deepEqual(s.suggest(plane, grown, 15 + i), p);
      grown.push({ number: 15 + i, state: 'RUNNING', params: p });
    });
    assert.equal(new Set(batch.map(paramsKey)).size, 5);
  });

  test('optuna31Every: every k-th suggestion is the 3.1-rules sampler\'s, every other one the v5 sampler\'s', () => {
    const h = run(new TpeSampler(10), plane, quadratic, 30);
    const portfolio = new TpeSampler(10, { optuna31Every: 4 });
    const v5 = new TpeSampler(10);
    const v31 = new TpeSampler(10, { optuna31Every: 1 });
    let differ = 0;
    for (let n = 30; n < 110; n++) {
      const got = portfolio.suggest(plane, h, n);
      if ((n + 1) % 4 !== 0) {
        assert.deepEqual(got, v5.suggest(plane, h, n), `trial ${n}`);
        continue;
      }
      assert.deepEqual(got, v31.suggest(plane, h, n), `trial ${n}`);
      if (paramsKey(got!) !== paramsKey(v5.suggest(plane, h, n)!)) differ++;
    }
    // The two rule sets pick differently (seed 10: 15 of 20).
    assert.ok(differ >= 10, `${differ} of 20 differ`);
  });

  test('categoricalMutationEvery: every k-th suggestion keeps TPE\'s numbers and draws its categories at random', () => {
    const f = (p: Params): number => (p.x as number) - Math.abs(Math.log10(p.lr as number) + 2) + (p.sampling === 'smote' ? 1 : 0);
    const h = run(new TpeSampler(12), mixed, f, 30);
    const plain = new TpeSampler(12);
    const mutating = new TpeSampler(12, { categoricalMutationEvery: 3 });
    const categoricals = mixed.params.filter(([, d]) => d.type === 'categorical').map(([name]) => name);
    assert.ok(categoricals.length > 0);
    const numbers = (p: Params): Params => Object.fromEntries(Object.entries(p).filter(([k]) => !categoricals.includes(k)));
    let changed = 0;
    const drawn = new Set<string>();
    for (let n = 30; n < 90; n++) {
      const got = mutating.suggest(mixed, h, n)!;
      const tpe = plain.suggest(mixed, h, n)!;
      if ((n + 1) % 3 !== 0) {
        assert.deepEqual(got, tpe, `trial ${n}`);
        continue;
      }
      assert.deepEqual(numbers(got), numbers(tpe), `trial ${n}: the numeric parameters are TPE's`);
      assert.deepEqual(mutating.suggest(mixed, h, n), got, 'seeded');
      if (paramsKey(got) !== paramsKey(tpe)) changed++;
      drawn.add(categoricals.map((c) => got[c]).join(','));
    }
    assert.ok(changed >= 8 && drawn.size >= 3, `${changed} of 20 changed, ${drawn.size} category combinations drawn`);
    // Nothing to mutate: an ordinary suggestion.
    const hp = run(new TpeSampler(12), plane, quadratic, 20);
    for (let n = 20; n < 30; n++) assert.deepEqual(new TpeSampler(12, { categoricalMutationEvery: 1 }).suggest(plane, hp, n), plain.suggest(plane, hp, n));
  });

  test('failed configurations penalised: suggestions avoid the region that failed', () => {
    const h = run(new TpeSampler(9), line, () => 0.5, 12);
    const fails: TrialView[] = Array.from({ length: 12 }, (_, i) => ({ number: 12 + i, state: 'FAIL', params: { x: 0.4 + i / 60 } }));
    const ignore = new TpeSampler(9);
    const penalise = new TpeSampler(9, { failedTrials: 'penalise' });
    assert.deepEqual(ignore.suggest(line, [...h, ...fails], 40), ignore.suggest(line, h, 40), 'ignored: as if they never ran');
    const inside = (s: TpeSampler): number => {
      let k = 0;
      for (let n = 40; n < 100; n++) {
        const x = s.suggest(line, [...h, ...fails], n)!.x as number;
        if (x >= 0.4 && x <= 0.6) k++;
      }
      return k;
    };
    assert.ok(inside(penalise) < inside(ignore) / 2, `in the failed region: ${inside(penalise)} penalised, ${inside(ignore)} ignored`);
  });
});

describe('duplicate rejection', () => {
  test('a discrete space is covered without repeats, then reported exhausted', () => {
    const size = tiny.params.reduce((n, [, d]) => n * cardinality(d), 1);
    const s = new TpeSampler(10, { rejectDuplicates: true });
    assert.equal(s.capacity(tiny), size);
    const h = run(s, tiny, (p) => (p.a as number) + (p.b === 'q' ? 1 : 0), size);
    assert.equal(new Set(h.map((t) => paramsKey(t.params))).size, size);
    assert.equal(s.suggest(tiny, h, size), null);
    assert.deepEqual(s.suggestBatch(tiny, h.slice(0, size - 2), size - 2, 5).length, 2, 'a batch stops where the space ends');
    // Without the option TPE repeats itself in so small a space.
    const plain = run(new TpeSampler(10), tiny, (p) => (p.a as number) + (p.b === 'q' ? 1 : 0), size);
    assert.ok(new Set(plain.map((t) => paramsKey(t.params))).size < size);
    assert.equal(new TpeSampler(10).capacity(tiny), Number.POSITIVE_INFINITY);
  });

  test('the paper grid: 60 trials, 60 distinct configurations; continuous spaces are unaffected', () => {
    const space = BUILTIN_SPACES['sctl-paper']!;
    const h = run(new TpeSampler(3, { rejectDuplicates: true }), space, (p) => (p.l1 === 0.5 ? 1 : 0) + (p.depth as number) / 10, 60);
    assert.equal(new Set(h.map((t) => paramsKey(t.params))).size, 60);
    const continuous = run(new TpeSampler(3), plane, quadratic, 20);
    assert.deepEqual(new TpeSampler(3, { rejectDuplicates: true }).suggest(plane, continuous, 20), new TpeSampler(3).suggest(plane, continuous, 20));
  });
});

describe('enumeration (enumerateUpTo)', () => {
  const grid = BUILTIN_SPACES['sctl-paper']!;
  const aucLike = (p: Params): number => -Math.abs((p.l1 as number) - 0.1) + (p.l3 as number) / 15 - (p.depth as number) / 10 + (p.sampling === 'weighted' ? 0.05 : 0);

  test('after startup each suggestion is the acquisition\'s argmax over the unseen points: no draw can beat it', () => {
    const enumerating = new TpeSampler(5, { enumerateUpTo: 1000 });
    const h = run(enumerating, grid, aucLike, 15);
    const pick = enumerating.suggest(grid, h, 15)!;
    const seen = new Set(h.map((t) => paramsKey(t.params)));
    assert.ok(!seen.has(paramsKey(pick)), 'never a configuration already tried');
    // The draws of the plain sampler (same history) are candidates the argmax ranks no higher: many seeds' picks, none preferred.
    const rank = (p: Params): number => enumerating.acquisition(grid, h, 15, [p])[0]!;
    for (let seed = 0; seed < 8; seed++) {
      const drawn = new TpeSampler(seed, { rejectDuplicates: true }).suggest(grid, h, 15)!;
      assert.ok(rank(drawn) <= rank(pick) + 1e-12, `seed ${seed}: drawn ${paramsKey(drawn)} scores ${rank(drawn)} > ${rank(pick)}`);
    }
  });

  test('covers the space without repeats, then reports it exhausted; seeded', () => {
    const size = tiny.params.reduce((n, [, d]) => n * cardinality(d), 1);
    const s = new TpeSampler(2, { enumerateUpTo: size, nStartupTrials: 2 });
    assert.equal(s.capacity(tiny), size);
    const h = run(s, tiny, (p) => (p.a as number) + (p.b === 'q' ? 1 : 0), size);
    assert.equal(new Set(h.map((t) => paramsKey(t.params))).size, size);
    assert.equal(s.suggest(tiny, h, size), null);
    assert.deepEqual(run(new TpeSampler(2, { enumerateUpTo: size, nStartupTrials: 2 }), tiny, (p) => (p.a as number) + (p.b === 'q' ? 1 : 0), size), h);
  });

  test('a space larger than the limit, or not discrete, is sampled as without the option', () => {
    const h = run(new TpeSampler(3), grid, aucLike, 20);
    assert.deepEqual(new TpeSampler(3, { enumerateUpTo: 719 }).suggest(grid, h, 20), new TpeSampler(3).suggest(grid, h, 20));
    assert.equal(new TpeSampler(3, { enumerateUpTo: 719 }).capacity(grid), Number.POSITIVE_INFINITY);
    const continuous = run(new TpeSampler(3), plane, quadratic, 20);
    assert.deepEqual(new TpeSampler(3, { enumerateUpTo: 1000 }).suggest(plane, continuous, 20), new TpeSampler(3).suggest(plane, continuous, 20));
  });
});

describe('bad input', () => {
  const good = (): TrialView[] => run(new TpeSampler(1), mixed, (p) => p.x as number, 12);
  const cases: Array<[string, (h: TrialView[]) => void, RegExp]> = [
    ['a value outside its range', (h) => (h[3] = { ...h[3]!, params: { ...h[3]!.params, x: 7 } }), /trial 3: expected a number in \[-2, 2\], but got 7/],
    ['an unknown choice', (h) => (h[4] = { ...h[4]!, params: { ...h[4]!.params, sampling: 'smot' } }), /trial 4: expected one of \["none","weighted","smote"\], but got "smot"/],
    ['an int off its step', (h) => (h[5] = { ...h[5]!, params: { ...h[5]!.params, depth: 3 } }), /trial 5: expected an integer in \[2, 6\] on steps of 2, but got 3/],
    ['a NaN value', (h) => (h[5] = { ...h[5]!, params: { ...h[5]!.params, x: Number.NaN } }), /trial 5: expected a number in \[-2, 2\], but got NaN/],
    ['a missing parameter', (h) => (h[6] = { ...h[6]!, params: { ...h[6]!.params, lr: undefined as unknown as number } }), /trial 6 has no value for parameter 'lr'/],
    ['a parameter not in the space', (h) => (h[7] = { ...h[7]!, params: { ...h[7]!.params, momentum: 0.9 } }), /trial 7 has parameter 'momentum', which is not in the search space/],
    ['a non-finite objective', (h) => (h[8] = { ...h[8]!, value: Number.POSITIVE_INFINITY }), /trial 8 is COMPLETE: expected a finite value, but got Infinity/],
    ['a COMPLETE trial without a value', (h) => (h[8] = { ...h[8]!, value: undefined }), /trial 8 is COMPLETE: expected a finite value, but got nothing/],
    ['a NaN intermediate value', (h) => (h[9] = { ...h[9]!, state: 'PRUNED', intermediate: [0.5, Number.NaN] }), /trial 9: expected finite intermediate values, but got NaN at step 1/],
    ['a repeated trial number', (h) => (h[9] = { ...h[9]!, number: 2 }), /trial number 2 appears twice/],
  ];
  for (const [what, spoil, message] of cases) {
    test(`${what}: a ConfigError naming the trial, and nothing changed`, () => {
      const s = new TpeSampler(6);
      const h = good();
      spoil(h);
      assert.throws(() => s.suggest(mixed, h, 12), (err: unknown) => err instanceof ConfigError && message.test(err.message));
      // During startup too: the history is checked before anything is drawn.
      assert.throws(() => s.suggest(mixed, h.slice(0, 10), 12), ConfigError);
      assert.deepEqual(s.suggest(mixed, good(), 12), new TpeSampler(6).suggest(mixed, good(), 12));
    });
  }

  test('a bad trial number or batch size', () => {
    const s = new TpeSampler(0);
    assert.throws(() => s.suggest(line, [], -1), /expected a trial number >= 0, but got -1/);
    assert.throws(() => s.suggest(line, [], 1.5), ConfigError);
    assert.throws(() => s.suggestBatch(line, [], 0, -2), /expected a batch size >= 0, but got -2/);
  });
});

describe('options', () => {
  test('defaults are Optuna v5 TPESampler defaults; the extras are off', () => {
    assert.deepEqual(compileTpeOptions({}), DEFAULT_TPE_OPTIONS);
    assert.deepEqual(DEFAULT_TPE_OPTIONS, {
      nStartupTrials: 10,
      nEiCandidates: 24,
      multivariate: true,
      constantLiar: true,
      startupCountsRunning: false,
      startupDesign: 'random',
      rejectDuplicates: false,
      failedTrials: 'ignore',
      optuna31Every: 0,
      categoricalMutationEvery: 0,
      enumerateUpTo: 0,
    });
  });

  test('unknown or ill-typed options fail naming the field', () => {
    assert.deepEqual(compileTpeOptions({ n_startup_trials: 5, startup_design: 'latin-hypercube' }), { ...DEFAULT_TPE_OPTIONS, nStartupTrials: 5, startupDesign: 'latin-hypercube' });
    assert.throws(() => compileTpeOptions({ n_startup: 5 }), /field 'tpe.n_startup': unknown TPE option 'n_startup' \(allowed: preset, n_startup_trials/);
    assert.throws(() => compileTpeOptions({ nStartupTrials: 5 }), /unknown TPE option 'nStartupTrials'/);
    assert.throws(() => compileTpeOptions({ n_ei_candidates: 0 }), /field 'tpe.n_ei_candidates': expected an integer >= 1, but got 0/);
    assert.throws(() => compileTpeOptions({ multivariate: 'yes' }), /field 'tpe.multivariate': expected true or false, but got "yes"/);
    assert.throws(() => compileTpeOptions({ startup_design: 'sobol' }), /expected one of random, latin-hypercube, but got "sobol"/);
    assert.throws(() => compileTpeOptions([1]), /expected a mapping of TPE options/);
    assert.deepEqual(compileTpeOptions({ optuna31_every: 4 }), { ...DEFAULT_TPE_OPTIONS, optuna31Every: 4 });
    assert.throws(() => compileTpeOptions({ optuna31_every: 2.5 }), /field 'tpe.optuna31_every': expected an integer >= 0, but got 2\.5/);
    assert.deepEqual(compileTpeOptions({ categorical_mutation_every: 4 }), { ...DEFAULT_TPE_OPTIONS, categoricalMutationEvery: 4 });
    assert.throws(() => compileTpeOptions({ categorical_mutation_every: -1 }), /field 'tpe.categorical_mutation_every': expected an integer >= 0, but got -1/);
    assert.deepEqual(compileTpeOptions({ enumerate_up_to: 720 }), { ...DEFAULT_TPE_OPTIONS, enumerateUpTo: 720 });
    assert.throws(() => compileTpeOptions({ enumerate_up_to: 1e9 }), /field 'tpe.enumerate_up_to': expected an integer in \[0, 131072\], but got 1000000000/);
    assert.throws(() => new TpeSampler(0, { failedTrials: 'forget' as 'ignore' }), ConfigError);
  });

  test('presets: the settings docs/tpe.md recommends, merged in order, overridden by options named beside them', () => {
    assert.deepEqual(compileTpeOptions({ preset: 'optuna' }), DEFAULT_TPE_OPTIONS);
    assert.deepEqual(compileTpeOptions({ preset: 'small-grid' }), { ...DEFAULT_TPE_OPTIONS, enumerateUpTo: 10_000, optuna31Every: 1, nStartupTrials: 5, startupDesign: 'latin-hypercube' });
    assert.deepEqual(compileTpeOptions({ preset: 'mixed-space' }), { ...DEFAULT_TPE_OPTIONS, categoricalMutationEvery: 4 });
    assert.deepEqual(compileTpeOptions({ preset: ['parallel-pool', 'small-grid'] }), {
      ...DEFAULT_TPE_OPTIONS,
      startupCountsRunning: true,
      startupDesign: 'latin-hypercube',
      rejectDuplicates: true,
      failedTrials: 'penalise',
      enumerateUpTo: 10_000,
      optuna31Every: 1,
      nStartupTrials: 5,
    });
    // Named options win over the preset, whichever order the file gives them in.
    assert.deepEqual(compileTpeOptions({ n_startup_trials: 8, preset: 'small-grid' }).nStartupTrials, 8);
    assert.deepEqual(compileTpeOptions({ preset: 'small-grid', enumerate_up_to: 0 }).enumerateUpTo, 0);
    assert.throws(() => compileTpeOptions({ preset: 'grid' }, 'studies[0].sampler_options'), /field 'studies\[0\].sampler_options.preset': expected a TPE preset \(optuna, parallel-pool, mixed-space, small-grid\) or a list of them, but got "grid"/);
    assert.throws(() => compileTpeOptions({ preset: ['small-grid', 3] }), /field 'tpe.preset': expected a TPE preset .* but got 3/);
    assert.throws(() => compileTpeOptions({ preset: 'toString' }), /field 'tpe.preset': expected a TPE preset/);
    assert.throws(() => compileTpeOptions({ preset: [] }), /field 'tpe.preset': expected a TPE preset .* but got an empty list/);
    // In a list, optuna resets what the presets before it set.
    assert.deepEqual(compileTpeOptions({ preset: ['small-grid', 'optuna'] }), DEFAULT_TPE_OPTIONS);
    assert.throws(() => compileTpeOptions({ preset: 'small-grid', n_startup_trials: -1 }), /field 'tpe.n_startup_trials': expected an integer >= 0, but got -1/);
  });

  test('the registry: tpe by name, with its options checked under the caller\'s field', () => {
    assert.ok((SAMPLER_NAMES as readonly string[]).includes('tpe'));
    const s = createSampler('tpe', 4, { multivariate: false });
    assert.ok(s instanceof TpeSampler && s.options.multivariate === false);
    assert.deepEqual(s.suggest(plane, [], 0), new TpeSampler(4).suggest(plane, [], 0));
    assert.throws(() => createSampler('tpe', 4, { gamma: 3 }, 'studies[0].tpe'), /field 'studies\[0\].tpe.gamma': unknown TPE option/);
    assert.throws(() => createSampler('random', 4, { multivariate: true }), /the random sampler takes no options/);
    assert.equal(createSampler('grid', 1, {}).name, 'grid');
  });
});
