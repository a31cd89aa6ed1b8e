import { ConfigError, expected } from '../../../core/errors.js';
import { paramsKey, type ParamValue, type Params } from '../../../core/params.js';
import { Rng } from '../../../core/rng.js';
import { cardinality, type ParamDef, type SearchSpace } from '../../space/search-space.js';
import { gridPoints } from '../grid.js';
import { sampleParam } from '../random.js';
import type { Sampler, TrialView } from '../sampler.js';
import { decodeParams, encodeHistory, encodeParams } from './encoding.js';
import { HistoryCache, type Presorted } from './history-cache.js';
import { fromUnit, latinHypercube } from './latin-hypercube.js';
import { logPdfMixture, sampleMixture, type Mixture } from './mixture.js';
import { buildParzenEstimator, defaultWeights, PRIOR_WEIGHT, type DensityRules } from './parzen-estimator.js';
import { checkTpeOptions, ENUMERATE_MAX, type TpeOptions } from './options.js';
import { gamma, splitRows } from './split.js';
import { float64Array, int32Array, release, scratchMark } from './typed-arrays.js';

/** Extra candidate rounds before enumerating, when every candidate was a duplicate. */
const DEDUP_ROUNDS = 4;
/** Random redraws of a duplicate startup point before enumerating. */
const STARTUP_RETRIES = 64;
const SCORE_CHUNK = 1024;

/**
 * Tree-structured Parzen Estimator with Optuna v5's semantics (docs/tpe.md):
 * random startup, then a good/bad split of the history, a Parzen estimator
 * for each group, candidates drawn from the good one, and the candidate with
 * the largest log l(x) - log g(x) suggested.
 *
 * A pure function of (seed, space, history, trial number), like the other
 * samplers: every suggestion draws from its own stream `tpe:<seed>:<trial>`,
 * so a resumed sweep asks what the killed one would have. What is kept
 * between calls (the encoded history, history-cache.ts) only spares work:
 * the suggestion is the same without it, and a bad history leaves nothing
 * behind that a later suggestion could use.
 */
export class TpeSampler implements Sampler {
  readonly name = 'tpe';
  readonly options: Readonly<TpeOptions>;
  private readonly cache = new HistoryCache();

  /** `options`: any of TpeOptions (defaults: Optuna's); checked here, a ConfigError names the bad one. */
  constructor(
    private readonly seed: number,
    options: Partial<TpeOptions> = {},
  ) {
    this.options = checkTpeOptions(options);
  }

  suggest(space: SearchSpace, history: readonly TrialView[], trialNumber: number): Params | null {
    // Every typed array of a suggestion dies with it (the result is a plain
    // object): the next suggestion reuses their memory (typed-arrays.ts).
    const mark = scratchMark();
    try {
      return this.suggestOnce(space, history, trialNumber);
    } finally {
      release(mark);
    }
  }

  private suggestOnce(space: SearchSpace, history: readonly TrialView[], trialNumber: number): Params | null {
    if (!Number.isInteger(trialNumber) || trialNumber < 0) throw new ConfigError(expected('a trial number >= 0', trialNumber), { field: 'trialNumber' });
    // Validates everything before anything is computed; the encoding is reused below.
    const encoded = encodeHistory(space, history, this.cache);
    // As Optuna: the trial being asked for is not part of its own history.
    const seen = this.rejectsDuplicates(space) ? seenConfigurations(history, trialNumber) : undefined;
    const rng = new Rng(`tpe:${this.seed}:${trialNumber}`);
    if (this.startupCount(history, trialNumber) < this.options.nStartupTrials) return this.startup(space, trialNumber, rng, seen);
    return this.sampleTpe(space, history, encoded, trialNumber, rng, seen);
  }

  /** k suggestions for trials first .. first + k - 1, each seeing the ones before it as RUNNING. */
  suggestBatch(space: SearchSpace, history: readonly TrialView[], firstTrialNumber: number, k: number): Params[] {
    if (!Number.isInteger(k) || k < 0) throw new ConfigError(expected('a batch size >= 0', k), { field: 'k' });
    const grown = [...history];
    const out: Params[] = [];
    for (let i = 0; i < k; i++) {
      const number = firstTrialNumber + i;
      const params = this.suggest(space, grown, number);
      if (params === null) break;
      out.push(params);
      // Frozen, as the sweep's state holds a trial's params: the cache reuses its row.
      grown.push({ number, state: 'RUNNING', params: Object.freeze({ ...params }) });
    }
    return out;
  }

  capacity(space: SearchSpace): number {
    return this.rejectsDuplicates(space) ? spaceSize(space) : Number.POSITIVE_INFINITY;
  }

  /** Whether every suggestion is scored over the whole (small, discrete) space: enumerateUpTo. */
  private enumerates(space: SearchSpace): boolean {
    return isDiscrete(space) && spaceSize(space) <= this.options.enumerateUpTo;
  }

  /** Whether a configuration already in the history is never suggested again: rejectDuplicates, or implied by enumeration. */
  private rejectsDuplicates(space: SearchSpace): boolean {
    return isDiscrete(space) && (this.options.rejectDuplicates || this.enumerates(space));
  }

  /** Trials other than `trialNumber` that count toward the startup phase. */
  private startupCount(trials: readonly TrialView[], trialNumber: number): number {
    let n = 0;
    for (const t of trials) {
      if (t.number === trialNumber) continue;
      if (t.state === 'COMPLETE' || t.state === 'PRUNED') n++;
      else if (t.state === 'FAIL' && this.options.failedTrials === 'penalise') n++;
      else if (t.state === 'RUNNING' && this.options.startupCountsRunning) n++;
    }
    return n;
  }

  private startup(space: SearchSpace, trialNumber: number, rng: Rng, seen: Set<string> | undefined): Params | null {
    const first =
      this.options.startupDesign === 'latin-hypercube' && trialNumber < this.options.nStartupTrials
        ? this.designPoint(space, trialNumber)
        : randomPoint(space, rng.derive('startup'));
    if (seen === undefined || !seen.has(paramsKey(first))) return first;
    for (let i = 0; i < STARTUP_RETRIES; i++) {
      const p = randomPoint(space, rng.derive(`startup:retry:${i}`));
      if (!seen.has(paramsKey(p))) return p;
    }
    const unseen = unseenPoints(space, seen);
    if (unseen === undefined) return null;
    return unseen.length === 0 ? null : rng.derive('startup:unseen').pick(unseen);
  }

  /** Point `i` of the study's one Latin hypercube (a function of the seed alone, so every trial sees the same design). */
  private designPoint(space: SearchSpace, i: number): Params {
    const design = latinHypercube(this.options.nStartupTrials, space.params.length, new Rng(`tpe:${this.seed}:latin-hypercube`));
    const u = design[i]!;
    const out: Record<string, ParamValue> = {};
    space.params.forEach(([name, def], d) => (out[name] = fromUnit(def, u[d]!)));
    return out;
  }

  /**
   * The rows of `history` the estimators are built from, and how many of them
   * are finished (gamma counts those; running ones only weigh down the bad
   * group).
   */
  private usedRows(history: readonly TrialView[], trialNumber: number): { rows: Int32Array; finished: number } {
    const { constantLiar, failedTrials } = this.options;
    const rows = int32Array(history.length);
    let [n, finished] = [0, 0];
    for (let i = 0; i < history.length; i++) {
      const t = history[i]!;
      if (t.number === trialNumber) continue;
      const done = t.state === 'COMPLETE' || t.state === 'PRUNED' || (t.state === 'FAIL' && failedTrials === 'penalise');
      if (done) finished++;
      if (done || (t.state === 'RUNNING' && constantLiar)) rows[n++] = i;
    }
    return { rows: rows.subarray(0, n), finished };
  }

  /** The two densities trial `trialNumber`'s suggestion is made from. */
  private model(space: SearchSpace, history: readonly TrialView[], encoded: readonly Float64Array[], trialNumber: number): Acquisition {
    const { rows, finished } = this.usedRows(history, trialNumber);
    const { below, above } = splitRows(history, rows, gamma(finished));
    const every = this.options.optuna31Every;
    const rules: DensityRules = every > 0 && (trialNumber + 1) % every === 0 ? 'optuna-3.1' : 'v5';
    return new Acquisition(space, encoded, below, above, this.options.multivariate, rules, this.cache);
  }

  /**
   * The acquisition log l(x) - log g(x) of `points` as the suggestion for
   * `trialNumber` would score them, past startup: what TPE prefers, and by
   * how much (a suggestion is the best-scoring candidate or, with
   * enumerateUpTo, the best-scoring unseen point).
   */
  acquisition(space: SearchSpace, history: readonly TrialView[], trialNumber: number, points: readonly Params[]): number[] {
    const mark = scratchMark();
    try {
      const encoded = encodeHistory(space, history, this.cache);
      const model = this.model(space, history, encoded, trialNumber);
      return [...model.score(points.map((p) => encodeParams(space, p)))];
    } finally {
      release(mark);
    }
  }

  private sampleTpe(
    space: SearchSpace,
    history: readonly TrialView[],
    encoded: readonly Float64Array[],
    trialNumber: number,
    rng: Rng,
    seen: Set<string> | undefined,
  ): Params | null {
    const model = this.model(space, history, encoded, trialNumber);

    // Enumeration: the exact argmax over the unseen points, where the draws below only approximate it.
    const all = this.enumerates(space) ? unseenPoints(space, seen!) : undefined;
    if (all !== undefined && all.length === 0) return null;
    const candidates = all === undefined ? model.candidates(rng.derive('candidates'), this.options.nEiCandidates) : [];
    const best = all === undefined ? decodeParams(space, candidates[0]!.x) : bestPoint(space, model, all);
    const mutateEvery = this.options.categoricalMutationEvery;
    if (mutateEvery > 0 && (trialNumber + 1) % mutateEvery === 0) {
      const mutated = mutateCategoricals(space, best, rng.derive('categorical-mutation'));
      // Without categoricals, or onto a seen point, it is an ordinary suggestion.
      if (mutated !== undefined && (seen === undefined || !seen.has(paramsKey(mutated)))) return mutated;
    }
    if (all !== undefined || seen === undefined || !seen.has(paramsKey(best))) return best;

    // Exact-duplicate rejection: the best unseen candidate, then fresh rounds, then the best unseen point of the space.
    for (let round = 0; round <= DEDUP_ROUNDS; round++) {
      const pool = round === 0 ? candidates : model.candidates(rng.derive(`dedup:${round}`), this.options.nEiCandidates);
      for (const c of pool) {
        const p = decodeParams(space, c.x);
        if (!seen.has(paramsKey(p))) return p;
      }
    }
    const unseen = unseenPoints(space, seen);
    if (unseen === undefined) {
      for (let i = 0; i < STARTUP_RETRIES * 16; i++) {
        const p = randomPoint(space, rng.derive(`unseen:${i}`));
        if (!seen.has(paramsKey(p))) return p;
      }
      return null;
    }
    return unseen.length === 0 ? null : bestPoint(space, model, unseen);
  }
}

/** The point of `points` (not empty) with the largest acquisition; ties: the first. */
function bestPoint(space: SearchSpace, model: Acquisition, points: readonly Params[]): Params {
  const scores = model.score(points.map((p) => encodeParams(space, p)));
  let arg = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[arg]!) arg = i;
  return points[arg]!;
}

/** `params` with every categorical value drawn uniformly from its choices; undefined when the space has none. */
function mutateCategoricals(space: SearchSpace, params: Params, rng: Rng): Params | undefined {
  const categoricals = space.params.filter(([, def]) => def.type === 'categorical');
  if (categoricals.length === 0) return undefined;
  const out: Record<string, ParamValue> = { ...params };
  for (const [name, def] of categoricals) {
    if (def.type === 'categorical') out[name] = def.choices[rng.int(0, def.choices.length - 1)]!;
  }
  return out;
}

interface Candidate {
  /** Encoded configuration, one number per parameter. */
  readonly x: Float64Array;
  readonly score: number;
}

/**
 * The two densities of one suggestion and the acquisition log l(x) - log g(x).
 * Multivariate: one group holding every parameter (a product kernel per
 * trial). Univariate: one group per parameter, each drawn and maximised on
 * its own, as Optuna's independent sampling.
 */
class Acquisition {
  private readonly groups: ReadonlyArray<{ dims: number[]; good: Mixture; bad: Mixture; label: string }>;

  /** `cache`: the one that encoded `encoded`, whose sorted orders spare sorting each group's observations. */
  constructor(
    space: SearchSpace,
    encoded: readonly Float64Array[],
    below: Int32Array,
    above: Int32Array,
    multivariate: boolean,
    rules: DensityRules = 'v5',
    cache?: HistoryCache,
  ) {
    const defs = space.params.map(([, def]) => def);
    const n = encoded[0]?.length ?? 0;
    // The cache's orders are by row: they serve groups whose rows increase (a history in trial order).
    const [sortedBelow, sortedAbove] =
      cache !== undefined && isIncreasing(below) && isIncreasing(above) ? cache.presorted(below, above, n) : [undefined, undefined];
    // Each group's observations, gathered from the encoded history by row; a presorted parameter's come gathered already.
    const gather = (rows: Int32Array, sorted: Array<Presorted | undefined> | undefined): Float64Array[] =>
      encoded.map((column, d) => {
        const known = sorted?.[d];
        if (known !== undefined) return known.mu;
        const out = float64Array(rows.length);
        for (let i = 0; i < rows.length; i++) out[i] = column[rows[i]!]!;
        return out;
      });
    const colsBelow = gather(below, sortedBelow);
    const colsAbove = gather(above, sortedAbove);
    const wBelow = defaultWeights(below.length);
    const wAbove = defaultWeights(above.length);
    const build = (dims: number[], cols: Float64Array[], w: Float64Array, sorted: Array<Presorted | undefined> | undefined): Mixture =>
      buildParzenEstimator(
        dims.map((d) => defs[d] as ParamDef),
        dims.map((d) => cols[d]!),
        w,
        PRIOR_WEIGHT,
        sorted && dims.map((d) => sorted[d]),
        { rules, joint: multivariate },
      );
    const groupDims = multivariate ? [defs.map((_, d) => d)] : defs.map((_, d) => [d]);
    this.groups = groupDims.map((dims) => ({
      dims,
      good: build(dims, colsBelow, wBelow, sortedBelow),
      bad: build(dims, colsAbove, wAbove, sortedAbove),
      label: dims.map((d) => space.params[d]![0]).join(','),
    }));
  }

  /**
   * n candidates drawn from l(x), best first (ties: the earlier draw, as
   * numpy's argmax). Univariate: candidate i joins each parameter's i-th
   * draw, except that the first is every parameter's own argmax (Optuna's
   * suggestion); the rest are ordered by their summed ratio.
   */
  candidates(rng: Rng, n: number): Candidate[] {
    const d = this.groups.reduce((k, g) => k + g.dims.length, 0);
    const xs = Array.from({ length: n }, () => new Float64Array(d));
    const total = float64Array(n);
    const argmaxes: Array<{ dims: number[]; column: Float64Array[]; at: number }> = [];
    for (const g of this.groups) {
      const columns = sampleMixture(g.good, this.groups.length === 1 ? rng : rng.derive(g.label), n);
      const ratio = this.ratio(g, columns);
      let at = 0;
      for (let i = 0; i < n; i++) {
        total[i] += ratio[i]!;
        if (ratio[i]! > ratio[at]!) at = i;
        g.dims.forEach((dim, j) => (xs[i]![dim] = columns[j]![i]!));
      }
      argmaxes.push({ dims: g.dims, column: columns, at });
    }
    const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => total[j]! - total[i]! || i - j);
    const out = order.map((i) => ({ x: xs[i]!, score: total[i]! }));
    if (this.groups.length > 1) {
      const best = new Float64Array(d);
      for (const a of argmaxes) a.dims.forEach((dim, j) => (best[dim] = a.column[j]![a.at]!));
      out.unshift({ x: best, score: this.score([best])[0]! });
    }
    return out;
  }

  /** The acquisition at given encoded points (summed over groups), in chunks to bound memory. */
  score(points: readonly Float64Array[]): Float64Array {
    const out = new Float64Array(points.length);
    for (let start = 0; start < points.length; start += SCORE_CHUNK) {
      const chunk = points.slice(start, start + SCORE_CHUNK);
      for (const g of this.groups) {
        const columns = g.dims.map((dim) => Float64Array.from(chunk, (p) => p[dim]!));
        const ratio = this.ratio(g, columns);
        for (let i = 0; i < chunk.length; i++) out[start + i] += ratio[i]!;
      }
    }
    return out;
  }

  private ratio(g: { good: Mixture; bad: Mixture }, columns: readonly Float64Array[]): Float64Array {
    const l = logPdfMixture(g.good, columns);
    const b = logPdfMixture(g.bad, columns);
    for (let i = 0; i < l.length; i++) l[i] = l[i]! - b[i]!;
    return l;
  }
}

function isIncreasing(rows: Int32Array): boolean {
  for (let i = 1; i < rows.length; i++) if (rows[i]! <= rows[i - 1]!) return false;
  return true;
}

/** How many configurations a space has (Infinity unless discrete). */
function spaceSize(space: SearchSpace): number {
  return space.params.reduce((n, [, def]) => n * cardinality(def), 1);
}

/** Only ints, stepped floats and categoricals: a space where exact repeats can happen. */
function isDiscrete(space: SearchSpace): boolean {
  return space.params.every(([, def]) => Number.isFinite(cardinality(def)));
}

/** The configurations of every trial but `trialNumber`, as paramsKey gives them. */
function seenConfigurations(history: readonly TrialView[], trialNumber: number): Set<string> {
  const seen = new Set<string>();
  for (const t of history) if (t.number !== trialNumber) seen.add(paramsKey(t.params));
  return seen;
}

function randomPoint(space: SearchSpace, rng: Rng): Params {
  const out: Record<string, ParamValue> = {};
  for (const [name, def] of space.params) out[name] = sampleParam(def, rng.derive(name));
  return out;
}

/** Every point of a discrete space not in `seen`, or undefined when the space is too large to list. */
function unseenPoints(space: SearchSpace, seen: Set<string>): Params[] | undefined {
  // The same bound as enumerateUpTo's: beyond it, scoring every point per suggestion costs too much.
  if (spaceSize(space) > ENUMERATE_MAX) return undefined;
  return gridPoints(space).filter((p) => !seen.has(paramsKey(p)));
}
