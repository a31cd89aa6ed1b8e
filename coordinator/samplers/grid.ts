import { ConfigError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import { paramsKey, type ParamValue, type Params } from '../../core/params.js';
import { stepValue, type ParamDef, type SearchSpace } from '../space/search-space.js';
import type { Sampler, TrialView } from './sampler.js';

/**
 * Every combination of the space's values (the paper's protocol: the
 * `sctl-paper` space gives its 720 configurations). Visits them in a
 * seed-shuffled order, as Optuna's GridSampler does, so that a budget smaller
 * than the grid still covers it evenly; skips points already asked.
 */
export class GridSampler implements Sampler {
  readonly name = 'grid';

  constructor(
    private readonly seed: number,
    private readonly shuffle = true,
  ) {}

  suggest(space: SearchSpace, history: readonly TrialView[], _trialNumber: number): Params | null {
    const asked = new Set(history.map((t) => paramsKey(t.params)));
    for (const point of this.order(space)) {
      if (!asked.has(paramsKey(point))) return point;
    }
    return null;
  }

  capacity(space: SearchSpace): number {
    // gridValues rather than cardinality: a continuous float must fail here, not count as Infinity.
    return space.params.reduce((n, [name, def]) => n * gridValues(name, def).length, 1);
  }

  private order(space: SearchSpace): Params[] {
    const points = gridPoints(space);
    return this.shuffle ? new Rng(`grid:${this.seed}`).shuffle(points) : points;
  }
}

/** The cartesian product in declaration order (the last parameter varies fastest). */
export function gridPoints(space: SearchSpace): Params[] {
  let points: Array<Record<string, ParamValue>> = [{}];
  for (const [name, def] of space.params) {
    const values = gridValues(name, def);
    points = points.flatMap((p) => values.map((v) => ({ ...p, [name]: v })));
  }
  return points;
}

export function gridValues(name: string, def: ParamDef): readonly ParamValue[] {
  switch (def.type) {
    case 'categorical':
      return def.choices;
    case 'int': {
      const out: number[] = [];
      for (let v = def.low; v <= def.high; v += def.step) out.push(v);
      return out;
    }
    case 'float': {
      if (def.step === undefined) {
        throw new ConfigError(`float parameter '${name}' has no finite grid: give it a step, or make it categorical`, {
          field: `space.${name}`,
        });
      }
      const n = Math.round((def.high - def.low) / def.step);
      return Array.from({ length: n + 1 }, (_, i) => stepValue(def.low, def.step!, i));
    }
  }
}
