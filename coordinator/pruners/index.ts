import { ConfigError, expected } from '../../core/errors.js';
import { MedianPruner } from './median.js';
import type { Pruner } from './pruner.js';
import { SeedPruner } from './seed-wilcoxon.js';
import { SuccessiveHalvingPruner } from './successive-halving.js';

export type { Pruner, PruneEvent } from './pruner.js';

/** A study's pruner as the sweep file gives it (`pruner: {name: median, warmup_epochs: 3}`), defaults applied. */
export interface PrunerConfig {
  name: PrunerName;
  options: Record<string, number>;
}

export const PRUNER_NAMES = ['median', 'successive-halving', 'seeds'] as const;
export type PrunerName = (typeof PRUNER_NAMES)[number];

interface OptionSpec {
  default: number;
  min: number;
  integer: boolean;
  max?: number;
}

const OPTIONS: Record<PrunerName, Record<string, OptionSpec>> = {
  median: {
    startup_trials: { default: 5, min: 1, integer: true },
    warmup_epochs: { default: 0, min: 0, integer: true },
    interval_epochs: { default: 1, min: 1, integer: true },
  },
  'successive-halving': {
    min_epochs: { default: 1, min: 1, integer: true },
    reduction_factor: { default: 3, min: 2, integer: true },
    min_early_stopping_rate: { default: 0, min: 0, integer: true },
  },
  seeds: {
    alpha: { default: 0.05, min: 0, max: 1, integer: false },
    min_seeds: { default: 5, min: 1, integer: true },
  },
};

/** Checks a pruner mapping and fills its defaults; errors name `${field}.<key>`. */
export function compilePruner(input: unknown, field = 'pruner'): PrunerConfig {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new ConfigError(expected(`a mapping with a pruner name (${PRUNER_NAMES.join(', ')})`, input), { field });
  }
  const { name, ...given } = input as Record<string, unknown>;
  if (!(PRUNER_NAMES as readonly unknown[]).includes(name)) {
    throw new ConfigError(expected(`a pruner name (${PRUNER_NAMES.join(', ')})`, name), { field: `${field}.name` });
  }
  const specs = OPTIONS[name as PrunerName];
  const options: Record<string, number> = {};
  for (const key of Object.keys(given)) {
    if (!(key in specs)) throw new ConfigError(`unknown option '${key}' of the ${String(name)} pruner (allowed: name, ${Object.keys(specs).join(', ')})`, { field: `${field}.${key}` });
  }
  for (const [key, spec] of Object.entries(specs)) {
    const v = given[key] ?? spec.default;
    const what = spec.integer ? 'an integer' : 'a number';
    const range = spec.max === undefined ? `>= ${spec.min}` : `in [${spec.min}, ${spec.max}]`;
    if (typeof v !== 'number' || !Number.isFinite(v) || (spec.integer && !Number.isInteger(v)) || v < spec.min || (spec.max !== undefined && v > spec.max)) {
      throw new ConfigError(expected(`${what} ${range}`, v), { field: `${field}.${key}` });
    }
    options[key] = v;
  }
  return { name: name as PrunerName, options };
}

export function createPruner(config: PrunerConfig): Pruner {
  const o = config.options as Record<string, number>;
  switch (config.name) {
    case 'median':
      return new MedianPruner({ startupTrials: o.startup_trials!, warmupEpochs: o.warmup_epochs!, intervalEpochs: o.interval_epochs! });
    case 'successive-halving':
      return new SuccessiveHalvingPruner({ minEpochs: o.min_epochs!, reductionFactor: o.reduction_factor!, minEarlyStoppingRate: o.min_early_stopping_rate! });
    case 'seeds':
      return new SeedPruner({ alpha: o.alpha!, minSeeds: o.min_seeds! });
  }
}
