import type { Params } from '../../../core/params.js';
import type { SearchSpace } from '../../space/search-space.js';
import { argsortStable } from './parzen-estimator.js';
import { float64Array, int32Array } from './typed-arrays.js';

/** More new rows than this since the last suggestion: sort them all again rather than insert each. */
const INSERT_LIMIT = 64;

/** A numerical parameter's observations in internal space (log for log-scaled), and their stable argsort. */
export interface Presorted {
  readonly mu: Float64Array;
  readonly order: Int32Array;
}

/**
 * What a TpeSampler keeps from one suggestion to the next, so that a sweep's
 * history, asked again with a trial or two more, is not checked, encoded and
 * sorted again whole: at a thousand trials that was over a third of a
 * suggestion.
 *
 * Row i of the history is reused when `history[i].params` is the same frozen
 * object as at the last suggestion, for the same space: a frozen object's
 * values cannot have changed since they were checked (the sweep's state
 * freezes a trial's params when the trial is asked). Any other row is
 * checked and encoded again. For each numerical parameter the cache also
 * keeps every row's value in internal space and the rows' stable order by
 * it, extended by insertion as rows are appended. A suggestion is the same
 * with or without the cache (tests/coordinator/tpe/history-cache.test.ts);
 * only its cost differs.
 *
 * encodeHistory drives it: `columns` before the pass, `reuse(i)` per trial,
 * `encoded(i)` after a trial's parameters are checked, `sort(n)` at the end.
 * A pass that throws leaves every entry either reusable and right, or not
 * reusable.
 */
export class HistoryCache {
  private space: SearchSpace | undefined;
  private capacity = 0;
  /** The frozen params object each row was encoded from; undefined: not reusable. */
  private from: Array<Params | undefined> = [];
  private external: Float64Array[] = [];
  /** Per parameter: internal-space values for numerical parameters, undefined for categorical ones. */
  private internal: Array<Float64Array | undefined> = [];
  /** Per parameter: whether its internal space is log-scaled. */
  private logScaled: boolean[] = [];
  private sorted: Array<Int32Array | undefined> = [];
  /** Rows [0, sortedCount) are in `sorted`, by their internal values as they are now unless `resort`. */
  private sortedCount = 0;
  private resort = false;

  /** The encoded columns (external values; a categorical's choice index) for a history of n trials, to be filled. */
  columns(space: SearchSpace, n: number): Float64Array[] {
    if (space !== this.space) this.reset(space);
    if (n > this.capacity) this.grow(Math.max(n, 2 * this.capacity, 64));
    return this.external.map((column) => column.subarray(0, n));
  }

  /** Whether row i can be reused for `params`; when it cannot, it is forgotten until `encoded(i, ...)`. */
  reuse(i: number, params: Params): boolean {
    if (this.from[i] === params) return true;
    this.from[i] = undefined;
    return false;
  }

  /** Row i was checked and written to the columns: its internal values follow, and it is kept if its params are frozen. */
  encoded(i: number, params: Params): void {
    for (let d = 0; d < this.internal.length; d++) {
      const internal = this.internal[d];
      if (internal === undefined) continue;
      const x = this.external[d]![i]!;
      const value = this.logScaled[d] ? Math.log(x) : x;
      if (i < this.sortedCount && internal[i] !== value) this.resort = true;
      internal[i] = value;
    }
    this.from[i] = Object.isFrozen(params) ? params : undefined;
  }

  /** Brings the sorted orders to rows [0, n), after every row has been encoded or reused. */
  sort(n: number): void {
    const { internal, sorted } = this;
    const rebuild = this.resort || n < this.sortedCount || n - this.sortedCount > INSERT_LIMIT;
    for (let d = 0; d < internal.length; d++) {
      const values = internal[d];
      if (values === undefined) continue;
      const order = sorted[d]!;
      if (rebuild) order.set(argsortStable(values.subarray(0, n)));
      else for (let row = this.sortedCount; row < n; row++) insertRow(order, row, values);
    }
    this.sortedCount = n;
    this.resort = false;
  }

  /**
   * For the good and the bad group (rows increasing, below n, no row in
   * both), each numerical parameter's observations in internal space and in
   * stable sorted order: the group's own order, picked out of the whole
   * history's. Undefined for categorical parameters.
   */
  presorted(below: Int32Array, above: Int32Array, n: number): [Array<Presorted | undefined>, Array<Presorted | undefined>] {
    // A row's group and index there: k + 1 for the good group's k-th, -(k + 1) for the bad group's, 0 for neither.
    const slot = int32Array(n);
    for (let k = 0; k < below.length; k++) slot[below[k]!] = k + 1;
    for (let k = 0; k < above.length; k++) slot[above[k]!] = -(k + 1);
    const good: Array<Presorted | undefined> = [];
    const bad: Array<Presorted | undefined> = [];
    this.internal.forEach((values, d) => {
      if (values === undefined) return void good.push(undefined), void bad.push(undefined);
      const all = this.sorted[d]!;
      const orderBelow = int32Array(below.length);
      const orderAbove = int32Array(above.length);
      let [b, a] = [0, 0];
      for (let s = 0; s < n; s++) {
        const v = slot[all[s]!]!;
        if (v > 0) orderBelow[b++] = v - 1;
        else if (v < 0) orderAbove[a++] = -v - 1;
      }
      good.push({ mu: gather(values, below), order: orderBelow });
      bad.push({ mu: gather(values, above), order: orderAbove });
    });
    return [good, bad];
  }

  private reset(space: SearchSpace): void {
    this.space = space;
    this.capacity = 0;
    this.from = [];
    this.external = space.params.map(() => new Float64Array(0));
    this.internal = space.params.map(([, def]) => (def.type === 'categorical' ? undefined : new Float64Array(0)));
    this.logScaled = space.params.map(([, def]) => def.type !== 'categorical' && def.log);
    this.sorted = space.params.map(([, def]) => (def.type === 'categorical' ? undefined : new Int32Array(0)));
    this.sortedCount = 0;
    this.resort = false;
  }

  private grow(capacity: number): void {
    const widen = <T extends Float64Array | Int32Array>(a: T, make: (n: number) => T): T => {
      const b = make(capacity);
      b.set(a);
      return b;
    };
    this.external = this.external.map((a) => widen(a, (n) => new Float64Array(n)));
    this.internal = this.internal.map((a) => a && widen(a, (n) => new Float64Array(n)));
    this.sorted = this.sorted.map((a) => a && widen(a, (n) => new Int32Array(n)));
    this.capacity = capacity;
  }
}

/** Inserts `row` (larger than every row in order[0 .. row)) after the rows with values <= its own: stable. */
function insertRow(order: Int32Array, row: number, values: Float64Array): void {
  const v = values[row]!;
  let lo = 0;
  let hi = row;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[order[mid]!]! <= v) lo = mid + 1;
    else hi = mid;
  }
  order.copyWithin(lo + 1, lo, row);
  order[lo] = row;
}

function gather(values: Float64Array, rows: Int32Array): Float64Array {
  const out = float64Array(rows.length);
  for (let k = 0; k < rows.length; k++) out[k] = values[rows[k]!]!;
  return out;
}
