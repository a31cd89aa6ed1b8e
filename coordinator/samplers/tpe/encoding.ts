import { ConfigError, describe } from '../../../core/errors.js';
import type { ParamValue, Params } from '../../../core/params.js';
import { contains, type ParamDef, type SearchSpace } from '../../space/search-space.js';
import type { TrialView } from '../sampler.js';
import type { HistoryCache } from './history-cache.js';
import { float64Array, uint8Array } from './typed-arrays.js';

/*
 * Between configurations and the numbers the Parzen estimator works on: a
 * numeric parameter is its value, a categorical one the index of its choice.
 * And the check that a history is one the space could have produced, before
 * anything is computed from it.
 */

function encode(def: ParamDef, value: ParamValue): number {
  if (def.type === 'categorical') return def.choices.indexOf(value);
  return value as number;
}

function decode(def: ParamDef, x: number): ParamValue {
  if (def.type === 'categorical') return def.choices[x] as ParamValue;
  return x;
}

/** The configuration as one number per parameter, in the space's order. */
export function encodeParams(space: SearchSpace, params: Params): Float64Array {
  const out = new Float64Array(space.params.length);
  space.params.forEach(([name, def], d) => (out[d] = encode(def, params[name] as ParamValue)));
  return out;
}

export function decodeParams(space: SearchSpace, xs: ArrayLike<number>): Params {
  const out: Record<string, ParamValue> = {};
  space.params.forEach(([name, def], d) => (out[name] = decode(def, xs[d]!)));
  return out;
}

/**
 * Checks the history and encodes it, one column per parameter, one entry per
 * trial in `history`'s order. Throws a ConfigError naming the trial and the
 * field when a trial has a parameter the space does not have, lacks one, has
 * a value outside its distribution, repeats a trial number, or carries a
 * non-finite objective or intermediate value. It runs over every trial at
 * every suggestion, so it touches each value once and allocates only the
 * result. With a cache, a trial whose frozen params were checked at an
 * earlier suggestion is not checked or encoded again (history-cache.ts); the
 * columns are then the cache's, valid until the next call.
 */
export function encodeHistory(space: SearchSpace, history: readonly TrialView[], cache?: HistoryCache): Float64Array[] {
  const n = history.length;
  const nParams = space.params.length;
  const names = space.params.map(([name]) => name);
  const defs = space.params.map(([, def]) => def);
  const columns = cache === undefined ? defs.map(() => float64Array(n)) : cache.columns(space, n);
  const checks = defs.map(valueCheck);
  const dimOf = new Map(names.map((name, d) => [name, d]));
  // Trial numbers are 0, 1, 2, ... in a sweep: a bitmap finds repeats without hashing.
  const seen = uint8Array(4 * n + 64);
  const seenFar = new Set<number>();
  for (let i = 0; i < n; i++) {
    const t = history[i]!;
    if (!Number.isInteger(t.number) || t.number < 0) fail(t, 'number', `expected a trial number >= 0, but got ${describe(t.number)}`);
    const repeated = t.number < seen.length ? seen[t.number]++ > 0 : seenFar.has(t.number) || !seenFar.add(t.number);
    if (repeated) fail(t, 'number', `trial number ${t.number} appears twice in the history`);
    const params = t.params;
    if (cache === undefined || !cache.reuse(i, params)) encodeRow(t, i);
    checkOutcome(t);
  }
  cache?.sort(n);
  return columns;

  function encodeRow(t: TrialView, i: number): void {
    const params = t.params;
    // One pass over the trial's own keys: for-in reads values through V8's enum
    // cache, several times cheaper than a lookup by a computed name per parameter.
    // Keys usually come in the space's order (samplers build them so): comparing
    // with the expected name is a pointer comparison, the map a hash lookup.
    let count = 0;
    for (const key in params) {
      const d = names[count] === key ? count : dimOf.get(key);
      if (d === undefined) fail(t, `params.${key}`, `trial ${t.number} has parameter '${key}', which is not in the search space`);
      const value = params[key];
      if (value === undefined) fail(t, `params.${key}`, `trial ${t.number} has no value for parameter '${key}'`);
      const x = encodeChecked(checks[d]!, value);
      if (Number.isNaN(x)) fail(t, `params.${key}`, `trial ${t.number}: expected ${describeDef(defs[d]!)}, but got ${describe(value)}`);
      columns[d]![i] = x;
      count++;
    }
    if (count !== nParams) {
      const missing = names.find((name) => params[name] === undefined)!;
      fail(t, `params.${missing}`, `trial ${t.number} has no value for parameter '${missing}'`);
    }
    cache?.encoded(i, params);
  }
}

/** A COMPLETE trial's value and any intermediate values are finite. */
function checkOutcome(t: TrialView): void {
  if (t.state === 'COMPLETE' && !(typeof t.value === 'number' && Number.isFinite(t.value))) {
    fail(t, 'value', `trial ${t.number} is COMPLETE: expected a finite value, but got ${describe(t.value)}`);
  }
  const steps = t.intermediate;
  if (steps !== undefined) {
    for (let step = 0; step < steps.length; step++) {
      const v = steps[step];
      if (!(typeof v === 'number' && Number.isFinite(v))) {
        fail(t, `intermediate[${step}]`, `trial ${t.number}: expected finite intermediate values, but got ${describe(v)} at step ${step}`);
      }
    }
  }
}

/**
 * A parameter's definition as the check of one value needs it, in one record
 * shape for every kind (reading it is then monomorphic), with the common
 * cases spelled out: a continuous float needs only its range, an int on unit
 * steps only integrality and its range, a categorical a scan of a few choices.
 */
interface ValueCheck {
  readonly kind: 'range' | 'integer' | 'choice' | 'other';
  readonly def: ParamDef;
  readonly low: number;
  readonly high: number;
  readonly choices: readonly ParamValue[];
}

function valueCheck(def: ParamDef): ValueCheck {
  switch (def.type) {
    case 'categorical':
      return { kind: 'choice', def, low: Number.NaN, high: Number.NaN, choices: def.choices };
    case 'int':
      // contains(): an integer in range on the grid; every integer is on a unit grid from an integer.
      return { kind: def.step === 1 && Number.isInteger(def.low) ? 'integer' : 'other', def, low: def.low, high: def.high, choices: [] };
    case 'float':
      return { kind: def.step === undefined ? 'range' : 'other', def, low: def.low, high: def.high, choices: [] };
  }
}

/** The encoded value, or NaN when the parameter cannot take `value` (NaN itself included). */
function encodeChecked(check: ValueCheck, value: ParamValue): number {
  switch (check.kind) {
    case 'range':
      return typeof value === 'number' && value >= check.low && value <= check.high ? value : Number.NaN;
    case 'integer':
      return Number.isInteger(value) && (value as number) >= check.low && (value as number) <= check.high ? (value as number) : Number.NaN;
    case 'choice': {
      // indexOf's comparison (===), without the builtin call.
      const { choices } = check;
      for (let j = 0; j < choices.length; j++) if (choices[j] === value) return j;
      return Number.NaN;
    }
    case 'other': {
      const def = check.def;
      if (def.type === 'categorical' || typeof value !== 'number') return Number.NaN;
      return contains(def, value) ? value : Number.NaN;
    }
  }
}

function fail(t: TrialView, field: string, detail: string): never {
  throw new ConfigError(detail, { field: `trials[${t.number}].${field}` });
}

function describeDef(def: ParamDef): string {
  switch (def.type) {
    case 'categorical':
      return `one of ${JSON.stringify(def.choices)}`;
    case 'int':
      return `an integer in [${def.low}, ${def.high}]${def.step !== 1 ? ` on steps of ${def.step}` : ''}`;
    case 'float':
      return `a number in [${def.low}, ${def.high}]${def.step !== undefined ? ` on steps of ${def.step}` : ''}`;
  }
}
