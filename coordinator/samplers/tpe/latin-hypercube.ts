import type { ParamValue } from '../../../core/params.js';
import type { Rng } from '../../../core/rng.js';
import { cardinality, stepValue, type ParamDef } from '../../space/search-space.js';

/**
 * A Latin hypercube of n points in [0, 1)^d: each coordinate takes one value
 * in each of the n strata [i/n, (i+1)/n), strata paired at random across
 * coordinates, jittered within.
 *
 * Why a Latin hypercube and not a scrambled Sobol sequence: the startup batch
 * is 10 trials, and a Sobol sequence is balanced only over powers of two (10
 * points of it stratify nothing exactly), while a Latin hypercube stratifies
 * every parameter's marginal over exactly the startup trials: each depth of
 * 2..6 appears twice in 10 trials, each tenth of a log range once.
 * It needs no direction-number tables either. The npm `sobol` package
 * (1.1.4, the one on the registry) has no scrambling, no types, and reads a
 * 1.9 MB table from disk, so writing this ourselves costs less than it would.
 */
export function latinHypercube(n: number, d: number, rng: Rng): Float64Array[] {
  const points = Array.from({ length: n }, () => new Float64Array(d));
  for (let j = 0; j < d; j++) {
    const strata = rng.shuffle(Array.from({ length: n }, (_, i) => i));
    for (let i = 0; i < n; i++) points[i]![j] = (strata[i]! + rng.float()) / n;
  }
  return points;
}

/**
 * The value of a unit coordinate u for a parameter, by the same quantile
 * map as random sampling (uniform, log-uniform; discrete values as equal
 * slices of [0, 1)), so a stratified u is a stratified parameter.
 */
export function fromUnit(def: ParamDef, u: number): ParamValue {
  switch (def.type) {
    case 'categorical':
      return def.choices[Math.min(def.choices.length - 1, Math.floor(u * def.choices.length))] as ParamValue;
    case 'int':
      if (def.log) {
        // As random sampling (and Optuna): log-uniform over the half-widened range, rounded.
        const x = Math.exp(Math.log(def.low - 0.5) + u * (Math.log(def.high + 0.5) - Math.log(def.low - 0.5)));
        return Math.min(def.high, Math.max(def.low, Math.round(x)));
      }
      return def.low + def.step * Math.min(cardinality(def) - 1, Math.floor(u * cardinality(def)));
    case 'float':
      if (def.log) return Math.min(def.high, Math.max(def.low, Math.exp(Math.log(def.low) + u * (Math.log(def.high) - Math.log(def.low)))));
      if (def.step !== undefined) return stepValue(def.low, def.step, Math.min(cardinality(def) - 1, Math.floor(u * cardinality(def))));
      return def.low + u * (def.high - def.low);
  }
}
