import { Rng } from '../../core/rng.js';
import type { ParamValue, Params } from '../../core/params.js';
import { stepValue, type ParamDef, type SearchSpace } from '../space/search-space.js';
import type { Sampler, TrialView } from './sampler.js';

/**
 * Independent uniform draws per parameter (log-uniform for log parameters).
 * Each trial's stream is derived from (seed, trial number), so trial 7 gets
 * the same configuration whether or not trials 0-6 were replayed first.
 */
export class RandomSampler implements Sampler {
  readonly name = 'random';

  constructor(private readonly seed: number) {}

  suggest(space: SearchSpace, _history: readonly TrialView[], trialNumber: number): Params {
    const rng = new Rng(`random:${this.seed}:${trialNumber}`);
    const params: Record<string, ParamValue> = {};
    for (const [name, def] of space.params) params[name] = sampleParam(def, rng.derive(name));
    return params;
  }

  capacity(): number {
    return Number.POSITIVE_INFINITY;
  }
}

export function sampleParam(def: ParamDef, rng: Rng): ParamValue {
  switch (def.type) {
    case 'categorical':
      return rng.pick(def.choices);
    case 'int': {
      if (def.log) {
        // As Optuna: log-uniform over the widened range, then rounded to an int.
        const x = Math.exp(rng.uniform(Math.log(def.low - 0.5), Math.log(def.high + 0.5)));
        return clamp(Math.round(x), def.low, def.high);
      }
      const steps = Math.floor((def.high - def.low) / def.step);
      return def.low + def.step * rng.int(0, steps);
    }
    case 'float': {
      if (def.log) return clamp(Math.exp(rng.uniform(Math.log(def.low), Math.log(def.high))), def.low, def.high);
      if (def.step !== undefined) {
        const steps = Math.round((def.high - def.low) / def.step);
        return clamp(stepValue(def.low, def.step, rng.int(0, steps)), def.low, def.high);
      }
      return rng.uniform(def.low, def.high);
    }
  }
}

function clamp(x: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, x));
}
